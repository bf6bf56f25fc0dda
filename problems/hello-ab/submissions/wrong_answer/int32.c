/* hello-ab, wrong answer: truncates the sum to 32 bits (gcc wraps modulo 2^32),
 * so every test whose sum does not fit in an int prints a wrong number. */
#include <stdio.h>

int main(void) {
    long long a, b;
    if (scanf("%lld %lld", &a, &b) != 2) return 1;
    int sum = (int)(a + b);
    printf("%d\n", sum);
    return 0;
}
