// Touches MIB MiB in each of PROCS processes (default 1), then holds it HOLD_MS ms: memory is limited per box, not per process.
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? atol(argv[1]) : 64;
    int procs = argc > 2 ? atoi(argv[2]) : 1;
    int hold_ms = argc > 3 ? atoi(argv[3]) : 200;
    for (int i = 1; i < procs; i++)
        if (fork() == 0) break;
    char *p = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    for (size_t off = 0; off < mib << 20; off += 4096) p[off] = 1;
    printf("touched %zu MiB\n", mib);
    fflush(stdout);
    usleep(hold_ms * 1000);
    while (wait(NULL) > 0) {}
    return 0;
}
