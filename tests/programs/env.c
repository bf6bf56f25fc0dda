// Prints its environment and working directory: nothing of the host's may leak in.
#include <stdio.h>
#include <unistd.h>

extern char **environ;

int main(void) {
    char cwd[4096];
    printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
    for (char **e = environ; *e; e++) printf("env %s\n", *e);
    return 0;
}
