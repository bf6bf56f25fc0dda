// Input validator for any-pair. Exit 42 = valid, 43 = invalid.
// "n S\n" (2 <= n <= 20000, |S| <= 2e9), then n integers |a_i| <= 1e9 on one
// line separated by single spaces; at least one pair i != j with a_i + a_j = S.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <vector>

static std::string s;
static size_t pos = 0;

static void fail(const char *why) {
    std::fprintf(stderr, "invalid input at byte %zu: %s\n", pos, why);
    std::exit(43);
}

static long long read_int(long long lo, long long hi) {
    bool neg = false;
    if (pos < s.size() && s[pos] == '-') { neg = true; pos++; }
    size_t d = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') pos++;
    size_t len = pos - d;
    if (len == 0) fail("expected an integer");
    if (len > 12) fail("integer too long");
    if (len > 1 && s[d] == '0') fail("leading zero");
    if (neg && len == 1 && s[d] == '0') fail("negative zero");
    long long v = std::atoll(s.substr(d, len).c_str());
    if (neg) v = -v;
    if (v < lo || v > hi) fail("integer out of range");
    return v;
}

static void expect(char c) {
    if (pos >= s.size() || s[pos] != c) fail(c == '\n' ? "expected newline" : "expected space");
    pos++;
}

int main() {
    int c;
    while ((c = std::getchar()) != EOF) {
        s.push_back((char)c);
        if (s.size() > 1000000) fail("input too long");
    }
    long long n = read_int(2, 20000);
    expect(' ');
    long long S = read_int(-2000000000LL, 2000000000LL);
    expect('\n');
    std::vector<long long> a(n);
    for (long long i = 0; i < n; i++) {
        a[i] = read_int(-1000000000LL, 1000000000LL);
        expect(i + 1 < n ? ' ' : '\n');
    }
    if (pos != s.size()) fail("trailing data");
    std::unordered_set<long long> seen;
    bool found = false;
    for (long long x : a) {
        if (seen.count(S - x)) { found = true; break; }
        seen.insert(x);
    }
    if (!found) fail("no valid pair exists");
    return 42;
}
