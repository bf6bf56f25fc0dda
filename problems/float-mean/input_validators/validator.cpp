// Input validator for float-mean. Exit 42 = valid, 43 = invalid.
// Format: "n\n" (1 <= n <= 1000), then n integers in [-1e6, 1e6] separated by
// single spaces and terminated by "\n"; nothing else.
#include <cstdio>
#include <cstdlib>
#include <string>

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
        if (s.size() > 100000) fail("input too long");
    }
    long long n = read_int(1, 1000);
    expect('\n');
    for (long long i = 0; i < n; i++) {
        read_int(-1000000, 1000000);
        expect(i + 1 < n ? ' ' : '\n');
    }
    if (pos != s.size()) fail("trailing data");
    return 42;
}
