// Output validator for any-pair (Kattis interface):
//   validator input_file answer_file feedback_dir [args] < team_output
// Exit 42 = accepted, 43 = wrong answer; any other code = judge error (only
// for a broken input/answer file). The reason goes to feedback_dir/judgemessage.txt.
//
// The team output is untrusted: it is read as raw bytes with a size cap and
// parsed by hand, so garbage (binary data, huge numbers, missing or extra
// tokens, NUL bytes, no newline) is always a clean exit 43, never a crash.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static std::string feedback_dir;

static void message(const char *fmt, ...) {
    std::string path = feedback_dir + "judgemessage.txt";
    FILE *f = std::fopen(path.c_str(), "a");
    va_list ap;
    va_start(ap, fmt);
    if (f) {
        std::vfprintf(f, fmt, ap);
        std::fclose(f);
    }
    va_end(ap);
}

[[noreturn]] static void wrong_answer(const char *why) {
    message("wrong answer: %s\n", why);
    std::exit(43);
}

[[noreturn]] static void judge_error(const char *why) {
    message("judge error: %s\n", why);
    std::fprintf(stderr, "judge error: %s\n", why);
    std::exit(1);
}

// Splits raw bytes on ASCII whitespace.
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

// Parses a decimal integer with optional sign and at most 18 digits.
static bool parse_ll(const std::string &t, long long &v) {
    size_t i = 0;
    bool neg = false;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) neg = t[i] == '-', i++;
    if (i == t.size() || t.size() - i > 18) return false;
    long long x = 0;
    for (; i < t.size(); i++) {
        if (t[i] < '0' || t[i] > '9') return false;
        x = x * 10 + (t[i] - '0');
    }
    v = neg ? -x : x;
    return true;
}

static std::string read_file(const char *path, size_t cap, bool *too_big) {
    FILE *f = std::fopen(path, "rb");
    if (!f) judge_error("cannot open a judge file");
    std::string s;
    char buf[1 << 16];
    size_t k;
    *too_big = false;
    while ((k = std::fread(buf, 1, sizeof buf, f)) > 0) {
        s.append(buf, k);
        if (s.size() > cap) { *too_big = true; break; }
    }
    std::fclose(f);
    return s;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s input_file answer_file feedback_dir < team_output\n", argv[0]);
        return 1;
    }
    feedback_dir = argv[3];
    if (!feedback_dir.empty() && feedback_dir.back() != '/') feedback_dir += '/';

    // The judge's input file is trusted but still checked.
    bool big;
    std::vector<std::string> in = tokens(read_file(argv[1], 64u << 20, &big));
    long long n, S;
    if (in.size() < 2 || !parse_ll(in[0], n) || !parse_ll(in[1], S) || n < 2 ||
        (long long)in.size() != n + 2)
        judge_error("malformed input file");
    std::vector<long long> a(n);
    for (long long i = 0; i < n; i++)
        if (!parse_ll(in[i + 2], a[i])) judge_error("malformed input file");

    // Read the team output (stdin) with a cap: anything huge is wrong anyway.
    std::string out;
    char buf[1 << 16];
    size_t k;
    while ((k = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
        out.append(buf, k);
        if (out.size() > 4096) wrong_answer("output is far too long");
    }
    std::vector<std::string> t = tokens(out);
    if (t.size() != 2) {
        char why[128];
        std::snprintf(why, sizeof why, "expected exactly 2 integers, got %zu tokens", t.size());
        wrong_answer(why);
    }
    long long i, j;
    if (!parse_ll(t[0], i) || !parse_ll(t[1], j)) wrong_answer("output tokens are not integers");
    if (i < 1 || i > n || j < 1 || j > n) wrong_answer("index out of range");
    if (i == j) wrong_answer("the two indices must be different");
    if (a[i - 1] + a[j - 1] != S) {
        char why[160];
        std::snprintf(why, sizeof why, "a[%lld] + a[%lld] = %lld, expected %lld", i, j,
                      a[i - 1] + a[j - 1], S);
        wrong_answer(why);
    }

    // Sanity check of the judge's own answer (never affects a correct team answer).
    std::vector<std::string> ans = tokens(read_file(argv[2], 4096, &big));
    long long x, y;
    if (ans.size() != 2 || !parse_ll(ans[0], x) || !parse_ll(ans[1], y) || x < 1 || x > n ||
        y < 1 || y > n || x == y || a[x - 1] + a[y - 1] != S)
        judge_error("answer file does not hold a valid pair");

    message("accepted: a[%lld] + a[%lld] = %lld\n", i, j, S);
    return 42;
}
