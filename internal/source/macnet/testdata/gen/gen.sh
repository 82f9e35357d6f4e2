#!/bin/sh
# Rebuilds ../route_dump.bin, ../arp_dump.bin and ../layout.json from gen.c
# (needs a C compiler for an LP64 little-endian target; the outputs are
# committed, the Go tests do not need one).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$tmp/gen" gen.c
"$tmp/gen" ../route_dump.bin ../arp_dump.bin ../layout.json
