#!/usr/bin/env python3
# groups-sum, expected score 30: the O(n^2) double loop is fast enough for
# group 1 (n <= 1000) but times out on the large tests of group 2 (n = 50000,
# about 1.25e9 pairs). See submissions.yaml.
import sys

data = sys.stdin.buffer.read().split()
n = int(data[0])
a = list(map(int, data[1:1 + n]))
total = 0
for i in range(n):
    ai = a[i]
    for j in range(i + 1, n):
        total += abs(ai - a[j])
print(total)
