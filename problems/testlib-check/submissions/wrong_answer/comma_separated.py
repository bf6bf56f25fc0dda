#!/usr/bin/env python3
# testlib-check, wrong answer (checker exit 2, presentation error): separates
# the numbers with commas, so the output is not a list of integers. Correct
# only when n = 1 (no comma is printed).
import sys

data = sys.stdin.buffer.read().split()
n = int(data[0])
print(",".join(map(str, sorted(map(int, data[1:1 + n])))))
