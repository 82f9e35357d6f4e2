#!/usr/bin/env bash
# Makes com.example.binary.plist, the binary property list twin of
# binary-source.xml, with Python's plistlib: an encoder independent of the
# howett.net/plist decoder under test (the tests also round-trip the XML
# fixtures through howett.net/plist's own binary encoder). Needs python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python3 - "$here/binary-source.xml" "$here/com.example.binary.plist" <<'PY'
import plistlib, sys
with open(sys.argv[1], 'rb') as f:
    job = plistlib.load(f)
with open(sys.argv[2], 'wb') as f:
    plistlib.dump(job, f, fmt=plistlib.FMT_BINARY, sort_keys=True)
PY
ls -l "$here/com.example.binary.plist"
