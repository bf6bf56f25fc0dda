// Writes N lines (default 100) alternately to stdout and stderr, one write(2) each: "out 0", "err 1", "out 2", ...
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100;
    char line[64];
    for (int i = 0; i < n; i++) {
        int fd = i % 2 ? 2 : 1;
        int len = snprintf(line, sizeof line, "%s %d\n", fd == 1 ? "out" : "err", i);
        if (write(fd, line, len) != len) return 1;
    }
    return 0;
}
