/* guess, time limit exceeded (wall clock): a correct binary search that never
 * flushes stdout. Through a pipe, stdout is fully buffered, so the guess never
 * reaches the validator and both sides wait for each other forever. */
#include <stdio.h>
#include <string.h>

int main(void) {
    int lo = 1, hi = 1000;
    char reply[32];
    for (;;) {
        int g = (lo + hi) / 2;
        printf("%d\n", g); /* missing fflush(stdout) */
        if (scanf("%31s", reply) != 1) return 0;
        if (strcmp(reply, "correct") == 0) return 0;
        if (strcmp(reply, "lower") == 0) hi = g - 1; else lo = g + 1;
    }
}
