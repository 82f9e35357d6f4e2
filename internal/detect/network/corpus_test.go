package network

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goldenflag "github.com/farmwatch/farmwatch/internal/detect/network/internal/golden"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

var update = goldenflag.Update

const goldenDir = "../../../testdata/network/golden"

// sharedPcaps returns ../shared/data/pcaps from FARMWATCH_SHARED or skips.
func sharedPcaps(t testing.TB) string {
	t.Helper()
	s := os.Getenv("FARMWATCH_SHARED")
	if s == "" {
		testenv.Missing(t, "FARMWATCH_SHARED is not set: the public captures live in ../shared/data/pcaps (the Makefile sets it); skipping")
	}
	dir := filepath.Join(s, "data", "pcaps")
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv")); err != nil {
		t.Fatalf("FARMWATCH_SHARED=%s has no data/pcaps/MANIFEST.tsv: %v", s, err)
	}
	return dir
}

type manifestEntry struct{ file, label, notes string }

func readManifest(t testing.TB, dir string) []manifestEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []manifestEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var col map[string]int
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if col == nil {
			col = map[string]int{}
			for i, h := range fields {
				col[h] = i
			}
			continue
		}
		out = append(out, manifestEntry{file: fields[col["local_file"]], label: fields[col["label"]], notes: fields[col["notes"]]})
	}
	return out
}

// expectation is the label-level truth for one capture: a finding with
// this tool and category must exist, and no finding may exceed maxSev.
type expectation struct {
	tool     string
	category report.Category
	minSev   report.Severity
	maxSev   report.Severity
}

var benign = expectation{maxSev: report.SeverityLow}

var expectations = map[string]expectation{
	"rdp-to-ssl.pcap":                 {"rdp", report.CategoryRemoteAccess, report.SeverityHigh, report.SeverityHigh},
	"rdp-proprietary-encryption.pcap": {"rdp", report.CategoryRemoteAccess, report.SeverityHigh, report.SeverityHigh},
	"rdp-x509.pcap":                   {"rdp", report.CategoryRemoteAccess, report.SeverityHigh, report.SeverityHigh},
	"rdpeudp-handshake-success.pcap":  {"rdp", report.CategoryRemoteAccess, report.SeverityHigh, report.SeverityHigh},
	"rdp2.pcap":                       {"rdp", report.CategoryRemoteAccess, report.SeverityHigh, report.SeverityHigh},
	"vnc-mac-to-linux.pcap":           {"vnc", report.CategoryRemoteAccess, report.SeverityHigh, report.SeverityHigh},
	"00-vnc-openwall-3.7.pcap":        {"vnc", report.CategoryRemoteAccess, report.SeverityHigh, report.SeverityHigh},
	// A banner grab: VNC is named, but as a scan, not a session.
	"vnc-scanner.pcap":               {"vnc", report.CategoryRemoteAccess, report.SeverityLow, report.SeverityLow},
	"teamviewer.pcap":                {"teamviewer", report.CategoryRemoteAccess, report.SeverityMedium, report.SeverityHigh},
	"radmin3.pcapng":                 {"radmin", report.CategoryRemoteAccess, report.SeverityHigh, report.SeverityHigh},
	"citrix.pcap":                    {"citrix", report.CategoryRemoteAccess, report.SeverityMedium, report.SeverityMedium},
	"xdmcp.pcap":                     {"xdmcp", report.CategoryRemoteAccess, report.SeverityHigh, report.SeverityHigh},
	"tailscale.pcap":                 {"tailscale", report.CategoryVPN, report.SeverityMedium, report.SeverityMedium},
	"ipsec_isakmp_esp.pcap":          {"ipsec", report.CategoryVPN, report.SeverityLow, report.SeverityLow},
	"ipsec_client.pcap":              {"ipsec", report.CategoryVPN, report.SeverityLow, report.SeverityLow},
	"wireguard.pcap":                 {"wireguard", report.CategoryVPN, report.SeverityMedium, report.SeverityMedium},
	"openvpn_udp_tls-auth.pcap":      {"openvpn", report.CategoryVPN, report.SeverityMedium, report.SeverityMedium},
	"openvpn-tcp-tls-auth.pcap":      {"openvpn", report.CategoryVPN, report.SeverityMedium, report.SeverityMedium},
	"reverse-ssh.pcap":               {"ssh", report.CategoryTunnel, report.SeverityHigh, report.SeverityHigh},
	"wstunnel-ssh.pcap":              {"wstunnel", report.CategoryTunnel, report.SeverityMedium, report.SeverityMedium},
	"wstunnel-https.pcap":            {"wstunnel", report.CategoryTunnel, report.SeverityMedium, report.SeverityMedium},
	"socks.pcap":                     {"socks", report.CategoryProxy, report.SeverityMedium, report.SeverityMedium},
	"http_connect.pcap":              {"http-connect", report.CategoryProxy, report.SeverityLow, report.SeverityLow},
	"dns-tunnel-iodine.pcap":         {"dns-tunnel", report.CategoryTunnel, report.SeverityMedium, report.SeverityMedium},
	"webrtc-stun.pcap":               benign,
	"quic_win11_firefox_google.pcap": benign,
	"google_meet.pcapng":             benign,
	"443-firefox.pcap":               benign,
	"git.pcap":                       benign,
	"stun-ice-testcall.pcap":         benign,
}

