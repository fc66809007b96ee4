#!/bin/bash
# What uploading to Pyroscope costs: bytes per window and per hour, and CPU.
#
# 1. Records one WINDOW-second profile (default 60) of a busy machine: a
#    parallel build of smolder in a loop on every CPU, so many short-lived
#    processes with deep, varied stacks (a worst case for profile size).
# 2. Sends that window WINDOWS times (default 60: an hour of 60 s windows) with
#    `smolder upload` to the test receiver on 127.0.0.1, which decodes every
#    request, and reads the bytes sent from its summary line.
# 3. CPU: user+system seconds of that `smolder upload` run, which does what the
#    agent does per window (pack and read back, split by service, gzip each
#    part, encode, zstd into the spool, fsync, POST) plus reading the file.
#
# Usage (root): bench/upload.sh        BUILD=build-up WINDOW=60 WINDOWS=60
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WINDOW=${WINDOW:-60}
WINDOWS=${WINDOWS:-60}
OUT=$(mktemp -d /tmp/smolder-bench-upload.XXXXXX)
PORT=$((20000 + $$ % 20000))
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$OUT"' EXIT

[ "$(id -u)" = 0 ] || { echo "bench/upload.sh: needs root (smolder record)" >&2; exit 1; }
[ -x "$BUILD/tests/integration/upload_receiver" ] || { echo "bench/upload.sh: build $BUILD first" >&2; exit 1; }

# A busy machine: compile the tree in a loop (separate build dir, plain gcc).
(
	while :; do
		rm -rf "$OUT/load"
		cmake -S . -B "$OUT/load" >/dev/null 2>&1
		cmake --build "$OUT/load" -j"$(nproc)" >/dev/null 2>&1 || true
	done
) &
sleep 5
"$BUILD"/smolder record -d "$WINDOW" -o "$OUT/window.pb.gz" >/dev/null 2>&1
kill %1 2>/dev/null || true
pkill -P $! 2>/dev/null || true

for i in $(seq "$WINDOWS"); do ln -s "$OUT/window.pb.gz" "$OUT/w$i.pb.gz"; done
"$BUILD"/tests/integration/upload_receiver "$PORT" "$OUT/receiver.log" ok &
sleep 0.5
/usr/bin/time -f "%U %S" -o "$OUT/time" "$BUILD"/smolder upload "http://127.0.0.1:$PORT" \
	"$OUT"/w*.pb.gz --spool "$OUT/spool" --timeout 600 2>"$OUT/upload.err"

file_bytes=$(stat -c %s "$OUT/window.pb.gz")
sent=$(sed -n 's/.*sent \([0-9]*\) requests (\([0-9]*\) bytes).*/\2/p' "$OUT/upload.err")
requests=$(sed -n 's/.*sent \([0-9]*\) requests.*/\1/p' "$OUT/upload.err")
series=$(awk 'NR > 0 {n++} END {print n + 0}' "$OUT/receiver.log")
read -r user sys <"$OUT/time"
awk -v w="$WINDOWS" -v win="$WINDOW" -v fb="$file_bytes" -v sent="$sent" -v req="$requests" \
	-v series="$series" -v user="$user" -v sys="$sys" 'BEGIN {
	per_window = sent / w
	printf "window: %d s of a busy %d-CPU machine; its pprof file: %d bytes\n", win, '"$(nproc)"', fb
	printf "per window: %.0f bytes of PushRequest body in %d request(s), %.1f series (services) each\n", per_window, req / w, series / w
	printf "per hour (%d s windows): %.1f MiB\n", win, per_window * 3600 / win / 1048576
	printf "CPU to upload %d windows: %.2f s user + %.2f s system = %.1f ms per window, %.3f%% of one CPU\n", w, user, sys, (user + sys) * 1000 / w, (user + sys) / w / win * 100
}'
