#!/usr/bin/env python3
# float-mean, accepted: Python's repr of floats (e.g. "1.5 0.5").
import math

n = int(input())
a = list(map(int, input().split()))
mean = sum(a) / n
sd = math.sqrt(sum((x - mean) ** 2 for x in a) / n)
print(mean, sd)
