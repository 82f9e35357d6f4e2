package lan

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

const fixtures = "../../../testdata/lan"

func scanFixture(t *testing.T, name string, s Settings) []report.Finding {
	t.Helper()
	src, err := source.OpenSnapshot(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	hi := src.Host()
	fs, err := d.Detect(context.Background(), detect.Env{Source: src, Host: report.Host{Name: hi.Hostname, ID: hi.HostID}, Logger: zap.NewNop(), Now: time.Now()})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for i := range fs {
		fs[i].Detector = Name
		if err := fs[i].Validate(); err != nil {
			t.Errorf("%s: invalid finding: %v", name, err)
		}
	}
	return fs
}

type want struct {
	rule, tool string
	sev        report.Severity
	ev         map[string]string // evidence key → substring of its printed value
}

func dump(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s %s %s %v\n", f.Severity, f.Rule, f.Tool, f.Summary, f.Evidence)
	}
	return b.String()
}

func TestFixtures(t *testing.T) {
	cases := []struct {
		dir   string
		want  []want
		count int
	}{
		{"linux-kvm", []want{
			{RuleMDNSKVM, "pikvm", report.SeverityMedium, map[string]string{"ip": "192.168.50.20", "mac": "DC:A6:32:11:22:33", "oui_vendor": "Raspberry Pi", "services": "_pikvm._tcp", "mdns_name": "pikvm.local", "other_ips": "fe80::dea6:32ff:fe11:2233"}},
			{RuleMDNSKVM, "tinypilot", report.SeverityMedium, map[string]string{"ip": "192.168.50.40", "mdns_names": "TinyPilot"}},
			{RuleKVMOUI, "ip-kvm", report.SeverityLow, map[string]string{"ip": "192.168.50.21", "oui_vendor": "GL Technologies"}},
		}, 3},
		{"windows-farm", []want{
			{RuleDensity, "laptop-farm", report.SeverityMedium, map[string]string{"laptop_neighbors": "16", "networks": "10.0.0.0/24", "name_schemes": "13"}},
			{RuleMDNSKVM, "jetkvm", report.SeverityMedium, map[string]string{"ip": "10.0.0.99", "mac": "30:52:53:01:02:03"}},
		}, 2},
		{"macos-kvm", []want{
			{RuleMDNSKVM, "blikvm", report.SeverityMedium, map[string]string{"ip": "172.16.5.8", "mac": "B8:27:EB:09:08:07", "mdns_name": "blikvm.local"}},
			{RuleMDNSKVM, "glinet-comet", report.SeverityMedium, map[string]string{"ip": "172.16.5.9", "oui_verified": "false"}},
			{RuleMDNSKVM, "nanokvm", report.SeverityMedium, map[string]string{"ip": "172.16.5.12"}},
		}, 3},
		{"linux-clean", nil, 0},
		{"windows-clean", nil, 0},
		{"macos-clean", []want{
			{RuleKVMOUI, "ip-kvm", report.SeverityLow, map[string]string{"ip": "192.168.0.13", "services": "_home-assistant._tcp"}},
		}, 1},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			fs := scanFixture(t, c.dir, DefaultSettings())
			ids := map[string]bool{}
			for _, f := range fs {
				if ids[f.ID] {
					t.Errorf("duplicate id %s (%s)", f.ID, f.Summary)
				}
				ids[f.ID] = true
			}
			if len(fs) != c.count {
				t.Errorf("%d findings, want %d:\n%s", len(fs), c.count, dump(fs))
			}
			for _, w := range c.want {
				found := false
				for _, f := range fs {
					if f.Rule != w.rule || f.Tool != w.tool || f.Severity != w.sev {
						continue
					}
					ok := true
					for k, sub := range w.ev {
						if !strings.Contains(fmt.Sprint(f.Evidence[k]), sub) {
							ok = false
						}
					}
					if ok {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("missing %+v in:\n%s", w, dump(fs))
				}
			}
			if strings.HasSuffix(c.dir, "-clean") {
				for _, f := range fs {
					if f.Severity >= report.SeverityMedium {
						t.Errorf("clean fixture has %s finding: %s", f.Severity, f.Summary)
					}
				}
			}
		})
	}
}

