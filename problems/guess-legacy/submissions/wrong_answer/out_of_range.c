/* guess, wrong answer: starts with the invalid guess 0. */
#include <stdio.h>

int main(void) {
    printf("0\n");
    fflush(stdout);
    char reply[32];
    if (scanf("%31s", reply) != 1) return 0;
    return 0;
}
