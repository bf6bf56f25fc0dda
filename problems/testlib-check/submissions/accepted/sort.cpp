// testlib-check, accepted: std::sort, one number per line (any whitespace is fine).
#include <algorithm>
#include <iostream>
#include <vector>

int main() {
    std::ios::sync_with_stdio(false);
    int n;
    std::cin >> n;
    std::vector<long long> a(n);
    for (auto &x : a) std::cin >> x;
    std::sort(a.begin(), a.end());
    for (auto x : a) std::cout << x << '\n';
    return 0;
}