func TestOfficeNetworkQuiet(t *testing.T) {
	s := DefaultSettings()
	s.OfficeNetworks = []string{"192.168.50.0/24"}
	if fs := scanFixture(t, "linux-kvm", s); len(fs) != 0 {
		t.Errorf("office network: want nothing, got\n%s", dump(fs))
	}
	s.OfficeNetworks = []string{"10.99.0.0/16"}
	if fs := scanFixture(t, "linux-kvm", s); len(fs) == 0 {
		t.Error("unrelated office network silenced the detector")
	}
	if _, err := New(Settings{OfficeNetworks: []string{"not-a-cidr"}}); err == nil {
		t.Error("bad office_networks accepted")
	}
}

func TestDensityThresholds(t *testing.T) {
	s := DefaultSettings()
	s.DensityMinLaptops, s.DensityMinNameSchemes = 100, 100
	for _, f := range scanFixture(t, "windows-farm", s) {
		if f.Rule == RuleDensity {
			t.Errorf("density reported above configured thresholds: %s", f.Summary)
		}
	}
	s = DefaultSettings()
	s.DensityMinLaptops, s.DensityMinNameSchemes = 10, 10
	fs := scanFixture(t, "windows-farm", s)
	got := false
	for _, f := range fs {
		if f.Rule == RuleDensity {
			got = true
			if f.Severity != report.SeverityLow {
				t.Errorf("16 laptops at threshold 10: want low, got %s", f.Severity)
			}
		}
	}
	if !got {
		t.Error("no density finding at threshold 10")
	}
	// A /16 is not a small LAN.
	v := &View{Addresses: []string{"10.0.0.15/16"}}
	for i := 0; i < 40; i++ {
		v.Neighbors = append(v.Neighbors, Neighbor{IP: fmt.Sprintf("10.0.1.%d", i), MAC: fmt.Sprintf("C8:4B:D6:00:00:%02X", i)})
	}
	if _, ok := densityFinding("h", v, &s); ok {
		t.Error("density reported on a /16")
	}
}

func TestAllowedTarget(t *testing.T) {
	locals := parsePrefixes([]string{"192.168.50.10/24", "10.200.80.1/24", "203.0.113.5/24", "127.0.0.1/8", "10.0.0.2/8", "fd00:1::5/64"})
	cases := map[string]bool{
		"192.168.50.20":  true,
		"10.200.80.2":    true,
		"fd00:1::9":      true,
		"192.168.50.10":  false, // this host
		"192.168.51.20":  false, // private, other subnet
		"203.0.113.7":    false, // local subnet but public
		"8.8.8.8":        false,
		"127.0.0.1":      false,
		"10.9.9.9":       false, // inside the /8 "subnet": too big to be a LAN
		"169.254.1.1":    false,
		"fe80::1":        false,
		"not-an-address": false,
	}
	for ip, ok := range cases {
		err := allowedTarget(ip, locals)
		if (err == nil) != ok {
			t.Errorf("allowedTarget(%s) = %v, want allowed=%v", ip, err, ok)
		}
	}
}

func TestActiveCheckRefusesOutsideLocalPrivate(t *testing.T) {
	d, err := New(Settings{ActiveCheck: true, ActiveMaxTargets: 2})
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	d.fetch = func(_ context.Context, ip string) []WebUI {
		asked = append(asked, ip)
		return []WebUI{{URL: "http://" + ip + "/", Title: "PiKVM"}}
	}
	v := &View{
		Neighbors: []Neighbor{
			{IP: "8.8.8.8", MAC: "DC:A6:32:00:00:01"},
			{IP: "10.9.9.9", MAC: "DC:A6:32:00:00:02"},
			{IP: "192.168.50.20", MAC: "DC:A6:32:00:00:03"},
			{IP: "192.168.50.21", MAC: "DC:A6:32:00:00:04"},
			{IP: "192.168.50.22", MAC: "DC:A6:32:00:00:05"},
			{IP: "192.168.50.30", MAC: "00:0D:B9:00:00:05"}, // not KVM-looking
		},
		Addresses: []string{"192.168.50.10/24"},
	}
	webs := d.activeCheck(context.Background(), v, parsePrefixes(v.Addresses), zap.NewNop())
	if strings.Join(asked, ",") != "192.168.50.20,192.168.50.21" {
		t.Errorf("probed %v, want the first two local private KVM-looking neighbours only", asked)
	}
	fs := decide("h", v, webs, &d.settings)
	high := 0
	for _, f := range fs {
		if f.Rule == RuleWebUIKVM {
			high++
			if f.Severity != report.SeverityHigh || f.Tool != "pikvm" || f.Evidence["title"] != "PiKVM" {
				t.Errorf("web UI finding: %s %s %v", f.Severity, f.Tool, f.Evidence)
			}
		}
	}
	if high != 2 {
		t.Errorf("want 2 web UI findings:\n%s", dump(fs))
	}
}

