#!/bin/bash
# Cost of `smolder agent` over a long run on a busy machine with process churn, side by side
# with `perf record -a -g` run at the same time (same load, same duration; perf.data goes to
# /tmp and is deleted at the end).
#
# Load: one `shares` workload per CPU (always busy) plus about 1,000 short-lived processes a
# minute (tests/integration/short_burn: each burns 20 ms of CPU and exits).
#
# For each tool: its CPU share of the machine (from /proc/PID/task/*/schedstat, each minute
# and over the whole run), its RSS (VmRSS) every 10 s (first, after 10% of the run, peak,
# last), and for smolder the samples written and lost (from its per-window log lines) and
# the bytes stored per hour (store size / run time). For perf: the size of perf.data (written
# to /tmp, deleted at the end) and the samples it lost (from its own report).
#
# Usage (root): bench/agent.sh [SECONDS]   (default 600; 60 or more)
#        BUILD=build-x bench/agent.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${1:-600}
WINDOW=${WINDOW:-60}
FREQ=${FREQ:-99}
NCPU=$(nproc)
OUT=$(mktemp -d /tmp/smolder-agent-bench.XXXXXX)
cleanup() {
	kill $(jobs -p) 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$OUT"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "bench/agent.sh: needs root" >&2; exit 1; }
command -v perf >/dev/null || { echo "bench/agent.sh: perf missing; run scripts/install-deps.sh bench" >&2; exit 1; }
[ "$SECS" -ge 60 ] || { echo "bench/agent.sh: SECONDS must be at least 60" >&2; exit 1; }
for f in smolder tests/integration/shares tests/integration/short_burn; do
	[ -x "$BUILD/$f" ] || { echo "bench/agent.sh: $BUILD/$f missing; build first" >&2; exit 1; }
done

# CPU time (ns) of every thread of pid $1, from the scheduler.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{t += $1} END {printf "%.0f\n", t}'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' /proc/"$1"/status 2>/dev/null || echo 0; }

start_load() {
	for _ in $(seq "$NCPU"); do "$BUILD"/tests/integration/shares $((SECS + 30)) & done
	# ~1,000 processes a minute: one every 60 ms, two at a time, 20 ms of CPU each.
	"$BUILD"/tests/integration/short_burn 20 $((SECS * 1000 / 60 + 100)) 2 60 &
	CHURN=$!
}

stop_load() {
	pkill -P $$ -x shares 2>/dev/null || true
	kill "$CHURN" 2>/dev/null || true
	wait "$CHURN" 2>/dev/null || true
}

# measure NAME PID: samples CPU and RSS every 10 s for SECS seconds into $OUT/NAME.*
measure() {
	local name=$1 pid=$2 t=0 c0 c
	c0=$(cpu_ns "$pid")
	: >"$OUT/$name.series"
	while [ "$t" -lt "$SECS" ]; do
		sleep 10
		t=$((t + 10))
		c=$(cpu_ns "$pid")
		echo "$t $((c - c0)) $(rss_kib "$pid")" >>"$OUT/$name.series"
	done
}

# Both at once, under the same load for the same time: each also samples the other.
start_load
sleep 2
"$BUILD"/smolder agent --store "$OUT/store" --window "$WINDOW" -F "$FREQ" \
	--retention-size 0 --retention-age 0 >"$OUT/smolder.log" 2>&1 &
SPID=$!
perf record -F "$FREQ" -a -g -o "$OUT/perf.data" -- sleep "$SECS" >"$OUT/perf.log" 2>&1 &
PPID_=$!
measure smolder "$SPID" &
MS=$!
measure perf "$PPID_" &
MP=$!
wait "$MS" "$MP"
# Peak RSS as the kernel counts it (VmHWM), which 10 s samples can miss.
HWM_SMOLDER=$(awk '/^VmHWM:/ {print $2}' /proc/"$SPID"/status 2>/dev/null || echo 0)
HWM_PERF=$(awk '/^VmHWM:/ {print $2}' /proc/"$PPID_"/status 2>/dev/null || echo 0)
kill -TERM "$SPID"
wait "$SPID" || true
wait "$PPID_" || true
stop_load
STORE_BYTES=$(du -sb "$OUT/store" | awk '{print $1}')
WINDOWS=$(find "$OUT/store" -name '*.pb.gz' | wc -l)
PERF_BYTES=$(stat -c %s "$OUT/perf.data" 2>/dev/null || echo 0)
# A perf.data perf cannot report on (an hour's is large) must not lose the summary.
PERF_LOST=$( (perf report -i "$OUT/perf.data" --stats 2>/dev/null || true) |
	awk '/LOST/ {s += $NF} END {print s + 0}')
rm -f "$OUT/perf.data"

echo "smolder agent vs perf record -a -g, ${SECS} s each, ${FREQ} Hz, ${NCPU} CPUs ($(uname -r))"
echo "load: one busy 'shares' per CPU + ~1,000 short-lived processes/min (20 ms CPU each)"
python3 - "$OUT" "$SECS" "$NCPU" "$STORE_BYTES" "$WINDOWS" "$PERF_BYTES" "$PERF_LOST" "$WINDOW" \
	"$HWM_SMOLDER" "$HWM_PERF" <<'PY'
import re, sys
out, secs, ncpu, store, windows, perf_bytes, perf_lost, window, hwm_s, hwm_p = sys.argv[1:]
hwm = {"smolder": int(hwm_s) / 1024, "perf": int(hwm_p) / 1024}
secs, ncpu = int(secs), int(ncpu)

def series(name):
    return [tuple(int(x) for x in l.split()) for l in open(f"{out}/{name}.series") if l.strip()]

def summary(name):
    s = series(name)
    total = s[-1][1] / 1e9
    share = 100 * total / (secs * ncpu)
    # CPU share per minute, to see it is steady
    per_min, last_t, last_c = [], 0, 0
    for t, c, _ in s:
        if t - last_t >= 60:
            per_min.append(100 * (c - last_c) / 1e9 / ((t - last_t) * ncpu))
            last_t, last_c = t, c
    rss = [r / 1024 for _, _, r in s]
    after = [r for (t, _, _), r in zip(s, rss) if t >= secs // 10] or rss
    return total, share, per_min, rss[0], min(after), max(after), rss[-1]

samples = lost = 0
for l in open(f"{out}/smolder.log"):
    m = re.search(r"window \d+: (\d+) samples, (\d+) lost", l)
    if m:
        samples += int(m.group(1)); lost += int(m.group(2))
rows = {n: summary(n) for n in ("smolder", "perf")}
print(f"{'tool':<9}{'cpu s':>9}{'machine %':>11}{'RSS MiB: 10s':>14}{'min>10%':>9}{'max>10%':>9}{'last':>7}{'VmHWM':>7}")
for n, (tot, share, _, first, lo, hi, last) in rows.items():
    print(f"{n:<9}{tot:>9.2f}{share:>11.3f}{first:>14.1f}{lo:>9.1f}{hi:>9.1f}{last:>7.1f}{hwm[n]:>7.1f}")
for n, r in rows.items():
    print(f"{n} CPU % of the machine, minute by minute: " + " ".join(f"{x:.3f}" for x in r[2]))
print(f"smolder RSS every 10 s (MiB): " + " ".join(f"{r / 1024:.1f}" for _, _, r in series('smolder')))
hours = secs / 3600
print(f"smolder: {samples} samples in {windows} windows of {window} s, {lost} lost "
      f"({100 * lost / max(1, samples + lost):.3f}%); store {int(store) / 2**20:.2f} MiB = "
      f"{int(store) / 2**20 / hours:.1f} MiB/hour")
print(f"perf: perf.data {int(perf_bytes) / 2**20:.1f} MiB = {int(perf_bytes) / 2**20 / hours:.1f} MiB/hour, "
      f"{perf_lost} lost events")
PY
