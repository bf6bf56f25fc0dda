// guess, accepted: binary search; std::endl flushes each guess.
#include <iostream>
#include <string>

int main() {
    int lo = 1, hi = 1000;
    std::string reply;
    while (true) {
        int g = lo + (hi - lo) / 2;
        std::cout << g << std::endl;
        if (!(std::cin >> reply) || reply == "correct") return 0;
        if (reply == "lower") hi = g - 1; else lo = g + 1;
    }
}
