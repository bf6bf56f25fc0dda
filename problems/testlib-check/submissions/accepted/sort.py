#!/usr/bin/env python3
# testlib-check, accepted: built-in sort.
import sys

data = sys.stdin.buffer.read().split()
n = int(data[0])
print(*sorted(map(int, data[1:1 + n])))
