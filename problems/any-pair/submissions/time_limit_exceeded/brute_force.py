#!/usr/bin/env python3
# any-pair, time limit exceeded: tries all pairs, O(n^2). Fast on tests whose
# first pair is early, hopeless on secret/08-pair-at-end (n = 20000, the only
# pair is the last two positions: about 2*10^8 checks in Python).
import sys

data = sys.stdin.buffer.read().split()
n, S = int(data[0]), int(data[1])
a = list(map(int, data[2:2 + n]))
for i in range(n):
    ai = a[i]
    for j in range(i + 1, n):
        if ai + a[j] == S:
            print(i + 1, j + 1)
            sys.exit(0)
