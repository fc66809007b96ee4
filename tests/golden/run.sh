#!/bin/sh
# Golden-output test: runs the command in NAME.cmd (a shell line using
# $SMOLDER) and compares its stdout, stderr and exit status with NAME.out.
# Usage: run.sh SMOLDER_BINARY NAME.cmd [--update]
set -u
SMOLDER=$(realpath "$1")
cmd_file=$(realpath "$2")
out_file=${cmd_file%.cmd}.out
export SMOLDER
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
# Fixed environment so messages do not depend on the machine.
LC_ALL=C sh -c "$(cat "$cmd_file")" >"$tmp/got" 2>&1
echo "exit=$?" >>"$tmp/got"
if [ "${3:-}" = "--update" ]; then
	cp "$tmp/got" "$out_file"
	exit 0
fi
if ! diff -u "$out_file" "$tmp/got"; then
	echo "golden: output of $(basename "$cmd_file") differs (left: expected); rerun with --update if intended" >&2
	exit 1
fi
