#!/bin/bash
# Always-on cost under process churn: smolder `record`, the agent (10 s windows),
# `perf record --call-graph dwarf` and a bpftrace kstack+ustack one-liner, one after another
# on the same running load, for three loads:
#   gcc      a `gcc -O2` loop compiling and linking one generated 300-function C file
#            (cc1, as, collect2, ld: a few short-lived processes a second)
#   gcc+clang the gcc loop and a `clang -O2 -c` loop of the same file at once
#   mix      gcc, clang, an ASan clang build, a python3 loop, a node loop and exec probes
#            (sh -c of cat/date/true every 100 ms), all at once
#
# For each tool and load: steady CPU of the tool's process (from /proc/PID/task/*/schedstat
# between STEADY_FROM and SECS-2 seconds after start), BPF run time (kernel.bpf_stats_enabled;
# perf's in-kernel stack copies are charged to the sampled tasks and not visible here), the
# share of the machine both make, peak RSS, samples lost, the share of samples with a user
# stack whose outermost frame is a root (_start, clone3, start_thread, ...: "complete"), and
# the share of user frames left unnamed (an address, FILE+0xOFF, [unknown]). Then smolder's
# ratios to bpftrace and perf in the same run.
#
# Usage (root): bench/churn.sh [SECONDS] [LOADS...]   (default 20 s; gcc gcc+clang mix)
#        BUILD=build-x bench/churn.sh 30 gcc
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${1:-20}
shift || true
LOADS=("$@")
[ ${#LOADS[@]} -gt 0 ] || LOADS=(gcc gcc+clang mix)
STEADY_FROM=3
STEADY_TO=$((SECS - 2))
NCPU=$(nproc)
OUT=$(mktemp -d /tmp/smolder-churn.XXXXXX)
LOADPIDS=()
stop_load() {
	local p
	for p in "${LOADPIDS[@]}"; do kill -- -"$p" 2>/dev/null || true; done
	for p in "${LOADPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	LOADPIDS=()
}
cleanup() {
	stop_load
	kill $(jobs -p) 2>/dev/null || true
	sysctl -q kernel.bpf_stats_enabled=0 || true
	rm -rf "$OUT"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "bench/churn.sh: needs root" >&2; exit 1; }
[ "$SECS" -ge 10 ] || { echo "bench/churn.sh: SECONDS must be at least 10" >&2; exit 1; }
for t in perf bpftrace bpftool gcc clang python3; do
	command -v $t >/dev/null || { echo "bench/churn.sh: $t missing; run scripts/install-deps.sh bench" >&2; exit 1; }
done
[ -x "$BUILD/smolder" ] || { echo "bench/churn.sh: $BUILD/smolder missing; build first" >&2; exit 1; }

# The compiled file: 300 functions that call each other, so cc1 has real work.
python3 - "$OUT/gen.c" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(300):
        f.write(f"static int f{i}(int x) {{ int s = 0; for (int j = 0; j < x; j++) s += (j ^ {i}) * (s | 1);")
        if i:
            f.write(f" s += f{i - 1}(x - 1);")
        f.write(" return s; }\n")
    f.write("int main(int argc, char **argv) { (void)argv; return f299(argc) & 1; }\n")
PY
cat >"$OUT/busy.py" <<'PY'
import json
d = [{"k": i, "v": str(i) * 3} for i in range(20000)]
for _ in range(5):
    json.loads(json.dumps(d))
PY

# loop NAME CMD...: runs CMD again and again in a process group of its own.
loop() {
	local name=$1; shift
	setsid bash -c 'cd "$0"; while :; do "$@" >/dev/null 2>&1; done' "$OUT" "$@" &
	LOADPIDS+=($!)
}

start_load() {
	case "$1" in
	gcc)
		loop gcc gcc -O2 gen.c -o gen-gcc ;;
	gcc+clang)
		loop gcc gcc -O2 gen.c -o gen-gcc
		loop clang clang -O2 -c gen.c -o gen-clang.o ;;
	mix)
		loop gcc gcc -O2 gen.c -o gen-gcc
		loop clang clang -O2 -c gen.c -o gen-clang.o
		loop asan clang -O1 -fsanitize=address gen.c -o gen-asan
		loop python python3 busy.py
		if command -v node >/dev/null; then
			loop node node -e 'let s = 0; for (let i = 0; i < 3e7; i++) s += i % 7; console.log(s)'
		fi
		setsid bash -c 'while :; do sh -c "cat /proc/loadavg; date; true" >/dev/null; sleep 0.1; done' &
		LOADPIDS+=($!) ;;
	*)
		echo "bench/churn.sh: unknown load '$1' (gcc, gcc+clang, mix)" >&2; exit 2 ;;
	esac
}

cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{t += $1} END {printf "%.0f\n", t}'; }
rss_kib() { awk '/^VmHWM:/ {print $2}' /proc/"$1"/status 2>/dev/null || echo 0; }
prog_ids() { bpftool prog show -j 2>/dev/null | python3 -c 'import json,sys; print(" ".join(str(p["id"]) for p in json.load(sys.stdin)))'; }
bpf_ns() {
	bpftool prog show -j 2>/dev/null | OLD="$1" python3 -c '
import json, os, sys
old = set(os.environ["OLD"].split()); t = 0
for p in json.load(sys.stdin):
    if str(p["id"]) not in old:
        t += p.get("run_time_ns", 0)
print(t)'
}

# run LOAD TOOL COMM CMD...: starts the tool, measures the process named COMM in steady state,
# stops it with SIGINT at SECS (the agent, perf's sleep and bpftrace stop themselves).
run() {
	local load=$1 tool=$2 comm=$3; shift 3
	local before pid="" c0 b0 c1 b1 peak=0 r t
	before=$(prog_ids)
	"$@" >"$OUT/$tool.log" 2>&1 &
	local tpid=$!
	# The tool itself or its child (timeout's), never another user's process of that name.
	for _ in $(seq 50); do
		if [ "$(cat /proc/$tpid/comm 2>/dev/null)" = "$comm" ]; then pid=$tpid; break; fi
		pid=$(pgrep -P "$tpid" -x "$comm") && [ -n "$pid" ] && break
		sleep 0.1
	done
	[ -n "$pid" ] || { echo "bench/churn.sh: $tool did not start; see its log:" >&2; cat "$OUT/$tool.log" >&2; exit 1; }
	sleep "$STEADY_FROM"
	c0=$(cpu_ns "$pid"); b0=$(bpf_ns "$before")
	for ((t = STEADY_FROM; t < STEADY_TO; t++)); do
		sleep 1
		r=$(rss_kib "$pid"); [ "${r:-0}" -gt "$peak" ] && peak=$r
	done
	c1=$(cpu_ns "$pid"); b1=$(bpf_ns "$before")
	r=$(rss_kib "$pid"); [ "${r:-0}" -gt "$peak" ] && peak=$r
	if [ "$tool" = agent ]; then
		sleep 2
		kill -INT "$pid" 2>/dev/null || true
	fi
	wait "$tpid" || true
	echo "$load $tool $c0 $c1 $b0 $b1 $peak" >>"$OUT/rows"
}

# stacks LOAD TOOL: complete and unnamed shares, lost samples -> $OUT/stacks
stacks() {
	local load=$1 tool=$2
	case "$tool" in
	record | agent)
		local files
		if [ "$tool" = record ]; then files="$OUT/record.pb.gz"; else
			files=$(find "$OUT/store" -name '*.pb.gz' | sort | tr '\n' ' '); fi
		# shellcheck disable=SC2086
		"$BUILD"/smolder flamegraph --folded -o "$OUT/$tool.folded" $files 2>/dev/null || : >"$OUT/$tool.folded" ;;
	perf)
		perf script -i "$OUT/perf.data" -F comm,pid,ip,sym,dso 2>/dev/null >"$OUT/perf.script" || true ;;
	esac
	python3 - "$load" "$tool" "$OUT" >>"$OUT/stacks" <<'PY'
import re, sys
load, tool, out = sys.argv[1:]
ROOTS = {"_start", "__libc_start_main", "__libc_start_call_main", "_dl_start", "_dl_start_user",
         "clone", "clone3", "__clone", "__clone3", "start_thread", "runtime.goexit", "runtime.mstart",
         "runtime.goexit.abi0", "runtime.mstart.abi0", "runtime.rt0_go.abi0"}
def unnamed(f):
    return (f.startswith("0x") or f == "[unknown]" or "[unknown]" in f
            or re.search(r"\+0x[0-9a-f]+$", f) is not None)
def base(f):
    return re.sub(r"\+(0x[0-9a-f]+|[0-9]+)$", "", f.strip())
with_user = complete = frames = noname = lost = 0
stacks = []  # (outermost-first user frames, count)
if tool in ("record", "agent"):
    for line in open(f"{out}/{tool}.folded", errors="replace"):
        path, _, n = line.rstrip("\n").rpartition(" ")
        parts = path.split(";")[1:]  # the first is the process
        user = [p for p in parts if not p.endswith("_[k]")]
        stacks.append(([p[:-4] if p.endswith("_[i]") else p for p in user], int(n)))
    log = open(f"{out}/{tool}.log", errors="replace").read()
    if tool == "record":
        m = re.search(r"(\d+) samples lost", log)
        lost = int(m.group(1)) if m else -1
    else:
        lost = sum(int(x) for x in re.findall(r"samples, (\d+) lost", log))
