// Ends in a chosen way: "exit N", "signal N" (raise), "abort", or "segv" (a real invalid write).
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc > 2 && !strcmp(argv[1], "exit")) return atoi(argv[2]);
    if (argc > 2 && !strcmp(argv[1], "signal")) raise(atoi(argv[2]));
    if (argc > 1 && !strcmp(argv[1], "abort")) abort();
    volatile int *volatile nowhere = NULL;
    if (argc > 1 && !strcmp(argv[1], "segv")) *nowhere = 1;
    return 100;
}
