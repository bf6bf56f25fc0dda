// Input validator for hello-ab: exactly one line "a b\n" with
// -10^18 <= a, b <= 10^18, no leading zeros, no "-0". Exit 42 = valid, 43 = invalid.
#include <cstdio>
#include <cstdlib>
#include <string>

static void fail(const char *why) {
    std::fprintf(stderr, "invalid input: %s\n", why);
    std::exit(43);
}

// Parses an integer token starting at s[pos]; advances pos.
static long long read_int(const std::string &s, size_t &pos) {
    size_t start = pos;
    bool neg = false;
    if (pos < s.size() && s[pos] == '-') { neg = true; pos++; }
    size_t digits = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') pos++;
    size_t len = pos - digits;
    if (len == 0) fail("expected an integer");
    if (len > 19) fail("integer too long");
    if (len > 1 && s[digits] == '0') fail("leading zero");
    if (neg && len == 1 && s[digits] == '0') fail("negative zero");
    unsigned long long v = 0;
    for (size_t i = digits; i < pos; i++) v = v * 10 + (unsigned long long)(s[i] - '0');
    if (v > 1000000000000000000ULL) fail("integer out of range");
    (void)start;
    return neg ? -(long long)v : (long long)v;
}

int main() {
    std::string s;
    int c;
    while ((c = std::getchar()) != EOF) {
        s.push_back((char)c);
        if (s.size() > 1000) fail("input too long");
    }
    size_t pos = 0;
    read_int(s, pos);
    if (pos >= s.size() || s[pos] != ' ') fail("expected a single space");
    pos++;
    read_int(s, pos);
    if (pos >= s.size() || s[pos] != '\n') fail("expected end of line");
    pos++;
    if (pos != s.size()) fail("trailing data after the first line");
    return 42;
}