elif tool == "perf":
    cur, kern = [], True
    def flush():
        if cur:
            stacks.append((list(reversed(cur)), 1))
    for line in open(f"{out}/perf.script", errors="replace"):
        s = line.strip()
        if not s:
            flush(); cur = []
            continue
        if not line.startswith((" ", "\t")):
            continue  # the sample's header line
        m = re.match(r"[0-9a-f]+\s+(.*?)\s+\((.*)\)$", s)
        if not m:
            continue
        sym, dso = m.groups()
        if "kernel.kallsyms" in dso or dso.startswith("[kernel") or "/vmlinux" in dso:
            continue
        cur.append(base(sym) if sym != "[unknown]" else "[unknown]")
    flush()
    log = open(f"{out}/perf.log", errors="replace").read()
    m = re.search(r"lost (\d+) chunks|(\d+) lost", log)
    lost = int(next(g for g in m.groups() if g)) if m else 0
else:  # bpftrace: @[\n kernel frames \n, \n user frames \n]: N
    text = open(f"{out}/bpftrace.log", errors="replace").read()
    for m in re.finditer(r"@\[(.*?)\]: (\d+)", text, re.S):
        parts, n = re.split(r",\s*\n", m.group(1)), int(m.group(2))
        user = parts[-1] if len(parts) > 1 else ""
        fr = [base(l) for l in user.split("\n") if l.strip()]
        stacks.append((list(reversed(fr)), n))
    m = re.search(r"Lost (\d+) events", text)
    lost = int(m.group(1)) if m else 0
for user, n in stacks:
    if not user:
        continue
    with_user += n
    if user[0] in ROOTS:
        complete += n
    frames += n * len(user)
    noname += n * sum(1 for f in user if unnamed(f))
pc = 100.0 * complete / with_user if with_user else 0.0
pu = 100.0 * noname / frames if frames else 0.0
print(f"{load} {tool} {lost} {with_user} {pc:.1f} {pu:.1f}")
PY
}

sysctl -q kernel.bpf_stats_enabled=1
for load in "${LOADS[@]}"; do
	start_load "$load"
	sleep 3
	run "$load" record smolder "$BUILD"/smolder record -F 99 -d "$SECS" -v -o "$OUT/record.pb.gz"
	stacks "$load" record
	rm -rf "$OUT/store"; mkdir -m 0700 "$OUT/store"
	run "$load" agent smolder "$BUILD"/smolder agent -F 99 -w 10 --store "$OUT/store" --retention-size 1G
	stacks "$load" agent
	run "$load" perf perf perf record -F 99 -a --call-graph dwarf -o "$OUT/perf.data" -- sleep "$SECS"
	stop_load
	stacks "$load" perf
	rm -f "$OUT/perf.data" "$OUT/perf.script"
	start_load "$load"
	sleep 3
	run "$load" bpftrace bpftrace timeout -s INT "$SECS" bpftrace -e 'profile:hz:99 { @[kstack, ustack] = count(); }'
	stacks "$load" bpftrace
	stop_load
done

echo "churn: ${SECS} s per tool at 99 Hz on ${NCPU} CPUs ($(uname -r)); steady = ${STEADY_FROM} s to ${STEADY_TO} s"
echo "machine % = (tool process CPU + its BPF run time) / machine CPU in the steady window"
echo "complete = samples with a user stack reaching a root; unnamed = user frames without a name"
python3 - "$OUT/rows" "$OUT/stacks" "$NCPU" "$((STEADY_TO - STEADY_FROM))" <<'PY'
import sys
rows, stacks, ncpu, win = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
st = {(x[0], x[1]): x[2:] for x in (l.split() for l in open(stacks))}
res = {}
print(f"{'load':<10}{'tool':<10}{'proc cpu s':>11}{'bpf s':>8}{'machine %':>10}{'peak RSS MiB':>13}"
      f"{'lost':>7}{'samples':>9}{'complete %':>11}{'unnamed %':>10}")
for l in open(rows):
    load, tool, c0, c1, b0, b1, peak = l.split()
    cpu = (int(c1) - int(c0)) / 1e9
    bpf = (int(b1) - int(b0)) / 1e9
    share = 100 * (cpu + bpf) / (win * ncpu)
    lost, n, pc, pu = st.get((load, tool), ["?", "0", "0", "0"])
    res[(load, tool)] = (share, int(peak) / 1024, pc)
    print(f"{load:<10}{tool:<10}{cpu:>11.3f}{bpf:>8.3f}{share:>10.3f}{int(peak) / 1024:>13.1f}"
          f"{lost:>7}{n:>9}{pc:>11}{pu:>10}")
for load in dict.fromkeys(k[0] for k in res):
    for tool in ("record", "agent"):
        s = res.get((load, tool))
        b = res.get((load, "bpftrace"))
        p = res.get((load, "perf"))
        if not s or not b:
            continue
        ratio = f"{s[0] / b[0]:.2f}x" if b[0] > 0 else "n/a"
        cmp = f", complete {float(s[2]) - float(p[2]):+.1f} points vs perf dwarf" if p else ""
        print(f"{load}: smolder {tool} cost {ratio} bpftrace's{cmp}")
PY
