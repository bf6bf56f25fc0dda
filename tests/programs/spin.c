// Burns CPU: loops forever, or ITERS iterations when given.
#include <stdlib.h>

int main(int argc, char **argv) {
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : ~0UL;
    for (volatile unsigned long i = 0; i < n; i++) {}
    return 0;
}
