// float-mean, wrong answer: only two decimals, so e.g. 1/3 -> 0.33 is off by
// more than 1e-6 (passes the first sample, fails many others).
#include <cmath>
#include <cstdio>
#include <vector>

int main() {
    int n;
    if (std::scanf("%d", &n) != 1) return 1;
    std::vector<long long> a(n);
    long long sum = 0;
    for (auto &x : a) { std::scanf("%lld", &x); sum += x; }
    double mean = static_cast<double>(sum) / n, sq = 0;
    for (auto x : a) sq += (x - mean) * (x - mean);
    std::printf("%.2f %.2f\n", mean, std::sqrt(sq / n));
    return 0;
}
