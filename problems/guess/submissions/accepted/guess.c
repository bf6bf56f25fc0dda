/* guess, accepted: binary search with the lower middle; flushes every guess. */
#include <stdio.h>
#include <string.h>

int main(void) {
    int lo = 1, hi = 1000;
    char reply[32];
    for (;;) {
        int g = (lo + hi) / 2;
        printf("%d\n", g);
        fflush(stdout);
        if (scanf("%31s", reply) != 1) return 0;
        if (strcmp(reply, "correct") == 0) return 0;
        if (strcmp(reply, "lower") == 0) hi = g - 1; else lo = g + 1;
    }
}
