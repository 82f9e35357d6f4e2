#!/usr/bin/env bash
# identity-install.sh: installs the real binaries whose identity the
# remote-access catalog records as verified (internal/detect/remoteaccess/
# catalog/curated.yaml, `verified:`), for the tests that re-read them:
#   go test ./internal/detect/remoteaccess/ -run TestVerifiedFactsOnRealBinaries
#   go test ./test/e2e/ -run TestRenamedRealBinaries
#   go test ./internal/source/peinfo ./internal/source/macho ./internal/source/fileid
# Only the Debian archive, npm and the Go module proxy are used. Everything
# lands under $ZOO_CACHE (default /var/cache/farmwatch-zoo) and is kept
# between runs; a second run installs nothing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Debian packages of the Linux servers, viewers and tunnels.
zapt x11vnc tigervnc-standalone-server tigervnc-scraping-server tigervnc-viewer tightvncserver \
  xrdp openssh-server openssh-client tmate wayvnc freerdp2-shadow-x11 v2ray

# MeshCentral 1.1.55 (server + every MeshAgent build). The zoo's own install
# (scripts/zoo/*meshcentral*) is used when it holds that version.
if ! grep -qs '"version": "1.1.55"' "$ZOO_CACHE/meshcentral/node_modules/meshcentral/package.json"; then
  znpm meshcentral-id meshcentral@1.1.55
fi

# ngrok 2.3.41 as npm ships it for Linux, Windows and macOS (--force: the
# packages are marked for their own OS and CPU).
znpm ngrok --force @expo/ngrok-bin-linux-x64@2.3.42 @expo/ngrok-bin-win32-x64@2.3.41 \
  @expo/ngrok-bin-darwin-x64@2.3.41 @expo/ngrok-bin-darwin-arm64@2.3.41

# Vendor-signed binaries for the code-signature verifiers' tests
# (internal/source/peinfo, internal/source/macho, internal/source/fileid):
# sentry-cli 3.8.0 for macOS (universal, Developer ID, RFC 3161 timestamp)
# and MSAL runtime 0.20.6 (Windows DLLs signed by Microsoft). --force: the
# packages are marked for their own OS and CPU.
znpm codesign --force @sentry/cli-darwin@3.8.0 @azure/msal-node-runtime@0.20.6

# zgocross NAME PKG@VERSION GOOS...: build PKG for each GOOS (amd64, no cgo,
# -trimpath) into $ZOO_CACHE/identity/go/NAME-GOOS-amd64[.exe] once.
zgocross() {
  local name=$1 pkg=$2 os out gp; shift 2
  mkdir -p "$ZOO_CACHE/identity/go"
  for os in "$@"; do
    out="$ZOO_CACHE/identity/go/$name-$os-amd64"
    [ "$os" = windows ] && out="$out.exe"
    [ -x "$out" ] && continue
    zlog "go build $pkg for $os → $out"
    gp=$(mktemp -d)
    GOOS=$os GOARCH=amd64 CGO_ENABLED=0 GOPATH="$gp" GOMODCACHE="$(go env GOMODCACHE)" go install -trimpath "$pkg"
    find "$gp/bin" -type f -exec mv {} "$out" \;
    chmod 755 "$out"
    chmod -R u+w "$gp" && rm -rf "$gp"
  done
}
zgocross xray github.com/xtls/xray-core/main@v1.260327.0 linux windows darwin
zgocross sing-box github.com/sagernet/sing-box/cmd/sing-box@v1.14.1 linux windows darwin
zgocross tailscaled tailscale.com/cmd/tailscaled@v1.100.0 linux windows
zlog "identity binaries ready under $ZOO_CACHE"
