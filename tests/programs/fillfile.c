// Writes MIB MiB into PATH (e.g. on the box's tmpfs) and says how far it got.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int mib = atoi(argv[2]);
    if (argc > 3 && !strcmp(argv[3], "nosigxfsz")) signal(SIGXFSZ, SIG_IGN); // see EFBIG instead of dying
    static char buf[1 << 20];
    memset(buf, 'f', sizeof buf);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { printf("error after 0 MiB: errno=%d\n", errno); return 1; }
    for (int i = 0; i < mib; i++) {
        for (size_t done = 0; done < sizeof buf;) {
            ssize_t n = write(fd, buf + done, sizeof buf - done);
            if (n <= 0) { printf("error after %d MiB: errno=%d\n", i, n < 0 ? errno : 0); return 1; }
            done += n;
        }
    }
    if (close(fd) != 0) { printf("error at close: errno=%d\n", errno); return 1; }
    printf("wrote %d MiB\n", mib);
    return 0;
}
