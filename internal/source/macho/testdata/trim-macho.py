#!/usr/bin/env python3
"""trim-macho.py IN OUT: copy a Mach-O (thin or universal) keeping only the
header, the load commands and the code signature of each slice; every other
byte is zeroed, so the file keeps its size and layout and compresses to
almost nothing. Used by npm-fixtures.sh."""
import struct, sys

LC_CODE_SIGNATURE = 0x1d

def keep_ranges(data, base):
    magic = struct.unpack_from('<I', data, base)[0]
    if magic == 0xfeedfacf:
        hdr = 32
    elif magic == 0xfeedface:
        hdr = 28
    else:
        raise SystemExit('not a little-endian Mach-O slice at %d: %#x' % (base, magic))
    ncmds, sizeofcmds = struct.unpack_from('<II', data, base + 16)
    ranges = [(base, base + hdr + sizeofcmds)]
    off = base + hdr
    for _ in range(ncmds):
        cmd, size = struct.unpack_from('<II', data, off)
        if cmd == LC_CODE_SIGNATURE:
            dataoff, datasize = struct.unpack_from('<II', data, off + 8)
            ranges.append((base + dataoff, base + dataoff + datasize))
        off += size
    return ranges

src, dst = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
ranges = []
if struct.unpack_from('>I', data, 0)[0] == 0xcafebabe:
    n = struct.unpack_from('>I', data, 4)[0]
    ranges.append((0, 8 + 20 * n))
    for i in range(n):
        _, _, off, size, _ = struct.unpack_from('>iiIII', data, 8 + 20 * i)
        ranges += keep_ranges(data, off)
else:
    ranges += keep_ranges(data, 0)
out = bytearray(len(data))
for lo, hi in ranges:
    out[lo:hi] = data[lo:hi]
open(dst, 'wb').write(bytes(out))
