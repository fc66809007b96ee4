#!/bin/sh
# Appends one byte to file $1: it stays a valid ELF file but its CRC-32 changes.
set -eu
printf x >>"$1"
