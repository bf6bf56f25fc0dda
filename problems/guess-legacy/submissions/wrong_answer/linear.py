#!/usr/bin/env python3
# guess, wrong answer: tries 1, 2, 3, ... and so needs more than 10 guesses
# unless the secret is at most 10.
import sys

for g in range(1, 1001):
    print(g, flush=True)
    if sys.stdin.readline().strip() != "higher":
        break
