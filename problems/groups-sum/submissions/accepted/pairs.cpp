// groups-sum, accepted: std::sort and prefix sums in int64.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <vector>

int main() {
    std::ios::sync_with_stdio(false);
    int n;
    std::cin >> n;
    std::vector<std::int64_t> a(n);
    for (auto &x : a) std::cin >> x;
    std::sort(a.begin(), a.end());
    std::int64_t total = 0, prefix = 0;
    for (int i = 0; i < n; i++) {
        total += a[i] * i - prefix;
        prefix += a[i];
    }
    std::cout << total << '\n';
    return 0;
}
