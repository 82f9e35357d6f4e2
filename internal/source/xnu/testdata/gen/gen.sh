#!/bin/sh
# Rebuilds ../pcblist_n.{bin,json} and ../udp_pcblist_n.{bin,json} from
# gen.c (needs a C compiler for an LP64 little-endian target; the outputs are
# committed, the Go tests do not need one).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$tmp/gen" gen.c
"$tmp/gen" ../pcblist_n.bin ../pcblist_n.json ../udp_pcblist_n.bin ../udp_pcblist_n.json
