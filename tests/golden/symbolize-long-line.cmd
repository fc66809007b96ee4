# symbolize keeps at most 4096 bytes of a stdin line: a longer one (300 MB of
# NUL bytes, 5000 'A's) is dropped as it is read, warned about by its line
# number and answered "??"; a bad address is echoed escaped and cut to 40
# bytes; the addresses after them are still answered. The memory cap is
# checked with a 100 MB data limit where the binary runs under one (not
# ASan's, which reserves terabytes): reading the 300 MB line whole once
# failed there and stopped the output without a word.
bin="$(dirname "$SMOLDER")/tests/unit/dwarf/dwarf_inline"
addr=$(nm "$bin" | awk '$3 == "main" { print $1 }')
limit="prlimit --data=100000000"
$limit "$SMOLDER" --help >/dev/null 2>&1 || limit=""
{
	head -c 300000000 /dev/zero
	printf '\n%s\n' "$addr"
	head -c 5000 /dev/zero | tr '\0' A
	printf '\n0x1000\000junk\n\033[2J\n'
	head -c 100 /dev/zero | tr '\0' g
	printf '\n%s' "$addr"
} | $limit "$SMOLDER" symbolize --elf "$bin" | sed 's|^/.*/||'
