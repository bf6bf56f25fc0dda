#!/usr/bin/env python3
# any-pair, run time error: wrongly assumes n <= 1000; the failed assertion
# exits with a traceback and status 1 on the large tests (small ones pass).
import sys

data = sys.stdin.buffer.read().split()
n, S = int(data[0]), int(data[1])
assert n <= 1000, "n too large"
a = list(map(int, data[2:2 + n]))
seen = {}
for j, x in enumerate(a):
    if S - x in seen:
        print(seen[S - x] + 1, j + 1)
        break
    seen.setdefault(x, j)
