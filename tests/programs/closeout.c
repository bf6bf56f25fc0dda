// Writes a line, closes its stdout (and stderr with "both"), then lingers MS ms (default 300) and exits 0.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long ms = argc > 1 ? atol(argv[1]) : 300;
    static const char line[] = "before-close\n";
    if (write(1, line, sizeof line - 1) != (ssize_t)(sizeof line - 1)) return 1;
    if (close(1) != 0) return 2;
    if (argc > 2 && !strcmp(argv[2], "both")) close(2);
    struct timespec t = {ms / 1000, ms % 1000 * 1000000L};
    nanosleep(&t, NULL);
    return 0;
}
