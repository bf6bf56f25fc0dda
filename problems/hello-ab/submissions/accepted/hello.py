#!/usr/bin/env python3
# hello-ab, accepted: Python integers are arbitrary precision.
a, b = map(int, input().split())
print(a + b)
