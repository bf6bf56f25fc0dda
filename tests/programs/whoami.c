// Reports what the box is allowed to be: ids, groups, capabilities, no_new_privs, seccomp, hostname.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1) usleep(atoi(argv[1]) * 1000); // optional: linger ARG ms first
    struct utsname u;
    uname(&u);
    char cwd[4096] = "?";
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "?");
    printf("uid=%u\neuid=%u\ngid=%u\negid=%u\npid=%d\nnodename=%s\ncwd=%s\n",
           getuid(), geteuid(), getgid(), getegid(), getpid(), u.nodename, cwd);
    gid_t groups[256];
    int n = getgroups(256, groups);
    printf("groups=");
    for (int i = 0; i < n; i++) printf("%s%u", i ? "," : "", groups[i]);
    printf("\n");
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) { printf("status=unreadable\n"); return 0; }
    char line[512], key[64], value[256];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%63[^:]:%*[ \t]%255[^\n]", key, value) == 2 &&
            (!strncmp(key, "Cap", 3) || !strcmp(key, "NoNewPrivs") || !strcmp(key, "Seccomp")))
            printf("%s=%s\n", key, value);
    return 0;
}
