#!/usr/bin/env bash
# packaging/build.sh VERSION OUTDIR — builds every farmwatch package on Linux
# from the binaries `make cross` left in dist/<os>-<arch>/:
#   farmwatch-agent_<v>_<arch>.deb / farmwatch-agent-<v>-1.<arch>.rpm  (nfpm)
#   farmwatch-agent_<v>_windows_amd64.msi                              (wixl)
#   farmwatch-agent_<v>_darwin_<arch>.pkg                              (tools/mkpkg)
#   farmwatch.mobileconfig                                             (template)
#   SHA256SUMS
# Environment:
#   DIST=dir            binaries (default: <repo>/dist)
#   PACKAGES="deb rpm msi pkg mobileconfig"   the subset to build (default: all)
#   SIGN_CERT, SIGN_KEY PEM certificate (chain) and private key: Authenticode-
#                       sign the Windows .exe and .msi with osslsigncode
#   SIGN_KEY_PASS       the key's passphrase, if any
#   SIGN_TIMESTAMP_URL  RFC 3161 time-stamp server (optional; needs network)
#   NFPM                nfpm command (default: go run nfpm@v2.45.2)
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 VERSION OUTDIR" >&2
	exit 2
fi
RAW_VERSION=$1
OUTDIR=$2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=${DIST:-$ROOT/dist}
DIST=$(cd "$DIST" && pwd)
PACKAGES=${PACKAGES:-deb rpm msi pkg mobileconfig}
NFPM=${NFPM:-go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
cd "$ROOT"

want() { [[ " $PACKAGES " == *" $1 "* ]]; }
need() { command -v "$1" >/dev/null || { echo "build.sh: $1 not found (Debian package $2)" >&2; exit 1; }; }
bin() { # bin OS ARCH -> path of the built agent, or fail
	local f="$DIST/$1-$2/farmwatch-agent"
	[ "$1" = windows ] && f=$f.exe
	[ -f "$f" ] || { echo "build.sh: $f missing: run make cross" >&2; exit 1; }
	echo "$f"
}

# Versions: semver for nfpm and the .pkg (a leading v dropped; something not
# starting with a digit, e.g. "dev" or a bare commit, becomes 0.0.0-<it>), and
# the numeric major.minor.patch Windows Installer requires.
VERSION=${RAW_VERSION#v}
[[ $VERSION =~ ^[0-9] ]] || VERSION="0.0.0-$VERSION"
# git describe's "1.2.3-4-gabcdef[-dirty]" is 4 commits after 1.2.3: make it
# semver build metadata (sorts after 1.2.3), not a pre-release (before).
if [[ $VERSION =~ ^(.+)-([0-9]+)-g([0-9a-f]+)(-dirty)?$ ]]; then
	VERSION="${BASH_REMATCH[1]}+${BASH_REMATCH[2]}.g${BASH_REMATCH[3]}${BASH_REMATCH[4]:+.dirty}"
fi
if [[ $VERSION =~ ^([0-9]+)(\.([0-9]+))?(\.([0-9]+))? ]]; then
	MSI_VERSION="${BASH_REMATCH[1]}.${BASH_REMATCH[3]:-0}.${BASH_REMATCH[5]:-0}"
fi
FILE_VERSION=${VERSION//[^A-Za-z0-9.+~-]/_}

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

# sign IN OUT: Authenticode-sign a PE or MSI file when a certificate is given.
signing() { [ -n "${SIGN_CERT:-}" ] && [ -n "${SIGN_KEY:-}" ]; }
sign() {
	local args=(sign -certs "$SIGN_CERT" -key "$SIGN_KEY" -h sha256
		-n "farmwatch agent" -i "https://github.com/farmwatch/farmwatch")
	[ -n "${SIGN_KEY_PASS:-}" ] && args+=(-pass "$SIGN_KEY_PASS")
	[ -n "${SIGN_TIMESTAMP_URL:-}" ] && args+=(-ts "$SIGN_TIMESTAMP_URL")
	rm -f "$2"
	osslsigncode "${args[@]}" -in "$1" -out "$2" >/dev/null
	echo "signed $(basename "$2")"
}

if want deb || want rpm; then
	for arch in amd64 arm64; do
		st=$STAGE/linux-$arch
		mkdir -p "$st"
		b=$(bin linux "$arch")
		cp "$b" "$st/farmwatch-agent"
		cp NOTICE "$st/NOTICE"
		ln -s "$ROOT/packaging" "$st/packaging"
		for fmt in deb rpm; do
			want "$fmt" || continue
			(cd "$st" && VERSION=$VERSION ARCH=$arch $NFPM pkg --config packaging/nfpm.yaml \
				--packager "$fmt" --target "$OUTDIR/" >/dev/null)
		done
	done
fi

if want msi; then
	need wixl wixl
	need msibuild msitools
	# wixl resolves File/@Source relative to the working directory only.
	mkdir -p "$STAGE/msi"
	b=$(bin windows amd64)
	cp "$b" "$STAGE/msi/farmwatch-agent.exe"
	cp packaging/farmwatch.yaml "$STAGE/msi/farmwatch.yaml"
	cp NOTICE "$STAGE/msi/NOTICE.txt"
	if signing; then
		need osslsigncode osslsigncode
		sign "$STAGE/msi/farmwatch-agent.exe" "$STAGE/farmwatch-agent.exe"
		mv "$STAGE/farmwatch-agent.exe" "$STAGE/msi/farmwatch-agent.exe"
	fi
	msi=$OUTDIR/farmwatch-agent_${FILE_VERSION}_windows_amd64.msi
	(cd "$STAGE/msi" && wixl --arch x64 -D "Version=$MSI_VERSION" -D AgentExe=farmwatch-agent.exe \
		-D ConfigFile=farmwatch.yaml -D NoticeFile=NOTICE.txt -o "$STAGE/farmwatch.msi" "$ROOT/packaging/windows/farmwatch.wxs")
	# What wixl cannot express, set in the tables: (1) the MDM properties in
	# SecureCustomProperties, so they also reach the elevated server-side
	# install when msiexec was started by a non-administrator; (2) the config
	# component Permanent (16) and NeverOverwrite (128) on top of 64-bit (256),
	# so an upgrade (which uninstalls the old version first) keeps an edited
	# farmwatch.yaml — uninstall leaves it, like dpkg's conffiles.
	msibuild "$STAGE/farmwatch.msi" -q "UPDATE Property SET Value='COLLECTOR_URL;ENROLL_SECRET;OLDERVERSIONBEINGUPGRADED' WHERE Property='SecureCustomProperties'"
	msibuild "$STAGE/farmwatch.msi" -q "UPDATE Component SET Attributes=400 WHERE Component='DefaultConfig'"
	if signing; then
		sign "$STAGE/farmwatch.msi" "$msi"
	else
		mv "$STAGE/farmwatch.msi" "$msi"
	fi
fi

if want pkg; then
	go build -o "$STAGE/mkpkg" ./tools/mkpkg
	for arch in amd64 arm64; do
		b=$(bin darwin "$arch")
		"$STAGE/mkpkg" -version "$VERSION" -arch "$arch" -binary "$b" \
			-plist packaging/macos/com.farmwatch.agent.plist -config packaging/farmwatch.yaml \
			-scripts packaging/macos/scripts -notice NOTICE \
			-o "$OUTDIR/farmwatch-agent_${FILE_VERSION}_darwin_${arch}.pkg"
	done
fi

if want mobileconfig; then
	cp packaging/macos/farmwatch.mobileconfig "$OUTDIR/farmwatch.mobileconfig"
fi

(
	cd "$OUTDIR"
	shopt -s nullglob
	files=(*.deb *.rpm *.msi *.pkg *.mobileconfig)
	rm -f SHA256SUMS
	[ ${#files[@]} -eq 0 ] || sha256sum -- "${files[@]}" >SHA256SUMS
)
ls -l "$OUTDIR"
