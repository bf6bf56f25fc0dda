#!/usr/bin/env python3
# hello-ab, time limit exceeded: computes a+b by counting in steps of one.
# Fine for the tiny samples, hopeless for |a|,|b| up to 1e18.
a, b = map(int, input().split())
s = a
step = 1 if b >= 0 else -1
for _ in range(abs(b)):
    s += step
print(s)
