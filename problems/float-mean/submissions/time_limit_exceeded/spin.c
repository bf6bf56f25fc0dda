/* float-mean, time limit exceeded: busy loop that never ends. */
#include <stdio.h>

int main(void) {
    volatile unsigned long x = 0;
    for (;;) x++;
    return 0;
}
