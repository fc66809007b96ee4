#!/bin/bash
# Symbolization speed, memory and agreement: smolder symbolize against
# llvm-symbolizer-14 --inlines, eu-addr2line -f -i and addr2line -f -i.
#
# Addresses: N (default 10000) random addresses inside sized function symbols
# of python3.11 (an LTO build; debug info from python3.11-dbg) and of libc
# (libc6-dbg), half each, fixed seed, fed in one go on stdin to each tool
# (one run per binary). Throughput excludes start-up: each tool also runs
# with 1 address, and addresses/s = (N - 1) / (t_N - t_1). Peak RSS is the
# largest of the two N-address runs. Agreement: the share of addresses where
# smolder's frames equal llvm-symbolizer's at every inline level (function
# and line; file names and columns counted separately), disagreements listed.
#
# Usage: bench/symbolize.sh [N]   (SMOLDER=path/to/smolder, default build/smolder)
set -euo pipefail
cd "$(dirname "$0")/.."
SMOLDER=${SMOLDER:-build/smolder}
N=${1:-10000}
OUT=${OUT:-$(mktemp -d /tmp/smolder-symbench.XXXXXX)}
PY=/usr/bin/python3.11
LIBC=$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)

for t in llvm-symbolizer-14 eu-addr2line addr2line /usr/bin/time python3; do
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

run() { # tool file input output -> "seconds kbytes"
	local tool=$1 file=$2 in=$3 out=$4
	case $tool in
	smolder) set -- "$SMOLDER" symbolize --elf "$file" ;;
	llvm) set -- llvm-symbolizer-14 --inlines --obj="$file" ;;
	eu) set -- eu-addr2line -f -i -e "$file" ;;
	binutils) set -- addr2line -f -i -e "$file" ;;
	esac
	/usr/bin/time -f "%e %M" -o "$OUT/time" "$@" <"$in" >"$out" 2>/dev/null || true
	cat "$OUT/time"
}

printf "%-9s %12s %10s %9s %9s\n" tool "addresses/s" "peak RSS" "speed" "memory"
declare -A rate rss
for tool in smolder llvm eu binutils; do
	# Warm the page cache first so that no tool pays for the first read.
	run $tool "$PY" "$OUT/py.one" /dev/null >/dev/null
	run $tool "$LIBC" "$OUT/libc.one" /dev/null >/dev/null
	read -r t1p _ < <(run $tool "$PY" "$OUT/py.one" /dev/null)
	read -r t1l _ < <(run $tool "$LIBC" "$OUT/libc.one" /dev/null)
	read -r tnp mp < <(run $tool "$PY" "$OUT/py.addrs" "$OUT/$tool.py.out")
	read -r tnl ml < <(run $tool "$LIBC" "$OUT/libc.addrs" "$OUT/$tool.libc.out")
	rate[$tool]=$(python3 -c "print(int(($N - 2) / max(1e-3, $tnp - $t1p + $tnl - $t1l)))")
	rss[$tool]=$((mp > ml ? mp : ml))
done
for tool in smolder llvm eu binutils; do
	printf "%-9s %12s %8s KB %8.2fx %8.2fx\n" $tool "${rate[$tool]}" "${rss[$tool]}" \
		"$(python3 -c "print(${rate[smolder]} / ${rate[$tool]})")" \
		"$(python3 -c "print(${rss[$tool]} / ${rss[smolder]})")"
done
echo "(speed: smolder's addresses/s over the tool's; memory: the tool's peak RSS over smolder's)"

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
