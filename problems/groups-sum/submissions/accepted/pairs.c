/* groups-sum, accepted: sort, then a_i contributes a_i*i - (sum of the i
 * smaller ones). 64-bit: the answer is at most 6.25e17. */
#include <stdio.h>
#include <stdlib.h>

static long long a[50000];

static int cmp(const void *p, const void *q) {
    long long x = *(const long long *)p, y = *(const long long *)q;
    return (x > y) - (x < y);
}

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) return 1;
    for (int i = 0; i < n; i++) scanf("%lld", &a[i]);
    qsort(a, n, sizeof a[0], cmp);
    long long total = 0, prefix = 0;
    for (int i = 0; i < n; i++) {
        total += a[i] * i - prefix;
        prefix += a[i];
    }
    printf("%lld\n", total);
    return 0;
}
