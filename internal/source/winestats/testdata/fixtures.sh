#!/bin/sh
# fixtures.sh: regenerate the .bin fixtures from fixtures.c with the
# mingw-w64 cross compiler (the program is compiled, never run; objcopy
# extracts each section's bytes).
#   usage: sh internal/source/winestats/testdata/fixtures.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
x86_64-w64-mingw32-gcc -c -O0 -o "$tmp/fixtures.o" "$here/fixtures.c"
# section:file:size (COFF pads sections to their alignment; the size is
# sizeof the structure, as layout.sh reports it)
for s in drod:data_rod:96 prod:path_rod:160 row4:tcprow:20 row6:tcp6row:52; do
	sec=${s%%:*} rest=${s#*:}
	out="$here/${rest%%:*}.bin"
	x86_64-w64-mingw32-objcopy -O binary --only-section=".fw$sec" "$tmp/fixtures.o" "$out"
	truncate -s "${rest#*:}" "$out"
done
ls -l "$here"/*.bin