func TestFetchWebUI(t *testing.T) {
	big := strings.Repeat("x", 200<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx\r\nX: y")
		fmt.Fprintf(w, "<html><head><TITLE>\n  Tiny&#80;ilot\x07 </TITLE></head><body>%s</body></html>", big)
	}))
	defer srv.Close()
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<title>JetKVM</title>"))
	}))
	defer tls.Close()
	ws := fetchOneURL(t, srv.URL+"/")
	if ws.Title != "TinyPilot" {
		t.Errorf("title %q", ws.Title)
	}
	wt := fetchOneURL(t, tls.URL+"/")
	if wt.Title != "JetKVM" || !strings.Contains(wt.CertSubject, "Acme") {
		t.Errorf("TLS: title %q cert %q", wt.Title, wt.CertSubject)
	}
	// fetchWebUI on ports: a refused port yields nothing, quickly.
	ap := netip.MustParseAddrPort(strings.TrimPrefix(srv.URL, "http://"))
	got := fetchWebUI(context.Background(), ap.Addr().String(), []int{int(ap.Port())}, 2*time.Second)
	if len(got) != 1 || got[0].Title != "TinyPilot" {
		t.Errorf("fetchWebUI: %+v", got)
	}
}

func fetchOneURL(t *testing.T, u string) WebUI {
	t.Helper()
	ap := netip.MustParseAddrPort(u[strings.Index(u, "//")+2 : len(u)-1])
	port := int(ap.Port())
	var ws []WebUI
	if strings.HasPrefix(u, "https") {
		// fetchWebUI speaks HTTPS on 443/8443 only; go through fetchOne.
		ws = fetchWebUIScheme(ap.Addr().String(), port, "https")
	} else {
		ws = fetchWebUIScheme(ap.Addr().String(), port, "http")
	}
	if len(ws) != 1 {
		t.Fatalf("%s: %+v", u, ws)
	}
	return ws[0]
}

func fetchWebUIScheme(ip string, port int, scheme string) []WebUI {
	old := httpsPorts
	defer func() { httpsPorts = old }()
	if scheme == "https" {
		httpsPorts = map[int]bool{port: true}
	} else {
		httpsPorts = map[int]bool{}
	}
	return fetchWebUI(context.Background(), ip, []int{port}, 2*time.Second)
}

func TestParsers(t *testing.T) {
	ns := parseDarwinARP(readSeed(t, "parsers/arp-an.txt"))
	if len(ns) != 2 || ns[0].MAC != "00:0D:B9:01:02:03" || ns[1].IP != "192.168.0.13" || ns[1].Interface != "en0" {
		t.Errorf("arp -an: %+v", ns)
	}
	ns = parseIPNeigh(readSeed(t, "parsers/ip-6-neigh.txt"))
	if len(ns) != 2 || ns[0].State != "REACHABLE" || ns[1].MAC != "DC:A6:32:11:22:33" {
		t.Errorf("ip -6 neigh: %+v", ns)
	}
	ns = parseProcARP(readSeed(t, "linux-kvm/proc/net/arp"))
	if len(ns) != 3 || ns[1].MAC != "DC:A6:32:11:22:33" || ns[1].Interface != "wlan0" {
		t.Errorf("proc/net/arp: %+v", ns)
	}
	for in, want := range map[string]string{
		"0:d:b9:1:2:3": "00:0D:B9:01:02:03", "DC-A6-32-11-22-33": "DC:A6:32:11:22:33",
		"ff:ff:ff:ff:ff:ff": "", "01:00:5e:00:00:fb": "", "00:00:00:00:00:00": "", "1:2:3": "", "zz:00:00:00:00:00": "",
	} {
		if got := normMAC(in); got != want {
			t.Errorf("normMAC(%q) = %q, want %q", in, got, want)
		}
	}
	if got := clean("a\x1b[31m\u202eb\n\tc" + strings.Repeat("x", 500)); strings.ContainsAny(got, "\x1b\n\t\u202e") || len([]rune(got)) > maxString {
		t.Errorf("clean: %q", got)
	}
}

func readSeed(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := readFileLimited(filepath.Join(fixtures, rel))
	if err != nil || b == nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return b
}
