/* testlib-check, wrong answer (checker exit 7, "points X" with X < 1): sorts
 * only the first half of the list. The problem is pass-fail, so partial points
 * are not an accepted verdict. Correct whenever the rest happens to be sorted. */
#include <stdio.h>
#include <stdlib.h>

static long long a[20000];

static int cmp(const void *p, const void *q) {
    long long x = *(const long long *)p, y = *(const long long *)q;
    return (x > y) - (x < y);
}

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) return 1;
    for (int i = 0; i < n; i++) scanf("%lld", &a[i]);
    qsort(a, (n + 1) / 2, sizeof a[0], cmp);
    for (int i = 0; i < n; i++) printf("%lld%c", a[i], i + 1 < n ? ' ' : '\n');
    return 0;
}
