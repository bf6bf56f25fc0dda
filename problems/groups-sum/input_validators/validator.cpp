// Input validator for groups-sum. Exit 42 = valid, 43 = invalid.
// "n\n" then n integers separated by single spaces on one line.
// Full constraints: 2 <= n <= 50000, 0 <= a_i <= 1e9.
// With the argument "small" (input_validator_args of secret/group1):
// n <= 1000 and a_i <= 1000.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

static std::string s;
static size_t pos = 0;

static void fail(const char *why) {
    std::fprintf(stderr, "invalid input at byte %zu: %s\n", pos, why);
    std::exit(43);
}

static long long read_int(long long lo, long long hi) {
    size_t d = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') pos++;
    size_t len = pos - d;
    if (len == 0) fail("expected a non-negative integer");
    if (len > 12) fail("integer too long");
    if (len > 1 && s[d] == '0') fail("leading zero");
    long long v = std::atoll(s.substr(d, len).c_str());
    if (v < lo || v > hi) fail("integer out of range");
    return v;
}

static void expect(char c) {
    if (pos >= s.size() || s[pos] != c) fail(c == '\n' ? "expected newline" : "expected space");
    pos++;
}

int main(int argc, char **argv) {
    bool small = false;
    for (int i = 1; i < argc; i++)
        if (std::strcmp(argv[i], "small") == 0) small = true;
    int c;
    while ((c = std::getchar()) != EOF) {
        s.push_back((char)c);
        if (s.size() > 1000000) fail("input too long");
    }
    long long n = read_int(2, small ? 1000 : 50000);
    expect('\n');
    for (long long i = 0; i < n; i++) {
        read_int(0, small ? 1000 : 1000000000LL);
        expect(i + 1 < n ? ' ' : '\n');
    }
    if (pos != s.size()) fail("trailing data");
    return 42;
}
