// testlib-check, wrong answer (checker exit 1): sorted, but every number is
// off by one, so the output is not a permutation of the input.
#include <algorithm>
#include <iostream>
#include <vector>

int main() {
    int n;
    std::cin >> n;
    std::vector<long long> a(n);
    for (auto &x : a) std::cin >> x;
    std::sort(a.begin(), a.end());
    for (auto x : a) std::cout << x + 1 << ' ';
    std::cout << '\n';
    return 0;
}
