#!/bin/bash
# Complete user stacks on code built without frame pointers: smolder against
# `perf record --call-graph dwarf` and `perf record -g`, on the same workloads,
# one tool after another.
#
# A stack is complete when its outermost frame is a known root: _start (the
# main thread) or clone/clone3 (other threads). Counted the same way for every
# tool, from smolder's folded stacks and from `perf script`. A stripped binary
# (gzip) has no name for _start, so that count cannot see its roots; the last
# column is smolder's own count (the unwinder reached the frame whose return
# address is undefined) and its mean time per unwind.
#
# Usage (root): bench/unwind.sh [SECONDS]   (default 10 per tool and workload)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${1:-10}
OUT=$(mktemp -d /tmp/smolder-unwind.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; pkill -f "$OUT" 2>/dev/null || true; rm -rf "$OUT"' EXIT
trap 'exit 130' INT TERM
SMOLDER=$BUILD/smolder

[ "$(id -u)" = 0 ] || { echo "bench/unwind.sh: needs root" >&2; exit 1; }
for t in perf python3 /usr/bin/python3.11 gzip bash; do
	command -v "$t" >/dev/null || { echo "bench/unwind.sh: $t missing; run scripts/install-deps.sh bench" >&2; exit 1; }
done

# A text file gzip -9 works hard on.
seq 1 100000000 >"$OUT/big.txt"

declare -A WORKLOAD=(
	[c-O2]="$BUILD/tests/integration/nofp chain 100000"
	[python3.11]="/usr/bin/python3.11 -c 'def f(n):
    return n if n < 2 else f(n - 1) + f(n - 2)
while True: f(20)'"
	[bash]="bash -c 'i=0; while :; do i=\$((i + 1)); done'"
	[gzip-9]="gzip -9 -c $OUT/big.txt > /dev/null"
)

# Share of complete stacks in smolder's folded output ("comm;root;...;leaf N").
smolder_share() {
	python3 - "$1" <<'PY'
import sys
total = done = 0
for line in open(sys.argv[1]):
    stack, n = line.rsplit(" ", 1)
    frames = stack.split(";")
    frames = [f for f in frames[1:] if not f.endswith("_[k]")]
    if not frames:
        continue
    total += int(n)
    root = frames[0]
    if root == "_start" or "clone" in root:
        done += int(n)
print(f"{100.0 * done / max(total, 1):.1f}% of {total}")
PY
}

# The same from `perf script` (one frame per line, root last, blank line after each stack).
perf_share() {
	perf script -i "$1" -F comm,ip,sym 2>/dev/null | python3 -c '
import sys
total = done = 0
frames = []
def flush():
    global total, done, frames
    user = [f for f in frames if not f.startswith("ffffffff")]
    if user:
        total += 1
        root = user[-1].split(None, 1)[1] if " " in user[-1] else ""
        if root.startswith("_start") or "clone" in root:
            done += 1
    frames = []
for line in sys.stdin:
    line = line.strip()
    if not line:
        flush()
    elif line[0] in "0123456789abcdef" and " " in line:
        frames.append(line)
flush()
print(f"{100.0 * done / max(total, 1):.1f}% of {total}")'
}

printf '%-12s %-24s %-24s %-24s %s\n' workload smolder "perf --call-graph dwarf" "perf -g" "smolder's own count, time"
for name in c-O2 python3.11 bash gzip-9; do
	sh -c "${WORKLOAD[$name]}" &
	wl=$!
	sleep 1
	# The process to profile: the workload itself, not the shell that started it.
	pid=$(ps -o pid= --ppid "$wl" --sort=-pcpu | head -1 | tr -d ' ')
	[ -n "$pid" ] || pid=$wl
	$SMOLDER record -F 99 -d "$SECS" -p "$pid" -o "$OUT/s.pb.gz" 2>"$OUT/s.log"
	$SMOLDER flamegraph --folded "$OUT/s.pb.gz" >"$OUT/s.folded"
	s=$(smolder_share "$OUT/s.folded")
	us=$(grep -o '[0-9.]*% complete' "$OUT/s.log" | head -1 || true)
	us="${us:-n/a}, $(grep -o '[0-9.]* us per unwind' "$OUT/s.log" || echo "n/a")"
	perf record -q -F 99 --call-graph dwarf -p "$pid" -o "$OUT/d.data" -- sleep "$SECS" 2>/dev/null
	d=$(perf_share "$OUT/d.data")
	perf record -q -F 99 -g -p "$pid" -o "$OUT/g.data" -- sleep "$SECS" 2>/dev/null
	g=$(perf_share "$OUT/g.data")
	printf '%-12s %-24s %-24s %-24s %s\n' "$name" "$s" "$d" "$g" "$us"
	kill "$pid" "$wl" 2>/dev/null || true
	pkill -P "$wl" 2>/dev/null || true
	wait "$wl" 2>/dev/null || true
	rm -f "$OUT"/*.data
done
