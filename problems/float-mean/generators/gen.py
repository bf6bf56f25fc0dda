#!/usr/bin/env python3
"""Writes data/{sample,secret}/*.{in,ans} for float-mean (deterministic)."""
import random
from decimal import Decimal, getcontext
from fractions import Fraction

getcontext().prec = 40
random.seed(2025_09)
M = 10**6


def answer(a):
    n = len(a)
    mean = Fraction(sum(a), n)
    var = sum((Fraction(x) - mean) ** 2 for x in a) / n
    sd = (Decimal(var.numerator) / Decimal(var.denominator)).sqrt()
    m = Decimal(mean.numerator) / Decimal(mean.denominator)
    return f"{m:.15g} {sd:.15g}\n"


def write(name, a):
    with open(f"data/{name}.in", "w") as f:
        f.write(f"{len(a)}\n{' '.join(map(str, a))}\n")
    with open(f"data/{name}.ans", "w") as f:
        f.write(answer(a))


write("sample/1", [1, 2])
write("sample/2", [1, 2, 4])
write("secret/01-single", [-42])
write("secret/02-thirds", [0, 0, 1])
write("secret/03-all-equal-max", [M] * 1000)
write("secret/04-alternating", [M, -M] * 500)
write("secret/05-negative", [-M, -M + 1, -M + 3])
write("secret/06-random-small", [random.randint(-10, 10) for _ in range(7)])
write("secret/07-random-large", [random.randint(-M, M) for _ in range(1000)])
write("secret/08-random-positive", [random.randint(0, M) for _ in range(999)])
write("secret/09-one-outlier", [0] * 999 + [M])
write("secret/10-sevenths", [1, 2, 3, 4, 5, 6, 8])
