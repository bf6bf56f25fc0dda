// Sends SIGKILL to every process it may signal (kill(-1)); only the box may die. Talks to the test via files in DIR.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void put(const char *dir, const char *name, const char *text) {
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/.%s", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) { perror(path); exit(98); }
}

static void await(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    for (int i = 0; access(path, F_OK) != 0; i++) {
        if (i > 1000) { fprintf(stderr, "gave up waiting for %s\n", path); exit(99); }
        usleep(10000);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    char text[64];
    snprintf(text, sizeof text, "%u", getuid());
    put(argv[1], "uid", text);
    await(argv[1], "go");
    int r = kill(-1, SIGKILL);
    snprintf(text, sizeof text, "%d %d", r, r ? errno : 0);
    put(argv[1], "killed", text);
    await(argv[1], "go2");
    return 0;
}
