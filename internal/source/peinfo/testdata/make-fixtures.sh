#!/usr/bin/env bash
# Regenerates the PE fixtures used by peinfo's tests:
#
#   signed.exe    tiny Windows x64 executable with a VERSIONINFO resource
#                 (German string table first, English second) signed with
#                 Authenticode by "Farmwatch Test Signer" (O=Farmwatch Test
#                 Org), whose certificate is issued by "Farmwatch Test CA";
#                 the CA certificate is stored first in the signature's
#                 certificate set so tests prove the leaf is picked by
#                 issuer and serial, not by position.
#
# The keys and certificates are throw-away: made here, used once, deleted.
# Needs (Debian): gcc-mingw-w64-x86-64-win32 binutils-mingw-w64-x86-64
# osslsigncode openssl. Run from anywhere; writes next to this script.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# A program with no C runtime: the entry point returns at once. Keeps the
# fixture a few KiB, which also makes it a good fuzzing seed.
cat > tiny.c <<'C'
void start(void) {}
C

cat > version.rc <<'RC'
#pragma code_page(65001)
1 VERSIONINFO
FILEVERSION 1,2,3,4
PRODUCTVERSION 1,2,0,0
FILEFLAGSMASK 0x3f
FILEFLAGS 0
FILEOS 0x40004
FILETYPE 0x1
FILESUBTYPE 0
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040704b0"
    BEGIN
      VALUE "CompanyName", "Farmwatch Testfirma"
      VALUE "FileDescription", "Farmwatch PE-Testdatei"
      VALUE "FileVersion", "1.2.3.4"
      VALUE "OriginalFilename", "testdatei.exe"
      VALUE "ProductName", "Farmwatch Prüfling"
    END
    BLOCK "040904b0"
    BEGIN
      VALUE "CompanyName", "Farmwatch Test Company"
      VALUE "FileDescription", "Farmwatch PE fixture"
      VALUE "FileVersion", "1.2.3.4 (fixture)"
      VALUE "InternalName", "fixture"
      VALUE "OriginalFilename", "fixture.exe"
      VALUE "ProductName", "Farmwatch Fixture™"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x407, 1200, 0x409, 1200
  END
END
RC

x86_64-w64-mingw32-windres -O coff -o version.o version.rc
x86_64-w64-mingw32-gcc -nostdlib -Wl,--entry=start -s -Os -o tiny.exe tiny.c version.o

days=36500
openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -sha256 \
	-keyout ca.key -out ca.pem -subj "/CN=Farmwatch Test CA/O=Farmwatch Test Org" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr \
	-subj "/CN=Farmwatch Test Signer/O=Farmwatch Test Org" 2>/dev/null
printf 'extendedKeyUsage=codeSigning\nkeyUsage=critical,digitalSignature\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" \
	-sha256 -extfile leaf.ext -out leaf.pem 2>/dev/null
cat ca.pem leaf.pem > chain.pem

osslsigncode sign -certs chain.pem -key leaf.key -n "Farmwatch Fixture" -h sha256 \
	-in tiny.exe -out signed.exe >/dev/null

cp signed.exe "$here/signed.exe"
ls -l "$here/signed.exe"
