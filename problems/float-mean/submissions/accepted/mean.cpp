// float-mean, accepted: shortest round-trip style via setprecision(17) in the
// default float format (prints "1.5 0.5" or "2.3333333333333335 ...").
#include <cmath>
#include <iomanip>
#include <iostream>
#include <vector>

int main() {
    int n;
    std::cin >> n;
    std::vector<long long> a(n);
    long long sum = 0;
    for (auto &x : a) { std::cin >> x; sum += x; }
    double mean = static_cast<double>(sum) / n, sq = 0;
    for (auto x : a) sq += (x - mean) * (x - mean);
    std::cout << std::setprecision(17) << mean << ' ' << std::sqrt(sq / n) << '\n';
    return 0;
}
