// Hides its CPU use in a child process while the parent only waits.
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    if (fork() == 0)
        for (volatile unsigned long i = 0;; i++) {}
    wait(NULL);
    return 0;
}
