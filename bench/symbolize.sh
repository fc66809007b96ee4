#!/bin/bash
# Symbolization speed, memory and agreement: smolder symbolize against
# llvm-symbolizer-14 --inlines, eu-addr2line -f -i and addr2line -f -i.
#
# Addresses: N (default 10000) random addresses inside sized function symbols
# of python3.11 (an LTO build; debug info from python3.11-dbg) and of libc
# (libc6-dbg), half each, fixed seed, fed in one go on stdin to each tool
# (one run per binary). Throughput excludes start-up: each tool also runs
# with 1 address, and addresses/s = (N - 2) / (t_N - t_1) summed over both
# binaries, each t the median of REPS (default 5) runs' CPU time (user +
# system). Peak RSS is the largest of the two N-address runs. Agreement: the share of addresses where
# smolder's frames equal llvm-symbolizer's at every inline level (function
# and line; file names and columns counted separately), disagreements listed.
#
# Usage: bench/symbolize.sh [N]   (SMOLDER=path/to/smolder, default build/smolder;
#        REPS=runs per measurement, default 5; OUT=directory for the outputs)
set -euo pipefail
cd "$(dirname "$0")/.."
SMOLDER=${SMOLDER:-build/smolder}
N=${1:-10000}
OUT=${OUT:-$(mktemp -d /tmp/smolder-symbench.XXXXXX)}
mkdir -p "$OUT"
PY=/usr/bin/python3.11
LIBC=$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)

for t in llvm-symbolizer-14 eu-addr2line addr2line /usr/bin/time python3 nm readelf; do
	command -v $t >/dev/null || { echo "bench/symbolize.sh: $t missing; run scripts/install-deps.sh bench" >&2; exit 1; }
done
[ -x "$SMOLDER" ] || { echo "bench/symbolize.sh: no $SMOLDER; build first" >&2; exit 1; }

debug_file() {
	local id
	id=$(readelf -n "$1" | awk '/Build ID/ {print $3}')
	echo "/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
}

# Random addresses inside sized function symbols, from the debug file's .symtab.
gen() {
	nm -S --defined-only "$(debug_file "$1")" | python3 -c '
import random, sys
funcs = []
for l in sys.stdin:
    p = l.split()
    if len(p) == 4 and p[2] in "Tt" and int(p[1], 16) > 0:
        funcs.append((int(p[0], 16), int(p[1], 16)))
rng = random.Random(int(sys.argv[2]))
for _ in range(int(sys.argv[1])):
    a, s = rng.choice(funcs)
    print(hex(a + rng.randrange(s)))
' "$2" "$3" >"$4"
}

gen "$PY" $((N / 2)) 1 "$OUT/py.addrs"
gen "$LIBC" $((N - N / 2)) 2 "$OUT/libc.addrs"
head -1 "$OUT/py.addrs" >"$OUT/py.one"
head -1 "$OUT/libc.addrs" >"$OUT/libc.one"

# Timing: each run's CPU time (user + system, from wait4(), so neither
# /usr/bin/time's 10 ms ticks nor other load on the machine), REPS runs of
# each (tool, input), the median kept; peak RSS from /usr/bin/time on one
# more N-address run.
REPS=${REPS:-5}
python3 - "$OUT" "$N" "$REPS" "$SMOLDER" "$PY" "$LIBC" <<'TIMING'
import os, statistics, subprocess, sys
out, n, reps, smolder, py, libc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
tools = {
    'smolder': lambda f: [smolder, 'symbolize', '--elf', f],
    'llvm': lambda f: ['llvm-symbolizer-14', '--inlines', '--obj=' + f],
    'eu': lambda f: ['eu-addr2line', '-f', '-i', '-e', f],
    'binutils': lambda f: ['addr2line', '-f', '-i', '-e', f],
}

def run(cmd, inp, outp):
    """CPU seconds (user + system) of one run: unlike wall time, not inflated
    by whatever else the machine runs; the kernel counts it in nanoseconds."""
    with open(inp) as i, open(outp, 'w') as o:
        p = subprocess.Popen(cmd, stdin=i, stdout=o, stderr=subprocess.DEVNULL)
        _, _, ru = os.wait4(p.pid, 0)
        p.returncode = 0
        return ru.ru_utime + ru.ru_stime

