// Looks for a way out: lists network interfaces and connects to a TCP port on 127.0.0.1 (argv[1]).
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    alarm(5);
    FILE *f = fopen("/proc/net/dev", "r");
    char line[512], name[64];
    if (!f) printf("iface-error errno=%d\n", errno);
    for (int n = 0; f && fgets(line, sizeof line, f); n++)
        if (n >= 2 && sscanf(line, " %63[^:]:", name) == 1) printf("iface %s\n", name);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(argc > 1 ? atoi(argv[1]) : 1)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0) printf("connect errno=%d\n", errno);
    else if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) printf("connect ok\n");
    else printf("connect errno=%d\n", errno);
    return 0;
}
