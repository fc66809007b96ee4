#!/bin/sh
# Copies debug file $1 to $2/.build-id/xx/rest.debug, named by its GNU build-id,
# as Debian's -dbgsym packages lay them out under /usr/lib/debug.
set -eu
id=$(readelf -n "$1" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p' | head -1)
[ -n "$id" ] || { echo "place_build_id.sh: no build-id in $1" >&2; exit 1; }
rest=${id#??}
mkdir -p "$2/.build-id/${id%"$rest"}"
cp "$1" "$2/.build-id/${id%"$rest"}/$rest.debug"
