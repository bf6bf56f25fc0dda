// Lists every process visible in /proc: the box must not see the host's processes.
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    printf("self=%d\n", getpid());
    DIR *d = opendir("/proc");
    if (!d) { perror("opendir /proc"); return 1; }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        char path[300], comm[64] = "?";
        snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f) { if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = 0; fclose(f); }
        printf("proc %s %s\n", e->d_name, comm);
    }
    return 0;
}
