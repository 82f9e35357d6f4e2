#!/bin/sh
# fixtures.sh: regenerate the .bin fixtures from fixtures.c with the
# mingw-w64 cross compiler (the program is compiled, never run; objcopy
# extracts each section's bytes).
#   usage: sh internal/source/winnet/testdata/fixtures.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
x86_64-w64-mingw32-gcc -c -O0 -o "$tmp/fixtures.o" "$here/fixtures.c"
# section:file:size (COFF pads sections to their alignment; the size is the
# structure's, from layout.c: 8 + rows * row size)
for s in fwd:forward_table2:424 net:ipnet_table2:536 ifl:wlan_interface_list:540 conn:wlan_connection:604; do
	sec=${s%%:*} rest=${s#*:}
	out="$here/${rest%%:*}.bin"
	x86_64-w64-mingw32-objcopy -O binary --only-section=".fw$sec" "$tmp/fixtures.o" "$out"
	truncate -s "${rest#*:}" "$out"
done
ls -l "$here"/*.bin
