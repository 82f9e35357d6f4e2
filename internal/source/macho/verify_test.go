package macho

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/allowlist"
	"github.com/farmwatch/farmwatch/internal/source/codesign"
)

// realBinary returns a file of an npm package that
// scripts/zoo/identity-install.sh installs under $ZOO_CACHE/codesign,
// skipping when it is missing unless FARMWATCH_E2E=1.
func realBinary(t testing.TB, rel string) string {
	t.Helper()
	cache := os.Getenv("ZOO_CACHE")
	if cache == "" {
		cache = "/var/cache/farmwatch-zoo"
	}
	p := filepath.Join(cache, "codesign", "node_modules", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("FARMWATCH_E2E") == "1" {
			t.Fatalf("FARMWATCH_E2E=1 but %s is missing: run scripts/zoo/identity-install.sh", p)
		}
		t.Skipf("%s missing (scripts/zoo/identity-install.sh installs it)", p)
	}
	return p
}

const sentryCLI = "@sentry/cli-darwin/bin/sentry-cli" // 3.8.0, universal, Developer ID

func TestAppleRootEmbedded(t *testing.T) {
	roots := AppleRoots()
	if len(roots) != 1 {
		t.Fatalf("%d embedded roots", len(roots))
	}
	sum := sha256.Sum256(roots[0].Raw)
	// Apple Root CA's published fingerprint.
	if got := hex.EncodeToString(sum[:]); got != "b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024" {
		t.Fatalf("embedded root fingerprint %s", got)
	}
}

// TestVerifyDeveloperID checks a real Developer ID signed universal binary
// (sentry-cli 3.8.0 from npm): valid against the embedded Apple root;
// untrusted without it; invalid after a code byte, the Team ID or an
// entitlement changes; and an allowlist entry for its Team ID covers only
// the valid file.
func TestVerifyDeveloperID(t *testing.T) {
	path := realBinary(t, sentryCLI)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	apple := &codesign.Trust{Roots: AppleRoots(), NoSystemRoots: true}
	v := Verify(bytes.NewReader(orig), int64(len(orig)), apple)
	t.Logf("sentry-cli: %s", v)
	if v.Status != codesign.Valid || v.Signer != "97JCY7859U" || v.Timestamp == nil || !strings.Contains(v.Reason, "all 2 slices") {
		t.Fatalf("verdict %+v, want valid for team 97JCY7859U with a timestamp", v)
	}
	if v := Verify(bytes.NewReader(orig), int64(len(orig)), &codesign.Trust{NoSystemRoots: true}); v.Status != codesign.Untrusted {
		t.Errorf("without the Apple root: %s, want untrusted", v)
	}

	arches, err := fatSlices(bytes.NewReader(orig), int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	last := arches[len(arches)-1]
	slice := io.NewSectionReader(bytes.NewReader(orig), last.off, last.size)
	sigOff, sigSize, err := signatureLocation(slice)
	if err != nil {
		t.Fatal(err)
	}
	sigStart := last.off + sigOff
	sig := orig[sigStart : sigStart+sigSize]
	teamAt := bytes.Index(sig, []byte("97JCY7859U\x00"))
	if teamAt < 0 {
		t.Fatal("Team ID not found in the last slice's signature")
	}
	mutate := func(name string, off int64, b byte) (string, []byte) {
		c := bytes.Clone(orig)
		c[off] = b
		return name, c
	}
	entry := allowlist.Entry{Tool: "sentry", Signer: "97JCY7859U", Owner: "it", Reason: "test"}
	wantReason := map[string]string{"code byte": "changed after signing", "team id": "does not verify over the CodeDirectory", "entitlements": "special slot 5"}
	for _, m := range []func() (string, []byte){
		func() (string, []byte) {
			return mutate("code byte", last.off+last.size/2, orig[last.off+last.size/2]^1)
		},
		func() (string, []byte) { return mutate("team id", sigStart+int64(teamAt), 'X') },
		func() (string, []byte) {
			ent := bytes.Index(sig, []byte{0xfa, 0xde, 0x71, 0x71}) // CSMAGIC_EMBEDDED_ENTITLEMENTS
			if ent < 0 {
				t.Fatal("no entitlements blob in the signature")
			}
			// "<?xml version" → "<?xml Xersion": the plist after the
			// 8-byte blob header.
			return mutate("entitlements", sigStart+int64(ent)+8+6, 'X')
		},
	} {
		name, b := m()
		v := Verify(bytes.NewReader(b), int64(len(b)), apple)
		t.Logf("%s changed: %s", name, v)
		if v.Status != codesign.Invalid || !strings.Contains(v.Reason, wantReason[name]) {
			t.Errorf("%s changed: %s, want invalid with %q", name, v, wantReason[name])
		}
		if entry.Matches(allowlist.Subject{Tool: "sentry", TeamID: "97JCY7859U", Signature: string(v.Status)}) {
			t.Errorf("%s changed: the Team ID's allowlist entry matches", name)
		}
	}
	if !entry.Matches(allowlist.Subject{Tool: "sentry", TeamID: v.Signer, Signature: string(v.Status)}) {
		t.Error("the Team ID's allowlist entry does not match the valid file")
	}
}

// TestVerifyAdHoc: the Go linker's ad hoc signature (a darwin/arm64
// program built here) is unsigned for trust; a changed copy is invalid.
func TestVerifyAdHoc(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module adhoc\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { println(\"ad hoc\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", "adhoc", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "adhoc"))
	if err != nil {
		t.Fatal(err)
	}
	v := Verify(bytes.NewReader(b), int64(len(b)), nil)
	if v.Status != codesign.Unsigned || !strings.Contains(v.Reason, "ad hoc") {
		t.Fatalf("ad hoc fixture: %s", v)
	}
	b[len(b)/4] ^= 1
	if v := Verify(bytes.NewReader(b), int64(len(b)), nil); v.Status != codesign.Invalid {
		t.Fatalf("changed ad hoc fixture: %s, want invalid", v)
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(readFixture(f))
	f.Add([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		v := Verify(bytes.NewReader(b), int64(len(b)), &codesign.Trust{NoSystemRoots: true})
		if v.Status == "" || v.Reason == "" {
			t.Fatalf("empty verdict %+v", v)
		}
		if v.Status == codesign.Valid {
			t.Fatalf("valid without a trusted root: %+v", v)
		}
	})
}
