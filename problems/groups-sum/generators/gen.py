#!/usr/bin/env python3
"""Writes data/{sample,secret/group1,secret/group2}/*.{in,ans} for groups-sum."""
import random

random.seed(30_70)
G = 10**9


def answer(a):
    total, prefix = 0, 0
    for i, x in enumerate(sorted(a)):
        total += x * i - prefix
        prefix += x
    return total


def write(name, a):
    with open(f"data/{name}.in", "w") as f:
        f.write(f"{len(a)}\n{' '.join(map(str, a))}\n")
    with open(f"data/{name}.ans", "w") as f:
        f.write(f"{answer(a)}\n")


write("sample/1", [1, 4, 2])
write("sample/2", [5, 5])
write("secret/group1/01-two", [0, 1000])
write("secret/group1/02-random", [random.randint(0, 1000) for _ in range(100)])
write("secret/group1/03-max-answer", [0] * 500 + [1000] * 500)
write("secret/group1/04-random-max-n", [random.randint(0, 1000) for _ in range(1000)])
write("secret/group2/01-small-big-values", [G, 0, 123456789])
write("secret/group2/02-all-equal", [G] * 2000)
write("secret/group2/03-random", [random.randint(0, G) for _ in range(50000)])
write("secret/group2/04-max-answer", [0] * 25000 + [G] * 25000)
write("secret/group2/05-sorted", list(range(0, 2000 * 500000, 500000)))
