// Writes BYTES bytes to stdout, to overrun the output limit.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long long left = argc > 1 ? atoll(argv[1]) : 1LL << 30;
    static char buf[65536];
    memset(buf, 'x', sizeof buf);
    while (left > 0) {
        ssize_t n = write(1, buf, left < (long long)sizeof buf ? (size_t)left : sizeof buf);
        if (n <= 0) { perror("write"); return 1; }
        left -= n;
    }
    return 0;
}
