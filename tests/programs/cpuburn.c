// Burns MS milliseconds (default 1000) of its own CPU time, whatever the machine's speed, then exits 0.
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    long ms = argc > 1 ? atol(argv[1]) : 1000;
    struct timespec t;
    for (volatile unsigned long i = 0;; i++) {
        if (i % 100000 == 0) {
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
            if (t.tv_sec * 1000L + t.tv_nsec / 1000000 >= ms) return 0;
        }
    }
}
