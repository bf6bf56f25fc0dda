/* float-mean, accepted: fixed notation with 9 decimals (e.g. "1.500000000"). */
#include <math.h>
#include <stdio.h>

int main(void) {
    int n;
    static long long a[1000];
    if (scanf("%d", &n) != 1) return 1;
    long long sum = 0;
    for (int i = 0; i < n; i++) {
        scanf("%lld", &a[i]);
        sum += a[i];
    }
    double mean = (double)sum / n, sq = 0.0;
    for (int i = 0; i < n; i++) sq += (a[i] - mean) * (a[i] - mean);
    printf("%.9f %.9f\n", mean, sqrt(sq / n));
    return 0;
}
