//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIdentify runs `farmwatch-agent identify` on real executables: the
// osslsigncode-signed PE fixture (its test CA is not trusted: untrusted), a
// copy of it changed after signing (invalid), MeshCentral Router as npm
// ships it (signed by its author, identified as MeshCentral), sentry-cli
// for macOS (Developer ID: valid through the embedded Apple root), and
// checks the exit codes: 1 when a file cannot be read, 2 without files.
func TestIdentify(t *testing.T) {
	dir := t.TempDir()
	signed, err := os.ReadFile("../../internal/source/peinfo/testdata/signed.exe")
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(dir, "tampered.exe")
	b := append([]byte(nil), signed...)
	b[0x400] ^= 1 // in the code, after the headers
	if err := os.WriteFile(tampered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	router := filepath.Join(zooCache(), "meshcentral", "node_modules", "meshcentral", "agents", "MeshCentralRouter.exe")
	sentry := filepath.Join(zooCache(), "codesign", "node_modules", "@sentry", "cli-darwin", "bin", "sentry-cli")
	for _, p := range []string{router, sentry} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("FARMWATCH_E2E") == "1" {
				t.Fatalf("FARMWATCH_E2E=1 but %s is missing: run scripts/zoo/identity-install.sh", p)
			}
			t.Skipf("%s missing (scripts/zoo/identity-install.sh installs it)", p)
		}
	}
	out, errOut, code := runAgent(t, "identify", "--format", "json", "../../internal/source/peinfo/testdata/signed.exe", tampered, router, sentry)
	if code != 0 {
		t.Fatalf("identify exit %d: %s", code, errOut)
	}
	type result struct {
		Path, Format, SHA256, Signer string
		TeamID                       string `json:"team_id"`
		Signature                    struct{ Status, Reason string }
		Match                        *struct{ Tool, CatalogID string }
	}
	var rs []result
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		rs = append(rs, r)
	}
	if len(rs) != 4 {
		t.Fatalf("%d results:\n%s", len(rs), out)
	}
	want := []struct{ format, status, signer, tool string }{
		{"pe", "untrusted", "Farmwatch Test Signer", ""},
		{"pe", "invalid", "Farmwatch Test Signer", ""},
		{"pe", "untrusted", "Ylian Saint-Hilaire", "meshcentral"},
		{"mach-o-universal", "valid", "GetSentry LLC", ""},
	}
	for i, w := range want {
		r := rs[i]
		t.Logf("%s: %s %s: %s", filepath.Base(r.Path), r.Format, r.Signature.Status, r.Signature.Reason)
		if r.Format != w.format || r.Signature.Status != w.status || r.Signer != w.signer || len(r.SHA256) != 64 {
			t.Errorf("%s: %+v, want %+v", r.Path, r, w)
		}
		if (r.Match != nil && r.Match.Tool != w.tool) || (r.Match == nil) != (w.tool == "") {
			t.Errorf("%s: match %+v, want tool %q", r.Path, r.Match, w.tool)
		}
	}
	if rs[3].TeamID != "97JCY7859U" {
		t.Errorf("sentry-cli team id %q", rs[3].TeamID)
	}
	if _, _, code := runAgent(t, "identify", filepath.Join(dir, "missing")); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
	if _, _, code := runAgent(t, "identify"); code != 2 {
		t.Errorf("no files: exit %d, want 2", code)
	}
}
