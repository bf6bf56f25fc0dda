#!/bin/sh
# Builds the VM (tests/vm/build.sh) and boots it once under qemu TCG; the serial console goes to
# stdout and to $OUT/serial.log. Usage: tests/vm/run.sh [extra qemu args]
# Env: OUT (default target/vm), JUDGE (default target/release/judge), TIMEOUT (default 240 s).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export OUT=${OUT:-$ROOT/target/vm}
sh "$ROOT/tests/vm/build.sh"
start=$(date +%s.%N)
timeout "${TIMEOUT:-240}" qemu-system-x86_64 -machine accel=tcg -cpu max -m 1024 -smp 2 -nographic \
    -kernel "$OUT/vmlinuz" -initrd "$OUT/initrd.gz" \
    -append "console=ttyS0 cgroup_no_v1=all panic=-1 quiet loglevel=1" -no-reboot "$@" | tee "$OUT/serial.log"
end=$(date +%s.%N)
echo "boot + cases: $(echo "$end - $start" | bc 2>/dev/null || awk "BEGIN{print $end - $start}") s"
