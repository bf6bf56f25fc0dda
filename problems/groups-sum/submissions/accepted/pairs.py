#!/usr/bin/env python3
# groups-sum, accepted (model solution): sort and prefix sums.
import sys

data = sys.stdin.buffer.read().split()
n = int(data[0])
a = sorted(map(int, data[1:1 + n]))
total = prefix = 0
for i, x in enumerate(a):
    total += x * i - prefix
    prefix += x
print(total)
