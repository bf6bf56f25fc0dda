// any-pair, wrong answer: finds a correct pair but prints the values instead
// of the positions.
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
            std::printf("%lld %lld\n", a[it->second], a[j]);
            return 0;
        }
        first.emplace(a[j], j);
    }
    return 0;
}
