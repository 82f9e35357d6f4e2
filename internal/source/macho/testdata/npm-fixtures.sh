#!/usr/bin/env bash
# Regenerates the Mach-O fixtures taken from real npm packages (see
# npm-fixtures.md for what each is and who published it):
#
#   npm-fsevents.node.gz           fsevents@2.3.3 fsevents.node (universal x86_64+arm64, ad hoc)
#   npm-rollup-darwin-arm64.node.gz @rollup/rollup-darwin-arm64@4.69.3 (thin arm64, ad hoc, linker-signed)
#   npm-esbuild-darwin-arm64.gz    @esbuild/darwin-arm64@0.28.2 bin/esbuild (thin arm64, Go linker ad hoc)
#   npm-sentry-cli-darwin.gz       @sentry/cli-darwin@3.8.0 bin/sentry-cli (universal, Developer ID, hardened runtime)
#
# Each file keeps its exact size and layout; every byte outside the Mach-O
# headers, load commands and the code signature (LC_CODE_SIGNATURE's range,
# untouched) is zeroed before gzip, so the parser reads the real signature
# bytes and the fixtures stay small. Needs npm, python3 and gzip.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fetch() { # package@version sha256-of-tarball path-in-package output
	local tgz
	tgz=$(npm pack --silent "$1")
	echo "$2  $tgz" | sha256sum -c - >/dev/null || { echo "$1: tarball checksum differs" >&2; exit 1; }
	mkdir -p "x/$tgz" && tar xzf "$tgz" -C "x/$tgz"
	python3 "$here/trim-macho.py" "x/$tgz/package/$3" "$4.raw"
	gzip -9 -n -c "$4.raw" > "$here/$4.gz"
}

fetch fsevents@2.3.3 c77e7a5d5ff31dd7acea7c44d4a0455e0528cdacbd24a8cb6c82b66d239b587e fsevents.node npm-fsevents.node
fetch @rollup/rollup-darwin-arm64@4.69.3 712942d7100b1762a8f56a97cb80294902d4c9b0da307b1dedc7c226097100bb rollup.darwin-arm64.node npm-rollup-darwin-arm64.node
fetch @esbuild/darwin-arm64@0.28.2 1980cde09749094452b20d36ff267585ccb3f72749c7bc97291cd9996ccf5a2a bin/esbuild npm-esbuild-darwin-arm64
fetch @sentry/cli-darwin@3.8.0 711d8d61e448b2e8a10c217acbfe206db7456e0072f041136e3bf7935fdf5cfa bin/sentry-cli npm-sentry-cli-darwin
ls -l "$here"/npm-*.gz
