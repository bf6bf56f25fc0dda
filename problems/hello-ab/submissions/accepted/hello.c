/* hello-ab, accepted: 64-bit integers are enough (|a+b| <= 2e18 < 9.2e18). */
#include <stdio.h>

int main(void) {
    long long a, b;
    if (scanf("%lld %lld", &a, &b) != 2) return 1;
    printf("%lld\n", a + b);
    return 0;
}
