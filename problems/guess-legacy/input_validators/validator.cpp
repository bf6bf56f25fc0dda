// Input validator for guess: one line with the secret, an integer 1..1000.
// Exit 42 = valid, 43 = invalid.
#include <cstdio>
#include <string>

int main() {
    std::string s;
    int c;
    while ((c = std::getchar()) != EOF && s.size() < 100) s.push_back((char)c);
    if (s.size() < 2 || s.back() != '\n') return 43;
    s.pop_back();
    if (s.size() > 4 || s[0] == '0') return 43;
    int v = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9') return 43;
        v = v * 10 + (ch - '0');
    }
    return (v >= 1 && v <= 1000) ? 42 : 43;
}
