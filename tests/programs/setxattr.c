// setxattr PATH NAME VALUE: sets an extended attribute (the VM test marks a cgroup as systemd
// does for Delegate=yes: trusted.delegate=1; busybox has no setfattr). Not a box program.
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: setxattr PATH NAME VALUE\n");
        return 2;
    }
    if (setxattr(argv[1], argv[2], argv[3], strlen(argv[3]), 0) != 0) {
        perror("setxattr");
        return 1;
    }
    return 0;
}
