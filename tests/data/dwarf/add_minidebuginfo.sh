#!/bin/sh
# Builds a MiniDebugInfo binary the way Fedora's find-debuginfo does: $2 is
# the stripped binary, and $3 gets a copy of it with .gnu_debugdata, an
# xz-compressed ELF holding only the .symtab entries of the functions that
# .dynsym lacks, taken from the unstripped binary $1.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only --format=posix "$1" | awk '{print $1}' | sort -u >"$tmp/dynsyms"
nm --defined-only --format=posix "$1" | awk '$2 == "T" || $2 == "t" {print $1}' | sort -u \
	>"$tmp/funcsyms"
comm -13 "$tmp/dynsyms" "$tmp/funcsyms" >"$tmp/keep"
objcopy --only-keep-debug "$1" "$tmp/mini.debug"
objcopy -S --remove-section .gdb_index --remove-section .comment \
	--keep-symbols="$tmp/keep" "$tmp/mini.debug" "$tmp/mini"
xz -q "$tmp/mini"
objcopy --add-section .gnu_debugdata="$tmp/mini.xz" "$2" "$3"
