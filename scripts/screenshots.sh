#!/usr/bin/env bash
# Regenerates the collector's web page screenshots in docs/img/ from a real
# run: the fleet end-to-end test (real collector, three farm agents sharing a
# KVM, a peer and a gateway, two office agents) renders the fleet page, the
# host list and the alerts page in headless Chromium and writes the PNGs.
# Needs Chromium (Debian package chromium) and Go; takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(pwd)/docs/img
mkdir -p "$out"
FARMWATCH_SCREENSHOTS=$out go test -count=1 -run 'TestFleetFarmEndToEnd$' -v ./test/e2e
ls -l "$out"/collector-*.png
