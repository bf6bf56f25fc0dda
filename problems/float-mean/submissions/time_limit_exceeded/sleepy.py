#!/usr/bin/env python3
# float-mean, time limit exceeded (wall clock): sleeps instead of computing, so
# it uses almost no CPU time and has to be stopped by the wall-time limit.
import time

time.sleep(3600)
print("0 0")
