// float-mean, run time error: allocates and touches memory without bound, far
// beyond the 256 MiB limit. The 2025-09 format has no separate memory-limit
// verdict: exceeding the memory limit is a run-time error.
#include <cstdio>
#include <cstring>
#include <vector>

int main() {
    std::vector<char *> blocks;
    for (;;) {
        char *p = new char[16 << 20];
        std::memset(p, 1, 16 << 20);  // touch every page so it is really charged
        blocks.push_back(p);
    }
    std::printf("%zu\n", blocks.size());
    return 0;
}
