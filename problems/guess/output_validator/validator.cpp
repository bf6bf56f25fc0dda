// Interactive output validator for guess (Kattis/ICPC interface):
//   validator input_file answer_file feedback_dir < submission_stdout > submission_stdin
// The secret is read from input_file. Exit 42 = accepted, 43 = wrong answer,
// anything else = judge error. A reason goes to feedback_dir/judgemessage.txt.
//
// The submission's output is untrusted: tokens are read byte by byte with a
// length cap, and a submission that dies (EOF on stdin, EPIPE on stdout) is a
// clean exit 43, never a validator crash.
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

static std::string feedback_dir;

static void message(const char *fmt, ...) {
    std::string path = feedback_dir + "judgemessage.txt";
    FILE *f = std::fopen(path.c_str(), "a");
    if (!f) return;
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(f, fmt, ap);
    va_end(ap);
    std::fclose(f);
}

[[noreturn]] static void verdict(int code, const char *fmt, ...) {
    std::string path = feedback_dir + "judgemessage.txt";
    if (FILE *f = std::fopen(path.c_str(), "a")) {
        va_list ap;
        va_start(ap, fmt);
        std::vfprintf(f, fmt, ap);
        va_end(ap);
        std::fputc('\n', f);
        std::fclose(f);
    }
    std::exit(code);
}

// Next whitespace-separated token of the submission's output; false on EOF.
// Tokens longer than 32 bytes are truncated (they are invalid anyway).
static bool next_token(std::string &tok) {
    tok.clear();
    int c;
    do {
        c = std::getchar();
        if (c == EOF) return false;
    } while (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v');
    while (c != EOF && !(c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v')) {
        if (tok.size() < 33) tok.push_back((char)c);
        c = std::getchar();
    }
    return true;
}

static bool parse_guess(const std::string &t, int &g) {
    if (t.empty() || t.size() > 4) return false;
    int v = 0;
    for (char c : t) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    g = v;
    return true;
}

static void reply(const char *word) {
    // Ignore write errors: if the submission is gone, the next read sees EOF.
    std::printf("%s\n", word);
    std::fflush(stdout);
}

int main(int argc, char **argv) {
    std::signal(SIGPIPE, SIG_IGN);
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s input_file answer_file feedback_dir\n", argv[0]);
        return 1;
    }
    feedback_dir = argv[3];
    if (!feedback_dir.empty() && feedback_dir.back() != '/') feedback_dir += '/';

    FILE *in = std::fopen(argv[1], "r");
    int secret = 0;
    if (!in || std::fscanf(in, "%d", &secret) != 1 || secret < 1 || secret > 1000) {
        std::fprintf(stderr, "judge error: bad input file\n");
        return 1;
    }
    std::fclose(in);
    message("secret number: %d\n", secret);

    const int max_guesses = 10;
    for (int k = 1; k <= max_guesses; k++) {
        std::string tok;
        if (!next_token(tok)) verdict(43, "wrong answer: output ended before guess %d", k);
        int g;
        if (!parse_guess(tok, g)) verdict(43, "wrong answer: guess %d is not an integer", k);
        if (g < 1 || g > 1000) verdict(43, "wrong answer: guess %d (%d) is out of range", k, g);
        message("guess %d: %d\n", k, g);
        if (g == secret) {
            reply("correct");
            // The submission must now stop talking; anything else is wrong.
            if (next_token(tok)) verdict(43, "wrong answer: output after the correct guess");
            verdict(42, "accepted: found %d in %d guesses", secret, k);
        }
        reply(secret < g ? "lower" : "higher");
    }
    verdict(43, "wrong answer: %d guesses used without finding %d", max_guesses, secret);
}
