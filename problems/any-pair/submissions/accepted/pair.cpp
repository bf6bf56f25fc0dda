// any-pair, accepted: hash map from value to first position; prints the
// earliest-ending pair (the same pair as the answer file).
#include <cstdio>
#include <unordered_map>
#include <vector>

int main() {
    int n;
    long long S;
    if (std::scanf("%d %lld", &n, &S) != 2) return 1;
    std::vector<long long> a(n);
    for (auto &x : a) std::scanf("%lld", &x);
    std::unordered_map<long long, int> first;
    for (int j = 0; j < n; j++) {
        auto it = first.find(S - a[j]);
        if (it != first.end()) {
            std::printf("%d %d\n", it->second + 1, j + 1);
            return 0;
        }
        first.emplace(a[j], j);
    }
    return 0;
}
