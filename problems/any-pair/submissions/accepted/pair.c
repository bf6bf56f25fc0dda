/* any-pair, accepted: sorts positions by value and walks two pointers, which
 * usually finds a different pair than the answer file. */
#include <stdio.h>
#include <stdlib.h>

static long long a[20000];
static int idx[20000];

static int cmp(const void *p, const void *q) {
    long long x = a[*(const int *)p], y = a[*(const int *)q];
    return (x > y) - (x < y);
}

int main(void) {
    int n;
    long long S;
    if (scanf("%d %lld", &n, &S) != 2) return 1;
    for (int i = 0; i < n; i++) {
        scanf("%lld", &a[i]);
        idx[i] = i;
    }
    qsort(idx, n, sizeof idx[0], cmp);
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        long long s = a[idx[lo]] + a[idx[hi]];
        if (s == S) {
            printf("%d %d\n", idx[lo] + 1, idx[hi] + 1);
            return 0;
        }
        if (s < S) lo++; else hi--;
    }
    return 0;
}
