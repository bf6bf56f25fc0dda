#!/usr/bin/env python3
# float-mean, wrong answer: sample standard deviation (divides by n-1) instead
# of the population one (guards n == 1 so it never crashes).
import math

n = int(input())
a = list(map(int, input().split()))
mean = sum(a) / n
sd = math.sqrt(sum((x - mean) ** 2 for x in a) / max(n - 1, 1))
print(f"{mean:.10f} {sd:.10f}")
