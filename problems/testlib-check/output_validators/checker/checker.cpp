// testlib-style checker for testlib-check, written WITHOUT testlib.h (which is
// not available here) but honouring the Codeforces/Polygon checker interface:
//
//   checker input_file output_file answer_file
//
// The team output is the file given as the 2nd argument (not stdin). The
// verdict is the exit code, as in testlib:
//   0 OK    the output is the sorted list
//   1 WA    integers of the right count, but not a permutation of the input
//   2 PE    the output cannot be read as exactly n integers
//   3 FAIL  the input or answer file is broken (judge error)
//   7 POINTS the right numbers, only partly sorted: "points X" is printed on
//            stdout and (with a message, as testlib does) on stderr, where
//            X in [0, 1) is the fraction of adjacent pairs in order.
// A one-line human-readable message goes to stderr in every case.
//
// The team output is untrusted: it is read with a size cap and parsed by hand
// so that garbage never crashes the checker.
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

enum { OK = 0, WA = 1, PE = 2, FAIL = 3, POINTS = 7 };

[[noreturn]] static void quit(int code, const char *fmt, ...) {
    static const char *names[] = {"ok", "wrong answer", "wrong output format", "FAIL"};
    va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "%s ", code <= FAIL ? names[code] : "points");
    std::vfprintf(stderr, fmt, ap);
    std::fprintf(stderr, "\n");
    va_end(ap);
    std::exit(code);
}

[[noreturn]] static void quit_points(double points, const char *why) {
    std::printf("points %.4f\n", points);
    std::fflush(stdout);
    std::fprintf(stderr, "points %.4f %s\n", points, why);
    std::exit(POINTS);
}

static bool read_file(const char *path, size_t cap, std::string &out) {
    FILE *f = std::fopen(path, "rb");
    if (!f) return false;
    char buf[1 << 16];
    size_t k;
    while ((k = std::fread(buf, 1, sizeof buf, f)) > 0) {
        out.append(buf, k);
        if (out.size() > cap) break;
    }
    std::fclose(f);
    return true;
}

static std::vector<std::string> tokens(const std::string &s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            if (!cur.empty()) out.push_back(cur), cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

static bool parse_ll(const std::string &t, long long &v) {
    size_t i = 0;
    bool neg = false;
    if (i < t.size() && t[i] == '-') neg = true, i++;
    if (i == t.size() || t.size() - i > 18) return false;
    long long x = 0;
    for (; i < t.size(); i++) {
        if (t[i] < '0' || t[i] > '9') return false;
        x = x * 10 + (t[i] - '0');
    }
    v = neg ? -x : x;
    return true;
}

// Reads exactly `count` integers (or, with count < 0, "n" then n integers).
static std::vector<long long> judge_ints(const char *path, long long count, const char *what) {
    std::string s;
    if (!read_file(path, 64u << 20, s)) quit(FAIL, "cannot open the %s file %s", what, path);
    std::vector<std::string> t = tokens(s);
    size_t start = 0;
    if (count < 0) {
        if (t.empty() || !parse_ll(t[0], count) || count < 1) quit(FAIL, "bad n in the %s file", what);
        start = 1;
    }
    if ((long long)(t.size() - start) != count) quit(FAIL, "the %s file has the wrong length", what);
    std::vector<long long> v(count);
    for (long long i = 0; i < count; i++)
        if (!parse_ll(t[start + i], v[i])) quit(FAIL, "non-integer in the %s file", what);
    return v;
}

int main(int argc, char **argv) {
    if (argc < 4) quit(FAIL, "usage: %s input_file output_file answer_file", argv[0]);
    std::vector<long long> a = judge_ints(argv[1], -1, "input");
    const long long n = (long long)a.size();
    std::vector<long long> ans = judge_ints(argv[3], n, "answer");
    std::vector<long long> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    if (ans != sorted) quit(FAIL, "the answer file is not the sorted input");

    std::string out;
    if (!read_file(argv[2], 4u << 20, out)) quit(FAIL, "cannot open the output file %s", argv[2]);
    if (out.size() > (4u << 20)) quit(PE, "output is far too long");
    std::vector<std::string> t = tokens(out);
    if ((long long)t.size() != n) quit(PE, "expected %lld integers, found %zu tokens", n, t.size());
    std::vector<long long> got(n);
    for (long long i = 0; i < n; i++)
        if (!parse_ll(t[i], got[i])) quit(PE, "token %lld is not an integer", i + 1);

    if (got == ans) quit(OK, "%lld numbers sorted", n);
    std::vector<long long> multiset = got;
    std::sort(multiset.begin(), multiset.end());
    if (multiset != sorted) quit(WA, "the output is not a permutation of the input");
    long long in_order = 0;
    for (long long i = 0; i + 1 < n; i++) in_order += got[i] <= got[i + 1];
    double points = (double)in_order / (double)(n - 1);  // n >= 2 here, and < 1
    quit_points(points, "right numbers, but not fully sorted");
}
