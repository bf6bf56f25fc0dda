/* groups-sum, wrong answer, expected score 0: sums a_i - a_j without the
 * absolute value (unsorted), which is wrong whenever the values differ. */
#include <stdio.h>

static long long a[50000];

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) return 1;
    for (int i = 0; i < n; i++) scanf("%lld", &a[i]);
    long long total = 0, prefix = 0;
    for (int i = 0; i < n; i++) {
        total += prefix - a[i] * i;  /* sum over j < i of (a_j - a_i) */
        prefix += a[i];
    }
    printf("%lld\n", total);
    return 0;
}
