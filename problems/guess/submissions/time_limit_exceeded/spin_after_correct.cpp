// guess, time limit exceeded (CPU): a correct binary search that, after the
// reply "correct", spins forever instead of exiting. The validator has accepted
// and waits for the end of the output, so only the time limit stops this.
#include <iostream>
#include <string>

int main() {
    int lo = 1, hi = 1000;
    std::string reply;
    while (true) {
        int g = (lo + hi) / 2;
        std::cout << g << std::endl;
        if (!(std::cin >> reply)) return 0;
        if (reply == "lower") hi = g - 1;
        else if (reply == "higher") lo = g + 1;
        else break;
    }
    volatile unsigned long long spin = 0;
    for (;;) spin = spin + 1;
}
