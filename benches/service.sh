#!/usr/bin/env bash
# The service under load, on loopback (figures in BENCHMARKS.md). As root, from the checkout:
#   bash benches/service.sh [N]          (N submissions per measurement, default 1000)
# 1. N A+B submissions (Python) through `judge serve` (SQLite, 2 workers pinned to the 2 cores)
#    with `judge load`, against the same N judged in-process by the library with 2 pinned jobs
#    (`judge load --direct`): the difference, per submission and per worker, is what the
#    service adds (HTTP, database, queue, per-test result writes). The two alternate in
#    blocks so that the machine's noise hits both alike.
# 2. `POST /v1/run` of /bin/true, 16 in flight.
# 3. The worker side alone (queue, database writes, no HTTP client): see below.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000}"
BLOCKS=4
cargo build --release -q
J="$PWD/target/release/judge"
T="$(mktemp -d /var/tmp/judge-bench-XXXXXX)"
trap 'kill $SERVE 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"' EXIT

mkdir -p "$T/ab/data/secret"
printf 'problem_format_version: 2025-09\ntype: pass-fail\nname: A plus B\nlimits:\n  time_limit: 2\n' >"$T/ab/problem.yaml"
for i in 1 2 3; do echo "$i $((i * 10))" >"$T/ab/data/secret/$i.in"; echo $((i * 11)) >"$T/ab/data/secret/$i.ans"; done
printf 'a, b = map(int, input().split())\nprint(a + b)\n' >"$T/ab.py"
tar czf "$T/ab.tar.gz" -C "$T/ab" .

ADMIN="$("$J" token add --data "$T/data" --role admin)"
PORT=18080
"$J" serve --listen 127.0.0.1:$PORT --data "$T/data" --workers 2 2>"$T/serve.log" &
SERVE=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
curl -sf -H "Authorization: Bearer $ADMIN" --data-binary @"$T/ab.tar.gz" "http://127.0.0.1:$PORT/v1/problems?name=ab" >/dev/null

per=$((N / BLOCKS))
for b in $(seq $BLOCKS); do
    JUDGE_TOKEN="$ADMIN" "$J" load --url "http://127.0.0.1:$PORT" --problem ab --language python --source "$T/ab.py" --count $per --concurrency 32 --json >"$T/service-$b.json"
    "$J" load --direct "$T/ab" --language python --source "$T/ab.py" --count $per --jobs 2 --json >"$T/direct-$b.json"
done
JUDGE_TOKEN="$ADMIN" "$J" load --url "http://127.0.0.1:$PORT" --run '{"cmd":[{"args":["/bin/true"]}]}' --count 3000 --concurrency 16 --json >"$T/run.json"
kill $SERVE; wait $SERVE 2>/dev/null || true

# 3. The worker side alone: `per` submissions queued first (by a service with no workers),
#    then a service started with 2 workers and no client drains them; its time from start
#    until the queue is empty against the in-process baseline of the same count, in
#    alternating blocks.
python3 -c "import json, sys; src = open(sys.argv[1]).read(); print(json.dumps({'submissions': [{'problem': 'ab', 'language': 'python', 'source': src}] * int(sys.argv[2])}))" "$T/ab.py" $per >"$T/batch.json"
for b in $(seq $BLOCKS); do
    "$J" serve --listen 127.0.0.1:$PORT --data "$T/data" --workers 0 2>>"$T/serve.log" &
    SERVE=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
    ids=$(curl -sf -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' --data-binary @"$T/batch.json" "http://127.0.0.1:$PORT/v1/submissions/batch")
    # Claims go in id order, so once the last two (one per worker) are done, all are.
    last_two=$(echo "$ids" | python3 -c "import json, sys; print(*json.load(sys.stdin)['ids'][-2:])")
    kill $SERVE; wait $SERVE 2>/dev/null || true
    t0=$(date +%s.%N)
    "$J" serve --listen 127.0.0.1:$PORT --data "$T/data" --workers 2 2>>"$T/serve.log" &
    SERVE=$!
    until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do sleep 0.01; done
    for id in $last_two; do
        until curl -sf -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/v1/submissions/$id?wait=60" | grep -q '"status":"done"'; do :; done
    done
    echo "$(date +%s.%N) - $t0" | bc >"$T/drain-$b.txt"
    kill $SERVE; wait $SERVE 2>/dev/null || true
    t0=$(date +%s.%N)
    "$J" load --direct "$T/ab" --language python --source "$T/ab.py" --count $per --jobs 2 --json >/dev/null
    echo "$(date +%s.%N) - $t0" | bc >"$T/drain-direct-$b.txt"
done

python3 - "$T" "$BLOCKS" "$N" <<'PY'
import json, sys, statistics
t, blocks, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
svc = [json.load(open(f"{t}/service-{b}.json")) for b in range(1, blocks + 1)]
dire = [json.load(open(f"{t}/direct-{b}.json")) for b in range(1, blocks + 1)]
run = json.load(open(f"{t}/run.json"))
ok = sum(r["ok"] for r in svc); errors = sum(r["errors"] for r in svc); lost = sum(r["lost"] for r in svc)
sw = sum(r["wall_seconds"] for r in svc); dw = sum(r["wall_seconds"] for r in dire)
count = sum(r["count"] for r in svc)
print(f"service: {count} submissions, ok {ok}, errors {errors}, lost {lost}; {count / sw:.1f}/s; "
      f"latency p50 {statistics.median(r['latency_ms_p50'] for r in svc):.1f} ms, p99 {max(r['latency_ms_p99'] for r in svc):.1f} ms (max over blocks)")
print(f"direct:  {sum(r['count'] for r in dire)} submissions, errors {sum(r['errors'] for r in dire)}; {count / dw:.1f}/s")
# Two workers run side by side: each submission occupies one worker for wall*2/count.
print(f"service adds {(sw - dw) * 2 / count * 1e3:.2f} ms of worker time per submission "
      f"({sw * 2 / count * 1e3:.2f} vs {dw * 2 / count * 1e3:.2f} ms)")
print(f"POST /v1/run /bin/true: {run['count']} runs, ok {run['ok']}, errors {run['errors']}; {run['per_second']:.0f} runs/s; "
      f"latency p50 {run['latency_ms_p50']:.1f} ms, p99 {run['latency_ms_p99']:.1f} ms")
per = n // blocks
drain = sum(float(open(f"{t}/drain-{b}.txt").read()) for b in range(1, blocks + 1))
base = sum(float(open(f"{t}/drain-direct-{b}.txt").read()) for b in range(1, blocks + 1))
print(f"worker side only ({blocks} x {per} queued first, drained with no client): adds {(drain - base) * 2 / (blocks * per) * 1e3:.2f} ms "
      f"of worker time per submission ({drain * 2 / (blocks * per) * 1e3:.2f} vs {base * 2 / (blocks * per) * 1e3:.2f} ms)")
PY
