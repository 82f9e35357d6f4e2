#!/bin/sh
# layout.sh: print the sizes/offsets of the Windows SDK structures used by
# winnet, as compiled by mingw-w64 for every Windows architecture whose
# cross compiler is installed (the .c file is compiled, never run: values are
# read back from the generated assembly). Any value that differs from the
# constants in winnet.go fails compilation through a _Static_assert.
#   usage: sh internal/source/winnet/testdata/layout.sh
set -eu
here=$(dirname "$0")
found=0
for cc in x86_64-w64-mingw32-gcc i686-w64-mingw32-gcc aarch64-w64-mingw32-gcc aarch64-w64-mingw32-clang; do
	command -v "$cc" >/dev/null 2>&1 || continue
	found=1
	echo "# $cc"
	"$cc" -S -O0 -fno-zero-initialized-in-bss -o - "$here/layout.c" |
		awk '/^_?fw_[A-Za-z0-9_]*:/ { sub(/:$/, "", $1); sub(/^_/, "", $1); sub(/^fw_/, "", $1); name = $1; next }
		     name != "" && $1 == ".quad" { print name, $2; name = ""; next }
		     name != "" && $1 == ".space" { print name, 0; name = ""; next }
		     name != "" && $1 == ".long" { lo = $2; getline; print name, lo + $2 * 4294967296; name = "" }'
done
[ "$found" = 1 ] || { echo "no mingw-w64 cross compiler found" >&2; exit 1; }
