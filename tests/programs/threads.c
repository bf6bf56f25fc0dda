// Burns CPU on N threads at once (default 4), so CPU time grows faster than wall time.
#include <pthread.h>
#include <stdlib.h>

static void *burn(void *arg) {
    (void)arg;
    for (volatile unsigned long i = 0;; i++) {}
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 4;
    pthread_t t;
    for (int i = 1; i < n; i++) pthread_create(&t, NULL, burn, NULL);
    burn(NULL);
}
