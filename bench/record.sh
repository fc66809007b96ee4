#!/bin/bash
# Cost of whole-system sampling at 99 Hz, smolder against perf and bpftrace,
# one after another on a machine kept busy on every CPU.
#
# For each tool: CPU seconds of the tool's process in steady state (from
# /proc/PID/stat between STEADY_FROM and STEADY_TO seconds after start, so
# start-up and the final write are excluded), total CPU seconds, BPF program
# run time (kernel.bpf_stats_enabled), peak RSS, and smolder's ratios.
#
# Usage (root): bench/record.sh [SECONDS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${1:-20}
STEADY_FROM=3
STEADY_TO=$((SECS - 2))
NCPU=$(nproc)
OUT=$(mktemp -d /tmp/smolder-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; sysctl -q kernel.bpf_stats_enabled=0; rm -rf "$OUT"' EXIT

[ "$(id -u)" = 0 ] || { echo "bench/record.sh: needs root" >&2; exit 1; }
for t in perf bpftrace bpftool; do
	command -v $t >/dev/null || { echo "bench/record.sh: $t missing; run scripts/install-deps.sh bench" >&2; exit 1; }
done

# Keep every CPU busy with a known user-space workload.
for _ in $(seq "$NCPU"); do "$BUILD"/tests/integration/shares 100000 & done
sysctl -q kernel.bpf_stats_enabled=1

# CPU time (ns) of every thread of pid $1, from the scheduler: finer than clock ticks.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{t += $1} END {print t + 0}'; }

prog_ids() { bpftool prog show -j 2>/dev/null | python3 -c 'import json,sys; print(" ".join(str(p["id"]) for p in json.load(sys.stdin)))'; }

# bpf_stats run time (ns) of the BPF programs loaded since the ids in $1 were listed
# (Debian's bpftool cannot tell which process holds a program).
bpf_ns() {
	bpftool prog show -j 2>/dev/null | OLD="$1" python3 -c '
import json, os, sys
old = set(os.environ["OLD"].split()); t = 0
for p in json.load(sys.stdin):
    if str(p["id"]) not in old:
        t += p.get("run_time_ns", 0)
print(t)'
}

# descendant PID COMM: the process named COMM started by PID (time, timeout), never another
# process of that name on the machine.
descendant() {
	local p q
	for p in $(pgrep -x "$2"); do
		q=$p
		while [ "$q" -gt 1 ]; do
			[ "$q" = "$1" ] && { echo "$p"; return 0; }
			q=$(awk '{print $4}' /proc/"$q"/stat 2>/dev/null) || break
		done
	done
	return 1
}

# run NAME COMM CMD...: runs the tool under /usr/bin/time, measures the process named COMM,
# prints a row labelled NAME.
run() {
	local name=$1 comm=$2; shift 2
	local before
	before=$(prog_ids)
	/usr/bin/time -q -f "%M %U %S" -o "$OUT/$name.time" "$@" >"$OUT/$name.log" 2>&1 &
	local tpid=$! pid=""
	for _ in $(seq 50); do
		pid=$(descendant "$tpid" "$comm") && [ -n "$pid" ] && break
		sleep 0.1
	done
	sleep "$STEADY_FROM"
	local c0 b0 c1 b1
	c0=$(cpu_ns "$pid"); b0=$(bpf_ns "$before")
	sleep $((STEADY_TO - STEADY_FROM))
	c1=$(cpu_ns "$pid"); b1=$(bpf_ns "$before")
	wait "$tpid" || true
	local rss utime stime
	read -r rss utime stime < <(tail -1 "$OUT/$name.time")
	python3 - "$name" "$c0" "$c1" "$b0" "$b1" "$rss" "$utime" "$stime" "$NCPU" \
		"$((STEADY_TO - STEADY_FROM))" >>"$OUT/rows" <<'PY'
import sys
name, c0, c1, b0, b1, rss, ut, st, ncpu, win = sys.argv[1:]
steady = (int(c1) - int(c0)) / 1e9
bpf = (int(b1) - int(b0)) / 1e9
share = 100 * (steady + bpf) / (int(win) * int(ncpu))
print(f"{name} {steady:.4f} {float(ut) + float(st):.2f} {bpf:.4f} {int(rss) / 1024:.1f} {share:.4f}")
PY
}

run smolder smolder "$BUILD"/smolder record -F 99 -d "$SECS" -o "$OUT/smolder.pb.gz"
run smolder-fp smolder "$BUILD"/smolder record -F 99 -d "$SECS" --stack-copy 0 -o "$OUT/smolder-fp.pb.gz"
run perf perf perf record -F 99 -a -g -o "$OUT/perf.data" -- sleep "$SECS"
run bpftrace bpftrace timeout -s INT "$SECS" bpftrace -e 'profile:hz:99 { @[kstack, ustack] = count(); }'

echo "whole-system sampling at 99 Hz for ${SECS} s on ${NCPU} busy CPUs ($(uname -r))"
echo "steady = tool CPU seconds from ${STEADY_FROM} s to ${STEADY_TO} s; share = (steady + BPF run time) / machine CPU over that window"
python3 - "$OUT/rows" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
r = {x[0]: x for x in rows}
print(f"{'tool':<10}{'steady cpu s':>14}{'total cpu s':>13}{'bpf run s':>11}{'peak RSS MiB':>14}{'machine %':>11}")
for x in rows:
    print(f"{x[0]:<10}{x[1]:>14}{x[2]:>13}{x[3]:>11}{x[4]:>14}{x[5]:>11}")
s = r["smolder"]
print("smolder: CFI unwinding of a 16 KiB stack copy (default); smolder-fp: --stack-copy 0, frame pointers walked in BPF, what perf -g and bpftrace do")
for peer in ("perf", "bpftrace"):
    p = r[peer]
    def ratio(i):
        a, b = float(s[i]), float(p[i])
        return f"{a / b:.2f}x" if b > 0 else "n/a"
    print(f"smolder/{peer}: steady cpu {ratio(1)}, total cpu {ratio(2)}, bpf {ratio(3)}, peak RSS {ratio(4)}")
PY
