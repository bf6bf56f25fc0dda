#!/usr/bin/env python3
# guess, accepted: binary search with the upper middle (still <= 10 guesses).
import sys

lo, hi = 1, 1000
while True:
    g = (lo + hi + 1) // 2
    print(g, flush=True)
    reply = sys.stdin.readline().strip()
    if reply == "correct" or not reply:
        break
    if reply == "lower":
        hi = g - 1
    else:
        lo = g + 1