func analyzeCapture(t testing.TB, path string) []report.Finding {
	t.Helper()
	cfg := Config{Host: report.Host{Name: "pcap", ID: "pcap:" + filepath.Base(path)}}
	fs, _, err := AnalyzeFiles(context.Background(), cfg, []string{path}, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return fs
}

// TestCorpus runs every public capture: label-level expectations in code,
// then the full output against a golden file (go test -update rewrites).
func TestCorpus(t *testing.T) {
	dir := sharedPcaps(t)
	entries := readManifest(t, dir)
	if len(entries) < 30 {
		t.Fatalf("MANIFEST lists %d captures, want ≥ 30", len(entries))
	}
	for _, e := range entries {
		e := e
		name := filepath.Base(e.file)
		t.Run(name, func(t *testing.T) {
			exp, ok := expectations[name]
			if !ok {
				t.Fatalf("no expectation for %s (label %s): add one", name, e.label)
			}
			fs := analyzeCapture(t, filepath.Join(dir, e.file))
			for i := range fs {
				if err := fs[i].Validate(); err != nil {
					t.Errorf("invalid finding: %v", err)
				}
				if fs[i].Severity > exp.maxSev {
					t.Errorf("%s (label %s): %s %s severity %s above %s: %s", name, e.label, fs[i].Rule, fs[i].Tool, fs[i].Severity, exp.maxSev, fs[i].Summary)
				}
			}
			if exp.tool != "" {
				found := false
				for _, f := range fs {
					if f.Tool == exp.tool && f.Category == exp.category && f.Severity >= exp.minSev {
						found = true
					}
				}
				if !found {
					t.Errorf("%s (label %s): no %s/%s finding at ≥ %s; got %s", name, e.label, exp.tool, exp.category, exp.minSev, summarize(fs))
				}
			}
			compareGolden(t, strings.TrimSuffix(name, filepath.Ext(name))+".json", fs)
		})
	}
}

func summarize(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n  " + f.Severity.String() + " " + string(f.Category) + " " + f.Tool + " " + f.Rule)
	}
	if b.Len() == 0 {
		return "nothing"
	}
	return b.String()
}

func compareGolden(t *testing.T, name string, fs []report.Finding) {
	t.Helper()
	if fs == nil {
		fs = []report.Finding{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(fs); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run go test ./internal/detect/network/... -update)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden (go test ./internal/detect/network/... -update to accept):\n%s", name, firstDiff(string(want), string(got)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + itoa(i+1) + ":\n  want: " + x + "\n  got:  " + y
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
