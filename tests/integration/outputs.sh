#!/bin/sh
# Output paths (root): every command that writes a file named with -o
# (flamegraph, diff, query, record) must
#  - refuse a symlink planted by another user in a sticky world-writable
#    directory, leaving the file it points at untouched (exit 1, one line);
#  - refuse a device node or a FIFO, which stays what it was (one line; a hang
#    is a failure: every run is under timeout 10, record's under 20);
#  - write the profile to standard output for "-o -";
#  - replace an existing regular file atomically: a hard link to the old file
#    keeps the old bytes, the new file has the documented mode and no
#    temporary file is left.
# Usage: outputs.sh SMOLDER VIZ_GENPROFILE GO_FIXTURE
set -u
smolder=$(realpath "$1") gen=$(realpath "$2") go_fixture=$(realpath "$3")

if [ "$(id -u)" != 0 ]; then
	echo "outputs: needs root (chown of a symlink to another user, mknod, record); skipping"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

# Inputs: two generated profiles and a one-window store for query.
"$gen" base.pb.gz 300 60 base >/dev/null && "$gen" new.pb.gz 360 60 new >/dev/null ||
	{ echo "outputs: viz_genprofile failed"; exit 1; }
cp "$go_fixture" go.pb.gz || exit 1
mkdir -p -m 0750 store/2023-11-14/22 &&
	cp base.pb.gz store/2023-11-14/22/smolder-h-20231114T221320Z.pb.gz || exit 1

# Each command, writing to $1 (extra flags for record: a short whole-machine run).
run() {
	case $cmd in
	flamegraph) timeout 10 "$smolder" flamegraph -o "$1" go.pb.gz ;;
	diff) timeout 10 "$smolder" diff -n 3 -o "$1" base.pb.gz new.pb.gz ;;
	query) timeout 10 "$smolder" query --store store -o "$1" ;;
	record) timeout 20 "$smolder" record -d 1 -F 49 -o "$1" ;;
	esac
}

# A refusal: non-zero exit, exactly one line on stderr that names the path.
expect_refusal() {
	what=$1 target=$2
	run "$target" >out 2>err
	rc=$?
	if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
		bad "$cmd -o $what: exit $rc, expected a refusal"
	fi
	if [ "$(wc -l <err)" != 1 ] || ! grep -qF "'$target'" err; then
		bad "$cmd -o $what: expected one line naming '$target' on stderr, got: $(cat err)"
	fi
}

mkdir sticky && chmod 1777 sticky || exit 1
printf 'root-only victim\n' >victim && chmod 0600 victim || exit 1
mknod devnull c 1 3 || exit 1
mkfifo fifo || exit 1
# A directory of another user (not sticky, not writable by others).
mkdir nobodys && chown 65534:65534 nobodys || exit 1

for cmd in flamegraph diff query record; do
	case $cmd in
	flamegraph | diff) mode=640 ;;
	*) mode=600 ;;
	esac

	# 1. A symlink another user planted in a sticky world-writable directory.
	rm -f sticky/link && ln -s "$work/victim" sticky/link && chown -h 65534:65534 sticky/link
	expect_refusal "a symlink of another user" sticky/link
	[ "$(cat victim)" = "root-only victim" ] || bad "$cmd: the symlink's target was written"
	[ -L sticky/link ] || bad "$cmd: the planted symlink was replaced"
	grep -q "symlink" err || bad "$cmd: the refusal does not say it is a symlink: $(cat err)"
	# The same in a directory of another user, without the sticky bit.
	rm -f nobodys/link && ln -s "$work/victim" nobodys/link && chown -h 65534:65534 nobodys/link
	expect_refusal "a symlink in another user's directory" nobodys/link
	[ "$(cat victim)" = "root-only victim" ] || bad "$cmd: the symlink's target was written"

	# 2. A device node and a FIFO stay what they are.
	expect_refusal "a character device" devnull
	[ -c devnull ] && [ "$(stat -c '%t:%T %a' devnull)" = "1:3 644" ] ||
		bad "$cmd: the device node was changed: $(stat -c '%F %t:%T %a' devnull)"
	expect_refusal "a FIFO" fifo
	[ -p fifo ] || bad "$cmd: the FIFO was replaced"
	grep -q "FIFO" err || bad "$cmd: the refusal does not say it is a FIFO: $(cat err)"

	# 3. "-o -" is standard output.
	rm -f ./-
	run - >stdout 2>err
	rc=$?
	[ "$rc" = 0 ] || bad "$cmd -o -: exit $rc: $(cat err)"
	[ ! -e ./- ] || bad "$cmd -o -: wrote a file named '-'"
	case $cmd in
	flamegraph | diff)
		grep -q '<!DOCTYPE html>' stdout || bad "$cmd -o -: no HTML on stdout" ;;
	*)
		"$smolder" report -n 1 stdout >/dev/null 2>&1 ||
			bad "$cmd -o -: stdout is not a profile" ;;
	esac

	# 4. An existing regular file is replaced by rename, with the documented mode.
	rm -f out keep && printf 'old\n' >out && chmod 0666 out && ln out keep
	run out >/dev/null 2>err
	rc=$?
	[ "$rc" = 0 ] || bad "$cmd -o out (existing file): exit $rc: $(cat err)"
	[ "$(cat keep)" = "old" ] || bad "$cmd: the old file was overwritten in place, not replaced"
	[ "$(stat -c %a out)" = "$mode" ] || bad "$cmd: mode $(stat -c %a out), expected $mode"
	[ "$(stat -c %s out)" -gt 100 ] || bad "$cmd: the new file is too small"
	[ -z "$(ls -A | grep '^\.')" ] || bad "$cmd: temporary files left: $(ls -A | grep '^\.')"

	# 5. Our own symlink in our own directory is followed: the target is replaced.
	rm -f mine real && printf 'old\n' >real && ln -s real mine
	run mine >/dev/null 2>err || bad "$cmd -o (own symlink): $(cat err)"
	[ -L mine ] && [ "$(stat -c %s real)" -gt 100 ] || bad "$cmd: own symlink not followed"
done

[ "$fail" = 0 ] && echo "outputs: all checks passed"
exit "$fail"
