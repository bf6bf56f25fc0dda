#!/usr/bin/env python3
# testlib-check, time limit exceeded: shuffles until sorted. Instant for the
# tiny tests, never finishes for n in the thousands.
import random
import sys

data = sys.stdin.buffer.read().split()
n = int(data[0])
a = list(map(int, data[1:1 + n]))
while any(a[i] > a[i + 1] for i in range(n - 1)):
    random.shuffle(a)
print(*a)
