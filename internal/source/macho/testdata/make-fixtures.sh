#!/usr/bin/env bash
# Regenerates the Mach-O fixture used by macho's tests:
#
#   adhoc-arm64.gz  a tiny Go program built with GOOS=darwin GOARCH=arm64.
#                   Go's linker ad-hoc signs darwin/arm64 binaries, so this
#                   is a real linker-made signature: identifier "a.out" (go
#                   build links to a temporary a.out, then copies it), no
#                   team ID, flags adhoc|linker-signed.
#
# To keep the fixture small, the contents of every segment except
# __LINKEDIT (which holds the symbol table and the code signature) are
# zeroed before compressing: the parser reads only the header, the load
# commands and __LINKEDIT, and the file keeps its exact size and layout.
# Needs only Go and python3. Run from anywhere; writes next to this script.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

cat > go.mod <<'MOD'
module fixture
go 1.21
MOD
printf 'package main\n\nfunc main() {}\n' > main.go
GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 GOFLAGS= go build -trimpath -ldflags='-s -w -buildid=' -o farmwatch-fixture .

python3 - farmwatch-fixture <<'PY'
import struct, sys
path = sys.argv[1]
data = bytearray(open(path, 'rb').read())
magic, _, _, _, ncmds, sizeofcmds = struct.unpack_from('<IiiIII', data, 0)
assert magic == 0xfeedfacf, hex(magic)
keep_end = 32 + sizeofcmds  # header and load commands
off = 32
for _ in range(ncmds):
    cmd, size = struct.unpack_from('<II', data, off)
    if cmd == 0x19:  # LC_SEGMENT_64
        name = data[off+8:off+24].rstrip(b'\0').decode()
        fileoff, filesize = struct.unpack_from('<QQ', data, off+40)
        if name != '__LINKEDIT':
            lo = max(fileoff, keep_end)
            hi = fileoff + filesize
            if hi > lo:
                data[lo:hi] = bytes(hi - lo)
    off += size
open(path, 'wb').write(bytes(data))
PY

gzip -9 -n -c farmwatch-fixture > "$here/adhoc-arm64.gz"
ls -l "$here/adhoc-arm64.gz"
