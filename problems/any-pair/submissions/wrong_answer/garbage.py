#!/usr/bin/env python3
# any-pair, wrong answer: writes garbage (NUL and invalid UTF-8 bytes, a huge
# number, too many tokens). The output validator must reject it with exit 43,
# never crash.
import sys

sys.stdin.buffer.read()
sys.stdout.buffer.write(b"\x00\xff\xfe banana 1 2 3\n-99999999999999999999999999 \x80")
