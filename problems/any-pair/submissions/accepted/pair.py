#!/usr/bin/env python3
# any-pair, accepted: scans from the back and prints the larger index first
# (the output may list the two positions in either order).
import sys

data = sys.stdin.buffer.read().split()
n, S = int(data[0]), int(data[1])
a = list(map(int, data[2:2 + n]))
last = {}
for j in range(n - 1, -1, -1):
    if S - a[j] in last:
        print(last[S - a[j]] + 1, j + 1)
        break
    last.setdefault(a[j], j)
