/* hello-ab, run time error: dereferences a null pointer (SIGSEGV). */
#include <stdio.h>

int main(void) {
    long long a, b;
    if (scanf("%lld %lld", &a, &b) != 2) return 1;
    volatile long long *p = NULL;
    *p = a + b;
    printf("%lld\n", a + b);
    return 0;
}
