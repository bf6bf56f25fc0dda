#!/usr/bin/env python3
"""Writes data/{sample,secret}/*.{in,ans} (+ sample .interaction) for guess."""


def interaction(x):
    lines, lo, hi = [], 1, 1000
    while True:
        g = (lo + hi) // 2
        lines.append(f"> {g}")
        if g == x:
            lines.append("< correct")
            return "\n".join(lines) + "\n"
        if x < g:
            lines.append("< lower")
            hi = g - 1
        else:
            lines.append("< higher")
            lo = g + 1


def write(name, x, sample=False):
    for ext in ("in", "ans"):
        with open(f"data/{name}.{ext}", "w") as f:
            f.write(f"{x}\n")
    if sample:
        with open(f"data/{name}.interaction", "w") as f:
            f.write(interaction(x))


write("sample/1", 500, sample=True)
write("sample/2", 17, sample=True)
for i, x in enumerate([1, 1000, 2, 999, 501, 250, 751, 333, 618, 1023 // 3 + 1], start=1):
    write(f"secret/{i:02d}", x)
