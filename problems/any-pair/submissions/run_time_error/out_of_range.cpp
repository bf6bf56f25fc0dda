// any-pair, run time error: vector::at one past the end throws
// std::out_of_range, which is never caught -> std::terminate -> SIGABRT.
#include <cstdio>
#include <vector>

int main() {
    int n;
    long long S;
    if (std::scanf("%d %lld", &n, &S) != 2) return 1;
    std::vector<long long> a(n);
    for (auto &x : a) std::scanf("%lld", &x);
    long long total = 0;
    for (int i = 0; i <= n; i++) total += a.at(i);
    std::printf("%lld\n", total);
    return 0;
}
