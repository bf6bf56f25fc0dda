// testlib-check, run time error: unbounded recursion. Each frame pins 4 KiB
// of stack, so the box runs out of memory (or stack) and the process dies.
#include <cstdio>
#include <cstring>

static long long depth(long long k) {
    volatile char frame[4096];
    std::memset((char *)frame, (int)(k & 0xff), sizeof frame);
    return depth(k + 1) + frame[k % 4096];
}

int main() {
    int n;
    if (std::scanf("%d", &n) != 1) return 1;
    std::printf("%lld\n", depth(n));
    return 0;
}
