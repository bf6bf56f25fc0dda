#!/usr/bin/env python3
# hello-ab, wrong answer: adds in double precision; large sums lose their low
# digits and are printed in exponent notation (e.g. 2e+18).
a, b = map(float, input().split())
s = a + b
print(int(s) if abs(s) < 1e15 else s)
