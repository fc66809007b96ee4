#!/bin/sh
# Installs the Debian/Ubuntu packages smolder needs, and nothing when they are
# all present. Usage: scripts/install-deps.sh [build|test|bench]...
# (build is always included; test adds what `make test` needs, bench what
# bench/ compares against.)
set -eu

build_pkgs="cmake make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev libdw-dev
	libzstd-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libcurl4-openssl-dev
	libcmocka-dev libdebuginfod-dev liblzma-dev libiberty-dev g++"
test_pkgs="golang-go clang-format elfutils binutils chromium xz-utils"
bench_pkgs="linux-perf bpftrace procps time python3 python3.11-dbg libc6-dbg llvm-14"

want="$build_pkgs"
for set in "$@"; do
	case "$set" in
	build) ;;
	test) want="$want $test_pkgs" ;;
	bench) want="$want $test_pkgs $bench_pkgs" ;;
	*) echo "install-deps: unknown set '$set' (use build, test or bench)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing; run as root or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
