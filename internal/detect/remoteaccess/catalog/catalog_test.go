package catalog_test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog/build"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

func mustDefault(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return c
}

func byID(t *testing.T, c *catalog.Catalog) map[string]*catalog.Tool {
	t.Helper()
	m := map[string]*catalog.Tool{}
	for i := range c.Tools {
		m[c.Tools[i].ID] = &c.Tools[i]
	}
	return m
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func TestDefaultParsesAndIsLarge(t *testing.T) {
	c := mustDefault(t)
	if len(c.Tools) < 150 {
		t.Fatalf("catalog has %d tools, want >= 150 (LOLRMM has 319 files before de-duplication)", len(c.Tools))
	}
	if !strings.Contains(c.Version, "lolrmm.") {
		t.Errorf("version %q does not name the LOLRMM commit", c.Version)
	}
	var lol bool
	for _, s := range c.Sources {
		if s.Name == "LOLRMM" && s.License == "Apache-2.0" && strings.Contains(s.Ref, "magicsword-io/LOLRMM") {
			lol = true
		}
	}
	if !lol {
		t.Errorf("sources do not credit LOLRMM (Apache-2.0): %+v", c.Sources)
	}
}

var idRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func TestIDsUniqueAndHuman(t *testing.T) {
	c := mustDefault(t)
	seen := map[string]bool{}
	for _, tl := range c.Tools {
		if !idRE.MatchString(tl.ID) {
			t.Errorf("id %q is not [a-z0-9-]+", tl.ID)
		}
		if seen[tl.ID] {
			t.Errorf("duplicate id %q", tl.ID)
		}
		seen[tl.ID] = true
		if r := tl.ReportID(); !idRE.MatchString(r) {
			t.Errorf("%s: report id %q is not [a-z0-9-]+", tl.ID, r)
		}
	}
}

func TestEveryToolIdentifiable(t *testing.T) {
	c := mustDefault(t)
	for _, tl := range c.Tools {
		if strings.TrimSpace(tl.Name) == "" {
			t.Errorf("%s: no name", tl.ID)
		}
		switch tl.Category {
		case "remote-access", "tunnel", "vpn", "proxy":
		default:
			t.Errorf("%s: category %q", tl.ID, tl.Category)
		}
		switch tl.Role {
		case catalog.RoleHost, catalog.RoleViewer, catalog.RoleBoth:
		default:
			t.Errorf("%s: role %q", tl.ID, tl.Role)
		}
		n := len(tl.OriginalFilenames) + len(tl.Signers) + len(tl.BundleIDs) + len(tl.Services) +
			len(tl.Paths) + len(tl.Domains) + len(tl.Markers) + len(tl.TeamIDs)
		for _, p := range tl.Processes {
			n += len(p)
		}
		if n == 0 {
			t.Errorf("%s: no identifying fact (process, signer, original filename, bundle id, service, path, domain or marker)", tl.ID)
		}
		if len(tl.Sources) == 0 {
			t.Errorf("%s: no sources", tl.ID)
		}
	}
}

func TestProcessNames(t *testing.T) {
	c := mustDefault(t)
	for _, tl := range c.Tools {
		for os, names := range tl.Processes {
			switch os {
			case "windows", "darwin", "linux":
			default:
				t.Errorf("%s: unknown OS key %q", tl.ID, os)
			}
			for _, n := range names {
				if n != strings.ToLower(n) {
					t.Errorf("%s/%s: process %q not lowercase", tl.ID, os, n)
				}
				if strings.ContainsAny(n, "*?[]<>") || strings.TrimSpace(n) != n || n == "" {
					t.Errorf("%s/%s: process %q is not a literal name", tl.ID, os, n)
				}
				if os == "windows" && !strings.HasSuffix(n, ".exe") {
					t.Errorf("%s: windows process %q lacks .exe", tl.ID, n)
				}
			}
		}
	}
}

var portRE = regexp.MustCompile(`^(tcp|udp)/[0-9]{1,5}$`)

func TestDomainsPortsPathsClean(t *testing.T) {
	c := mustDefault(t)
	for _, tl := range c.Tools {
		for _, d := range tl.Domains {
			host := strings.TrimPrefix(d, "*.")
			switch {
			case net.ParseIP(strings.Trim(d, "[]")) != nil:
				t.Errorf("%s: domain %q is an IP literal", tl.ID, d)
			case strings.ContainsAny(d, `[](){}\|+^$?: `):
				t.Errorf("%s: domain %q has regex/port/space characters", tl.ID, d)
			case strings.Contains(host, "*"):
				t.Errorf("%s: domain %q has a wildcard other than a leading '*.'", tl.ID, d)
			case strings.EqualFold(d, "user_managed"):
				t.Errorf("%s: user_managed sentinel kept", tl.ID)
			case strings.Count(host, ".") < 1:
				t.Errorf("%s: domain %q is wildcard-only junk", tl.ID, d)
			case d != strings.ToLower(d):
				t.Errorf("%s: domain %q not lowercase", tl.ID, d)
			}
		}
		for _, p := range append(append([]string{}, tl.ListenPorts...), tl.OutboundPorts...) {
			if !portRE.MatchString(p) {
				t.Errorf("%s: port %q", tl.ID, p)
			}
		}
		for _, p := range tl.Paths {
			if !strings.ContainsAny(p, `/\`) {
				t.Errorf("%s: path %q has no separator", tl.ID, p)
			}
			if strings.Contains(p, `\\`) {
				t.Errorf("%s: path %q keeps doubled backslashes", tl.ID, p)
			}
		}
		for _, m := range tl.Markers {
			if len(m) < 6 {
				t.Errorf("%s: marker %q too short", tl.ID, m)
			}
		}
	}
}

func TestSessionPatternsCompile(t *testing.T) {
	c := mustDefault(t)
	n := 0
	for _, tl := range c.Tools {
		for _, s := range tl.Sessions {
			n++
			if _, err := regexp.Compile("(?i)" + s.Pattern); err != nil {
				t.Errorf("%s: session pattern %q: %v", tl.ID, s.Pattern, err)
			}
			if s.Meaning == "" {
				t.Errorf("%s: session pattern %q has no meaning", tl.ID, s.Pattern)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d session patterns", n)
	}
}

// TestSessionPatternsMatch runs the patterns on real command lines.
func TestSessionPatternsMatch(t *testing.T) {
	c := mustDefault(t)
	tools := byID(t, c)
	cases := []struct {
		id, cmd string
		match   bool
		inbound bool
	}{
		{"teamviewer", `"C:\Program Files\TeamViewer\TeamViewer_Desktop.exe" --IPCport 5939 --Module 1`, true, true},
		{"teamviewer", `/opt/teamviewer/tv_bin/TeamViewer_Desktop --IPCport 5939 --Module 1`, true, true},
		{"teamviewer", `"C:\Program Files\TeamViewer\TeamViewer.exe"`, false, false},
		{"screenconnect", `"C:\Program Files (x86)\ScreenConnect Client (abc)\ScreenConnect.ClientService.exe" "?e=Access&y=Guest&h=instance-x-relay.screenconnect.com&p=443&s=1&k=BgIAAACk"`, true, true},
		{"anydesk", `AnyDesk.exe --install "C:\ProgramData\AnyDesk" --start-with-win --silent`, true, false},
		{"anydesk", `AnyDesk.exe --set-password`, true, false},
		{"anydesk", `AnyDesk.exe --service`, false, false},
		{"meshcentral", `meshagent.exe -fullinstall --meshServiceName="Windows Updater"`, true, false},
		{"tacticalrmm", `tacticalrmm.exe -m install --api https://api.example.com --client-id 1 --site-id 1 --agent-type workstation --auth abc`, true, false},
		{"cloudflared", `cloudflared.exe tunnel run --token eyJhIjoi`, true, false},
		{"cloudflared", `cloudflared tunnel --url http://localhost:3389`, true, false},
		{"cloudflared", `cloudflared --version`, false, false},
		{"ngrok", `ngrok tcp 3389`, true, false},
		{"ngrok", `ngrok config add-authtoken 2abc`, true, false},
		{"vscode-tunnel", `"C:\Users\u\AppData\Local\Programs\Microsoft VS Code\Code.exe" tunnel --accept-server-license-terms`, true, false},
		{"vscode-tunnel", `/usr/share/code/code --unity-launch`, false, false},
		{"tailscale", `tailscaled --tun=userspace-networking --socks5-server=localhost:1055`, true, false},
		{"x11vnc", `x11vnc -display :0 -connect 203.0.113.5:5500`, true, true},
		{"x11vnc", `x11vnc -display :0 -forever -shared`, false, false},
	}
	for _, tc := range cases {
		tl := tools[tc.id]
		if tl == nil {
			t.Errorf("no tool %s", tc.id)
			continue
		}
		matched, inbound := false, false
		for _, s := range tl.Sessions {
			if regexp.MustCompile("(?i)" + s.Pattern).MatchString(tc.cmd) {
				matched = true
				inbound = inbound || s.Inbound
			}
		}
		if matched != tc.match || inbound != tc.inbound {
			t.Errorf("%s %q: matched=%v inbound=%v, want %v/%v", tc.id, tc.cmd, matched, inbound, tc.match, tc.inbound)
		}
	}
}

// TestKnownWrongLOLRMMEntriesFixed checks the corrections curated.yaml
// records (RESEARCH.md §1 "Completeness / noise").
func TestKnownWrongLOLRMMEntriesFixed(t *testing.T) {
	c := mustDefault(t)
	tools := byID(t, c)
	get := func(id string) *catalog.Tool {
		tl := tools[id]
		if tl == nil {
			t.Fatalf("no tool %q", id)
		}
		return tl
	}
	absent := func(id, field string, list []string, bad ...string) {
		t.Helper()
		for _, b := range bad {
			if contains(list, b) {
				t.Errorf("%s %s still contains %q", id, field, b)
			}
		}
	}
	absent("mstsc", "signers", get("mstsc").Signers, "win.rar GmbH", "Power Software Limited")
	absent("mstsc", "companies", get("mstsc").Companies, "Alexander Roshal")
	absent("netsupport", "signers", get("netsupport").Signers, "Simon Tatham")
	absent("mremoteng", "signers", get("mremoteng").Signers, "Simon Tatham")
	absent("tightvnc", "signers", get("tightvnc").Signers, "深圳市玩物科技有限公司")
	if !contains(get("tightvnc").Signers, "GlavSoft LLC") {
		t.Errorf("tightvnc signers lack GlavSoft LLC: %v", get("tightvnc").Signers)
	}
	absent("adobe-connect", "signers", get("adobe-connect").Signers, "The Anti-Cloud Corporation")
	absent("quickassist", "signers", get("quickassist").Signers, "CodeSigningMico", "GlobalSigningDig")
	absent("atera", "signers", get("atera").Signers, ".NET")
	absent("atera", "windows processes", get("atera").Processes["windows"], "syncrosetup.exe")
	absent("tacticalrmm", "signers", get("tacticalrmm").Signers, "Christopher West")
	for _, d := range get("tacticalrmm").Domains {
		if strings.Contains(d, "tailscale") || strings.Contains(d, "docs.tacticalrmm.com") {
			t.Errorf("tacticalrmm domain %q (Tactical is self-hosted)", d)
		}
	}
	for _, p := range get("tigervnc").Paths {
		if strings.Contains(strings.ToLower(p), "tightvnc") || strings.Contains(strings.ToLower(p), "tvnserver") {
			t.Errorf("tigervnc path %q is TightVNC's", p)
		}
	}
	absent("tigervnc", "windows processes", get("tigervnc").Processes["windows"], "tvnserver.exe")
	if !contains(get("gotomypc").Processes["windows"], "g2mhost.exe") {
		t.Errorf("gotomypc: G2MHost.exee typo not corrected: %v", get("gotomypc").Processes["windows"])
	}
	absent("gotoassist", "paths", get("gotoassist").Paths, "g2mupdate.com")
	for _, d := range get("netbird").Domains {
		if strings.Contains(d, "firebaseapp") || strings.Contains(d, "web.app") || strings.Contains(d, "cloudlive") {
			t.Errorf("netbird keeps campaign domain %q", d)
		}
	}
	absent("netbird", "outbound ports", get("netbird").OutboundPorts, "tcp/3333")
	absent("simplehelp", "domains", get("simplehelp").Domains, "dronemaker.org", "telesupportgroup.com", "microuptime.com")
	if !contains(get("anydesk").Domains, "*.net.anydesk.com") {
		t.Errorf("anydesk: relay regex not rewritten to *.net.anydesk.com: %v", get("anydesk").Domains)
	}
	absent("teramind", "windows processes", get("teramind").Processes["windows"], "dwm.exe")
	for _, tl := range c.Tools {
		for _, p := range tl.Paths {
			lp := strings.ToLower(p)
			if strings.Contains(lp, "9380cc75b872221a7425d7503565b67580407f60") || strings.Contains(lp, "can't find") ||
				strings.Contains(lp, "requires sign up") || strings.HasSuffix(lp, ".ese") || strings.HasSuffix(lp, ".exee") {
				t.Errorf("%s: junk path %q", tl.ID, p)
			}
		}
		for _, names := range tl.Processes {
			for _, n := range names {
				if strings.HasSuffix(n, ".exee") || strings.HasSuffix(n, ".ese") {
					t.Errorf("%s: junk process %q", tl.ID, n)
				}
			}
		}
	}
}

// TestRequiredEntries pins the ids, report ids and facts other packages and
// the end-to-end tests depend on.
func TestRequiredEntries(t *testing.T) {
	c := mustDefault(t)
	tools := byID(t, c)
	type req struct {
		id, report, category string
		role                 catalog.Role
		procs                map[string][]string
		listen               []string
		services             []string
	}
	reqs := []req{
		{id: "x11vnc", report: "vnc", role: catalog.RoleHost, procs: map[string][]string{"linux": {"x11vnc"}}, listen: []string{"tcp/5900"}},
		{id: "tigervnc", report: "vnc", procs: map[string][]string{"linux": {"xvnc", "xtigervnc", "x0vncserver", "vncserver", "tigervncserver"}}},
		{id: "tightvnc", report: "vnc"},
		{id: "ultravnc", report: "vnc"},
		{id: "realvnc", report: "vnc", procs: map[string][]string{
			"linux":   {"vncserver-x11", "vncserver-x11-serviced", "vncagent"},
			"darwin":  {"vncserver-x11", "vncserver-x11-serviced", "vncagent"},
			"windows": {"winvnc4.exe", "vncserver.exe"}}},
		{id: "xrdp", report: "rdp", procs: map[string][]string{"linux": {"xrdp", "xrdp-sesman"}}, listen: []string{"tcp/3389"}},
		{id: "mstsc", report: "rdp", procs: map[string][]string{"windows": {"mstsc.exe"}}},
		{id: "windows-remote-desktop", report: "rdp", services: []string{"termservice"}, listen: []string{"tcp/3389"}},
		{id: "freerdp", report: "rdp", role: catalog.RoleViewer, procs: map[string][]string{"linux": {"xfreerdp", "wlfreerdp", "sdl-freerdp"}}},
		{id: "openssh-server", report: "ssh", role: catalog.RoleHost, procs: map[string][]string{"linux": {"sshd"}}, listen: []string{"tcp/22"}},
		{id: "openssh-client", report: "ssh", role: catalog.RoleViewer, procs: map[string][]string{"linux": {"ssh"}}},
		{id: "anydesk", role: catalog.RoleBoth},
		{id: "teamviewer", role: catalog.RoleBoth},
		{id: "rustdesk", role: catalog.RoleBoth},
		{id: "screenconnect"},
		{id: "chrome-remote-desktop", procs: map[string][]string{"linux": {"chrome-remote-desktop-host"}, "windows": {"remoting_host.exe"}}, services: []string{"chromoting"}},
		{id: "splashtop"},
		{id: "nomachine", procs: map[string][]string{"linux": {"nxserver", "nxd", "nxnode"}}},
		{id: "radmin"},
		{id: "x2go", procs: map[string][]string{"linux": {"x2goagent"}}},
		{id: "krfb"},
		{id: "vino", procs: map[string][]string{"linux": {"vino-server"}}},
		{id: "gnome-remote-desktop"},
		{id: "wayvnc"},
		{id: "sunshine"},
		{id: "parsec"},
		{id: "meshcentral"},
		{id: "tacticalrmm"},
		{id: "dwservice"},
		{id: "netsupport"},
		{id: "simplehelp"},
		{id: "atera"},
		{id: "ninjaone"},
		{id: "zoho-assist"},
		{id: "logmein"},
		{id: "gotoassist"},
		{id: "bomgar"},
		{id: "supremo"},
		{id: "ultraviewer"},
		{id: "anyviewer"},
		{id: "todesk"},
		{id: "sunlogin"},
		{id: "action1"},
		{id: "getscreen"},
		{id: "quickassist"},
		{id: "tmate", report: "tmate", role: catalog.RoleHost},
		{id: "apple-remote-desktop", procs: map[string][]string{"darwin": {"screensharingd", "ardagent"}}, listen: []string{"tcp/5900", "tcp/3283"}},
		{id: "ngrok", category: "tunnel"},
		{id: "cloudflared", category: "tunnel"},
		{id: "vscode-tunnel", category: "tunnel"},
		{id: "frp", category: "tunnel", procs: map[string][]string{"linux": {"frpc", "frps"}}},
		{id: "chisel", category: "tunnel"},
		{id: "tailscale", category: "vpn"},
		{id: "zerotier", category: "vpn"},
		{id: "netbird", category: "vpn"},
		{id: "wireguard", category: "vpn", procs: map[string][]string{"linux": {"wg-quick"}, "windows": {"wireguard.exe"}}},
		{id: "openvpn", category: "vpn"},
		{id: "astrill-vpn", category: "vpn"},
	}
	for _, r := range reqs {
		tl := tools[r.id]
		if tl == nil {
			t.Errorf("required tool %q missing", r.id)
			continue
		}
		wantReport := r.report
		if wantReport == "" {
			wantReport = r.id
		}
		if tl.ReportID() != wantReport {
			t.Errorf("%s: report id %q, want %q", r.id, tl.ReportID(), wantReport)
		}
		if r.category == "" {
			r.category = "remote-access"
		}
		if tl.Category != r.category {
			t.Errorf("%s: category %q, want %q", r.id, tl.Category, r.category)
		}
		if r.role != "" && tl.Role != r.role {
			t.Errorf("%s: role %q, want %q", r.id, tl.Role, r.role)
		}
		for os, names := range r.procs {
			for _, n := range names {
				if !contains(tl.Processes[os], n) {
					t.Errorf("%s: %s processes %v lack %q", r.id, os, tl.Processes[os], n)
				}
			}
		}
		for _, p := range r.listen {
			if !contains(tl.ListenPorts, p) {
				t.Errorf("%s: listen ports %v lack %s", r.id, tl.ListenPorts, p)
			}
		}
		for _, s := range r.services {
			if !contains(tl.Services, s) {
				t.Errorf("%s: services %v lack %s", r.id, tl.Services, s)
			}
		}
	}
}

// TestCanonicalEncoding: catalog.json is sorted and in the generator's exact
// encoding, so hand edits or a non-deterministic generator show up here.
func TestCanonicalEncoding(t *testing.T) {
	data, err := os.ReadFile("catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !sort.SliceIsSorted(c.Tools, func(i, j int) bool { return c.Tools[i].ID < c.Tools[j].ID }) {
		t.Error("tools not sorted by id")
	}
	for _, tl := range c.Tools {
		for name, l := range map[string][]string{
			"original_filenames": tl.OriginalFilenames, "products": tl.Products, "companies": tl.Companies,
			"signers": tl.Signers, "bundle_ids": tl.BundleIDs, "services": tl.Services, "paths": tl.Paths,
			"listen_ports": tl.ListenPorts, "outbound_ports": tl.OutboundPorts, "domains": tl.Domains,
			"markers": tl.Markers, "sources": tl.Sources,
		} {
			if !sort.StringsAreSorted(l) {
				t.Errorf("%s: %s not sorted", tl.ID, name)
			}
		}
		for os, l := range tl.Processes {
			if !sort.StringsAreSorted(l) {
				t.Errorf("%s: %s processes not sorted", tl.ID, os)
			}
		}
	}
	again, err := build.Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("catalog.json is not in canonical encoding (regenerate with go run ./internal/detect/remoteaccess/catalog/gen)")
	}
}

// TestCatalogUpToDate regenerates the catalog from LOLRMM + curated.yaml and
// requires catalog.json to match byte for byte.
func TestCatalogUpToDate(t *testing.T) {
	shared := os.Getenv("FARMWATCH_SHARED")
	if shared == "" {
		testenv.Missing(t, "FARMWATCH_SHARED is not set: cannot regenerate the catalog from LOLRMM to check catalog.json is current (the Makefile sets it to ../shared)")
	}
	if _, err := os.Stat(filepath.Join(shared, "data", "rmm", "lolrmm")); err != nil {
		t.Fatalf("FARMWATCH_SHARED=%s has no data/rmm/lolrmm: %v", shared, err)
	}
	_, got, err := build.Build(shared, "curated.yaml")
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	want, err := os.ReadFile("catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("catalog.json is stale: run go run ./internal/detect/remoteaccess/catalog/gen -shared %s -out internal/detect/remoteaccess/catalog/catalog.json", shared)
	}
}

// TestMarkersOnRealBinaries checks the byte markers against the installed
// programs they were chosen from: each tool's markers occur in its own
// binary and in none of the others'.
func TestMarkersOnRealBinaries(t *testing.T) {
	e2e := os.Getenv("FARMWATCH_E2E") == "1"
	read := func(path string, required bool) []byte {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			if required && e2e {
				t.Fatalf("FARMWATCH_E2E=1 but %s is missing (install x11vnc, tigervnc-standalone-server, xrdp, openssh-server): %v", path, err)
			}
			return nil
		}
		return b
	}
	x11vnc := read("/usr/bin/x11vnc", true)
	xtiger := read("/usr/bin/Xtigervnc", true)
	if x11vnc == nil || xtiger == nil {
		testenv.Missing(t, "x11vnc / Xtigervnc not installed (set FARMWATCH_E2E=1 to require them)")
	}
	tools := byID(t, mustDefault(t))
	markers := func(id string) []string {
		tl := tools[id]
		if tl == nil || len(tl.Markers) == 0 {
			t.Fatalf("%s has no markers", id)
		}
		return tl.Markers
	}
	for _, m := range markers("x11vnc") {
		if !bytes.Contains(x11vnc, []byte(m)) {
			t.Errorf("x11vnc marker %q not in /usr/bin/x11vnc", m)
		}
		if bytes.Contains(xtiger, []byte(m)) {
			t.Errorf("x11vnc marker %q also in /usr/bin/Xtigervnc", m)
		}
	}
	inTiger := 0
	for _, m := range markers("tigervnc") {
		if bytes.Contains(xtiger, []byte(m)) {
			inTiger++
		}
		if bytes.Contains(x11vnc, []byte(m)) {
			t.Errorf("tigervnc marker %q also in /usr/bin/x11vnc", m)
		}
	}
	if inTiger == 0 {
		t.Errorf("no tigervnc marker occurs in /usr/bin/Xtigervnc")
	}

	// Other verified markers: in their own binary, not in the rest.
	own := map[string][]string{
		"xrdp":           {"/usr/sbin/xrdp", "/usr/sbin/xrdp-sesman"},
		"openssh-server": {"/usr/sbin/sshd"},
		"openssh-client": {"/usr/bin/ssh"},
	}
	bins := map[string][]byte{"/usr/bin/x11vnc": x11vnc, "/usr/bin/Xtigervnc": xtiger}
	for _, paths := range own {
		for _, p := range paths {
			if b := read(p, true); b != nil {
				bins[p] = b
			}
		}
	}
	for id, paths := range own {
		for _, m := range markers(id) {
			found := false
			for _, p := range paths {
				if b := bins[p]; b != nil && bytes.Contains(b, []byte(m)) {
					found = true
				}
			}
			if !found && bins[paths[0]] != nil {
				t.Errorf("%s marker %q not in %v", id, m, paths)
			}
		}
	}
	// No marker of any tool may occur in another tool's binary or in common
	// unrelated programs.
	ownerOf := map[string]string{"/usr/bin/x11vnc": "x11vnc", "/usr/bin/Xtigervnc": "tigervnc"}
	for id, paths := range own {
		for _, p := range paths {
			ownerOf[p] = id
		}
	}
	for _, p := range []string{"/bin/bash", "/usr/bin/ls", "/usr/bin/python3", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libvncserver.so.1"} {
		if b := read(p, false); b != nil {
			bins[p] = b
		}
	}
	for _, tl := range tools {
		for _, m := range tl.Markers {
			for p, b := range bins {
				if ownerOf[p] == tl.ID {
					continue
				}
				if bytes.Contains(b, []byte(m)) {
					t.Errorf("%s marker %q occurs in unrelated %s", tl.ID, m, p)
				}
			}
		}
	}
}