def rss(cmd, inp):
    with open(inp) as i:
        subprocess.run(['/usr/bin/time', '-f', '%M', '-o', f'{out}/time'] + cmd, stdin=i,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return int(open(f'{out}/time').read().split()[-1])

rate, mem, detail = {}, {}, {}
for tool, mk in tools.items():
    per = 0.0
    peak = 0
    for lib, path in (('py', py), ('libc', libc)):
        cmd = mk(path)
        run(cmd, f'{out}/{lib}.one', '/dev/null')  # warm the page cache
        t1 = statistics.median(run(cmd, f'{out}/{lib}.one', '/dev/null') for _ in range(reps))
        tn = statistics.median(run(cmd, f'{out}/{lib}.addrs', f'{out}/{tool}.{lib}.out')
                               for _ in range(reps))
        detail[(tool, lib)] = (t1, tn)
        per += tn - t1
        peak = max(peak, rss(cmd, f'{out}/{lib}.addrs'))
    rate[tool] = (n - 2) / max(1e-6, per)
    mem[tool] = peak
print(f'{"tool":<9} {"addresses/s":>12} {"peak RSS":>11} {"speed":>8} {"memory":>8}'
      f'   t_1/t_N ms py, libc')
for tool in tools:
    d = ', '.join(f'{detail[(tool, l)][0] * 1e3:.0f}/{detail[(tool, l)][1] * 1e3:.0f}'
                  for l in ('py', 'libc'))
    print(f'{tool:<9} {rate[tool]:>12.0f} {mem[tool]:>8} KB {rate["smolder"] / rate[tool]:>7.2f}x '
          f'{mem[tool] / mem["smolder"]:>7.2f}x   {d}')
print("(speed: smolder's addresses/s over the tool's; memory: the tool's peak RSS over "
      f"smolder's; t_1/t_N: CPU time, median of {reps} runs with 1 and with N/2 addresses)")
TIMING

# Agreement with llvm-symbolizer, block by block.
python3 - "$OUT" <<'EOF'
import sys
out = sys.argv[1]

def blocks(path):
    res, cur = [], []
    lines = open(path).read().split('\n')
    i = 0
    while i < len(lines):
        if lines[i] == '':
            if cur:
                res.append(cur)
            cur = []
            i += 1
            continue
        name = lines[i]
        loc = lines[i + 1] if i + 1 < len(lines) else '??:0:0'
        f, _, rest = loc.rpartition(':')
        f, _, line = f.rpartition(':')
        cur.append((name, f, line, rest))
        i += 2
    return res

total = agree = agree_file = agree_col = 0
diffs = []
for lib in ('py', 'libc'):
    s = blocks(f'{out}/smolder.{lib}.out')
    l = blocks(f'{out}/llvm.{lib}.out')
    addrs = open(f'{out}/{lib}.addrs').read().split()
    if len(s) != len(l):
        print(f'{lib}: {len(s)} blocks from smolder, {len(l)} from llvm-symbolizer')
    for a, x, y in zip(addrs, s, l):
        total += 1
        if [(t[0], t[2]) for t in x] == [(t[0], t[2]) for t in y]:
            agree += 1
            agree_file += [t[:3] for t in x] == [t[:3] for t in y]
            agree_col += x == y
        else:
            diffs.append((lib, a, x, y))
print(f'agreement with llvm-symbolizer: {agree}/{total} = {100.0 * agree / max(1, total):.2f}% '
      f'(function and line at every inline level); file names too: {agree_file}/{total}; '
      f'and columns: {agree_col}/{total}')
with open(f'{out}/disagreements.txt', 'w') as f:
    for lib, a, x, y in diffs:
        f.write(f'{lib} {a}\n  smolder: {x}\n  llvm:    {y}\n')
print(f'disagreements: {out}/disagreements.txt')
EOF
