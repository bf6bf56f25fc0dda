// Probes the file system: for each "OP PATH" pair (w=create+write, r=read, s=lstat, m=mkdir) prints the outcome.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int probe(char op, const char *path) {
    struct stat st;
    char c;
    int fd;
    switch (op) {
    case 'w':
        if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) return -1;
        if (write(fd, "probe\n", 6) != 6) return -1;
        return close(fd);
    case 'r':
        if ((fd = open(path, O_RDONLY)) < 0) return -1;
        if (read(fd, &c, 1) < 0) return -1;
        return close(fd);
    case 's': return lstat(path, &st);
    case 'm': return mkdir(path, 0755);
    }
    errno = EINVAL;
    return -1;
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (probe(argv[i][0], argv[i + 1]) == 0) printf("%s %s ok\n", argv[i], argv[i + 1]);
        else printf("%s %s errno=%d\n", argv[i], argv[i + 1], errno);
    }
    return 0;
}
