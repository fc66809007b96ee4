#!/bin/bash
# Flame graph generation on a big profile: a synthetic "hour of a busy
# machine" (200,000 samples, 50,000 locations, 24 processes, random stacks up
# to 52 frames deep, which is harder than real profiles: almost every sample
# is a distinct path). Reports wall time and peak RSS of
#   smolder flamegraph   (the HTML, pruned at 1/5000 of the total)
#   smolder report
#   go tool pprof -http  (time until its flame graph page answers), as the peer
#   go tool pprof -top   (for a batch comparison)
# and the size of the HTML file. Goal: smolder flamegraph under 1 s, page
# under 5 MB.
#
# Usage: bench/flamegraph.sh [SAMPLES] [LOCATIONS]   (default 200000 50000)
# Needs a build (make build) and, for the peer, go (scripts/install-deps.sh test).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SAMPLES=${1:-200000}
LOCS=${2:-50000}
OUT=$(mktemp -d /tmp/smolder-fgbench.XXXXXX)
PPROF_PID=""
trap '[ -n "$PPROF_PID" ] && kill "$PPROF_PID" 2>/dev/null; rm -rf "$OUT"' EXIT

for f in "$BUILD/smolder" "$BUILD/tests/integration/viz_genprofile"; do
	[ -x "$f" ] || { echo "bench/flamegraph.sh: $f missing; run 'make build' first" >&2; exit 1; }
done

"$BUILD/tests/integration/viz_genprofile" "$OUT/big.pb.gz" "$SAMPLES" "$LOCS" new
echo "profile: $SAMPLES samples, $LOCS locations, $(stat -c %s "$OUT/big.pb.gz") bytes gzip"

# measure NAME CMD...: prints wall seconds and peak RSS of CMD.
measure() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$OUT/time" "$@" >/dev/null
	read -r secs kb <"$OUT/time"
	printf '%-28s %6.2f s  %7.1f MB peak RSS\n' "$name" "$secs" "$(echo "$kb / 1024" | bc -l)"
}

measure "smolder flamegraph" "$BUILD/smolder" flamegraph -o "$OUT/big.html" "$OUT/big.pb.gz"
printf '%-28s %6.2f MB\n' "flamegraph.html size" "$(echo "$(stat -c %s "$OUT/big.html") / 1048576" | bc -l)"
measure "smolder flamegraph --folded" "$BUILD/smolder" flamegraph --folded -o "$OUT/big.folded" "$OUT/big.pb.gz"
measure "smolder report" "$BUILD/smolder" report "$OUT/big.pb.gz"

if ! command -v go >/dev/null; then
	echo "go not found: no pprof comparison (scripts/install-deps.sh test)"
	exit 0
fi
export HOME=${HOME:-/tmp} GOFLAGS=-mod=mod
# -symbolize=none: the generated binaries do not exist; pprof would look for them.
measure "go tool pprof -top" go tool pprof -symbolize=none -top "$OUT/big.pb.gz"

# pprof -http: time from start until /ui/flamegraph answers 200.
port=$((20000 + RANDOM % 20000))
start=$(date +%s.%N)
go tool pprof -symbolize=none -no_browser -http="127.0.0.1:$port" "$OUT/big.pb.gz" \
	>"$OUT/pprof.log" 2>&1 &
PPROF_PID=$!
ready=""
for _ in $(seq 1200); do
	if curl -sf -o /dev/null "http://127.0.0.1:$port/ui/flamegraph"; then
		ready=$(date +%s.%N)
		break
	fi
	sleep 0.05
done
# `go tool pprof` runs the pprof binary as a child: take the larger peak of the two.
rss=0
for pid in "$PPROF_PID" $(cat "/proc/$PPROF_PID/task/"*/children 2>/dev/null); do
	r=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
	[ "${r:-0}" -gt "$rss" ] && rss=$r
done
if [ -n "$ready" ]; then
	printf '%-28s %6.2f s  %7.1f MB peak RSS (until /ui/flamegraph answered)\n' \
		"go tool pprof -http" "$(echo "$ready - $start" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
else
	echo "go tool pprof -http: not ready after 60 s"
fi
