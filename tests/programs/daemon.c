// Escapes its parent the classic way (fork, setsid, fork) and lingers forever, ignoring polite signals and keeping stdout open.
#include <signal.h>
#include <unistd.h>

int main(void) {
    if (fork() != 0) return 0;
    setsid();
    if (fork() != 0) _exit(0);
    signal(SIGHUP, SIG_IGN), signal(SIGTERM, SIG_IGN), signal(SIGINT, SIG_IGN);
    for (;;) pause();
}
