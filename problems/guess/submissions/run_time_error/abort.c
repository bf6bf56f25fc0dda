/* guess, run time error: a correct binary search that treats the reply
 * "correct" as an unexpected word and calls abort() (SIGABRT).
 * It crashes only after the validator has accepted, so the verdict does not
 * depend on whether the submission or the validator is seen to finish first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    int lo = 1, hi = 1000;
    char reply[32];
    for (;;) {
        int g = (lo + hi) / 2;
        printf("%d\n", g);
        fflush(stdout);
        if (scanf("%31s", reply) != 1) return 0;
        if (strcmp(reply, "lower") == 0) hi = g - 1;
        else if (strcmp(reply, "higher") == 0) lo = g + 1;
        else abort();  /* "correct" ends up here */
    }
}
