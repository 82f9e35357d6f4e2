package build

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var testRules = genericRules{
	IgnorePorts:    []int{80, 443},
	SharedDomains:  []string{"github.com"},
	SharedSuffixes: []string{"googleapis.com"},
}

func TestCleanDomain(t *testing.T) {
	cases := []struct{ in, want string }{
		{"boot.net.anydesk.com", "boot.net.anydesk.com"},
		{"  *.TeamViewer.com ", "*.teamviewer.com"},
		{"router*.teamviewer.com", "*.teamviewer.com"},
		{"rescue-list.*.logmein-gateway.com", "*.logmein-gateway.com"},
		{"https://remotedesktop.google.com/access", "remotedesktop.google.com"},
		{"boot.net.anydesk.com:443", "boot.net.anydesk.com"},
		{"remotedesktop-pa.googleapis.com", "remotedesktop-pa.googleapis.com"},
		{"relay-[a-f0-9]{8}.net.anydesk.com:443", ""},
		{"user_managed", ""},
		{"<internal-customer-ranges>", ""},
		{"192.3.95.152", ""},
		{"2001:db8::1", ""},
		{"*", ""},
		{"*.com", ""},
		{"*insight*", ""},
		{"*.-dms.zoho.com.cn", ""},
		{"github.com", ""},
		{"raw.github.com", ""},
		{"*.googleapis.com", ""},
		{"*remotedesktop-pa.googleapis.com", ""},
	}
	for _, c := range cases {
		got, ok := cleanDomain(c.in, &testRules)
		if c.want == "" {
			if ok {
				t.Errorf("cleanDomain(%q) = %q, want dropped", c.in, got)
			}
			continue
		}
		if !ok || got != c.want {
			t.Errorf("cleanDomain(%q) = %q,%v want %q", c.in, got, ok, c.want)
		}
	}
}

func TestCleanPathAndNames(t *testing.T) {
	if p, ok := cleanPath(`C:\\ProgramData\\AMMYY\\*`); !ok || p != `C:\ProgramData\AMMYY\*` {
		t.Errorf("doubled backslashes: %q %v", p, ok)
	}
	if p, ok := cleanPath(`C:\Program Files (x86)\ScreenConnect Client (<string ID>)\*`); !ok || p != `C:\Program Files (x86)\ScreenConnect Client (*)\*` {
		t.Errorf("placeholder: %q %v", p, ok)
	}
	for _, junk := range []string{"9380CC75B872221A7425D7503565B67580407F60", "can't find this one", "tvnserver.exe", "x.msi"} {
		if p, ok := cleanPath(junk); ok {
			t.Errorf("cleanPath(%q) kept %q", junk, p)
		}
	}
	if p, ok := cleanPath("ARDAgent.app"); !ok || p != "**/ARDAgent.app" {
		t.Errorf("bare bundle: %q %v", p, ok)
	}
	if n, ok := windowsExe(`*\TeamViewer_Desktop.exe`); !ok || n != "teamviewer_desktop.exe" {
		t.Errorf("windowsExe: %q %v", n, ok)
	}
	for _, s := range []string{"aa_v*.exe", "<random>.exe", "nxservice*.ese", ".exe", "G2MHost.exee"} {
		if n, ok := windowsExe(s); ok {
			t.Errorf("windowsExe(%q) = %q", s, n)
		}
	}
	cases := []struct{ in, os, name string }{
		{"/usr/local/bin/tmate", "linux", "tmate"},
		{"/usr/local/teramind/agent/bin/tmsysd", "linux", "tmsysd"},
		{"/Applications/Jump Desktop Connect.app/Contents/MacOS/JumpConnect", "darwin", "jumpconnect"},
		{"/opt/nezha/agent", "", ""},
		{"/etc/netbird/install.conf", "", ""},
		{"/usr/local/bin/ControlR/*", "", ""},
	}
	for _, c := range cases {
		os, name, ok := posixProcess(c.in)
		if ok != (c.os != "") || os != c.os || name != c.name {
			t.Errorf("posixProcess(%q) = %q %q %v", c.in, os, name, ok)
		}
	}
	if s, ok := serviceFromPath("/etc/systemd/system/nezha-agent.service"); !ok || s != "nezha-agent" {
		t.Errorf("systemd unit: %q", s)
	}
	if s, ok := serviceFromPath("/Library/LaunchDaemons/remotely-agent.plist"); !ok || s != "remotely-agent" {
		t.Errorf("launchd: %q", s)
	}
	if s := serviceFromRegistry(`HKLM\SYSTEM\CurrentControlSet\Services\AnyDesk`); s != "AnyDesk" {
		t.Errorf("registry service: %q", s)
	}
	if s := serviceFromRegistry(`HKLM\SYSTEM\ControlSet\Services\EventLog\Application\AteraAgent`); s != "" {
		t.Errorf("eventlog key taken as service: %q", s)
	}
	if got := slugID("I'm InTouch"); got != "im-intouch" {
		t.Errorf("slugID: %q", got)
	}
	if got := slugID("mstsc.exe (Microsoft Remote Desktop Connection)"); got != "mstsc-exe-microsoft-remote-desktop-connection" {
		t.Errorf("slugID: %q", got)
	}
}

const sampleLOLRMM = `Name: Sample Tool
Category: RMM
Description: x
Details:
    PEMetadata:
        - Filename: Sample.exe
          OriginalFileName: SampleOrig.exe
          Product: Sample
        - Filename: helper.dll
          OriginalFileName: helper.dll
    InstallationPaths:
        - C:\Program Files\Sample\*
        - sample_svc.exe
        - sample*.exe
        - /usr/local/bin/sampled
        - /Applications/Sample.app
Artifacts:
    EventLog:
        - EventID: 7045
          ServiceName: Sample Service
    Registry:
        - Path: HKLM\SYSTEM\CurrentControlSet\Services\SampleSvc
    Network:
        - Domains: ['*.sample.example.com', user_managed, 10.0.0.1, 'relay-[0-9]+.sample.com']
          Ports: [443, 5555, '1000-2000']
CodeSigning:
    signer_names: [Sample Ltd, Wrong Signer]
    certificates:
        - signer_name: Sample Ltd
          src_file_company: None
`

func TestParseAndDerive(t *testing.T) {
	rt, err := parseLOLRMM("sample.yaml", []byte(sampleLOLRMM))
	if err != nil {
		t.Fatal(err)
	}
	if err := applyFix(rt, &fix{File: "sample.yaml", Why: "test", Drop: map[string][]string{fSigners: {"wrong signer"}}}); err != nil {
		t.Fatal(err)
	}
	a := newAcc("sample-tool", rt.Name)
	if err := a.addRaw(rt, &testRules); err != nil {
		t.Fatal(err)
	}
	tl, err := a.tool()
	if err != nil {
		t.Fatal(err)
	}
	wantWin := []string{"sample.exe", "sample_svc.exe", "sampleorig.exe"}
	if strings.Join(tl.Processes["windows"], ",") != strings.Join(wantWin, ",") {
		t.Errorf("windows processes %v, want %v", tl.Processes["windows"], wantWin)
	}
	if strings.Join(tl.Processes["linux"], ",") != "sampled" {
		t.Errorf("linux processes %v", tl.Processes["linux"])
	}
	if strings.Join(tl.OriginalFilenames, ",") != "sampleorig.exe" {
		t.Errorf("original filenames %v (DLLs must be left out)", tl.OriginalFilenames)
	}
	if strings.Join(tl.Signers, ",") != "Sample Ltd" {
		t.Errorf("signers %v", tl.Signers)
	}
	if len(tl.Companies) != 0 {
		t.Errorf("companies %v ('None' must be dropped)", tl.Companies)
	}
	if strings.Join(tl.Services, ",") != "sample service,samplesvc" {
		t.Errorf("services %v", tl.Services)
	}
	if strings.Join(tl.Domains, ",") != "*.sample.example.com" {
		t.Errorf("domains %v", tl.Domains)
	}
	if strings.Join(tl.OutboundPorts, ",") != "tcp/5555" {
		t.Errorf("ports %v", tl.OutboundPorts)
	}
	if strings.Join(tl.Paths, ",") != `/Applications/Sample.app,/usr/local/bin/sampled,C:\Program Files\Sample\*` {
		t.Errorf("paths %v", tl.Paths)
	}
}

func TestFixMustMatch(t *testing.T) {
	rt, err := parseLOLRMM("sample.yaml", []byte(sampleLOLRMM))
	if err != nil {
		t.Fatal(err)
	}
	if err := applyFix(rt, &fix{Drop: map[string][]string{fSigners: {"Not There"}}}); err == nil {
		t.Error("a fix naming an absent value must fail")
	}
	if err := applyFix(rt, &fix{Drop: map[string][]string{"bogus": {"x"}}}); err == nil {
		t.Error("a fix naming an unknown field must fail")
	}
	if err := applyFix(rt, &fix{Replace: map[string]map[string]string{fDomains: {"user_managed": "x.example.com"}}}); err != nil {
		t.Errorf("replace: %v", err)
	}
}

func TestAssembleRefusesSilentMerge(t *testing.T) {
	r1, _ := parseLOLRMM("a.yaml", []byte("Name: Same\nCategory: RMM\nDescription: x\nDetails:\n  InstallationPaths: [a.exe]\n"))
	r2, _ := parseLOLRMM("b.yaml", []byte("Name: Same\nCategory: RMM\nDescription: x\nDetails:\n  InstallationPaths: [b.exe]\n"))
	if _, _, err := assemble([]*rawTool{r1, r2}, &curatedFile{Date: "2026-01-01"}, strings.Repeat("a", 40)); err == nil {
		t.Fatal("two files with one auto id must fail without a curated merge")
	}
	cur := &curatedFile{Date: "2026-01-01", Tools: []curatedTool{{ID: "same", LOLRMM: []string{"a.yaml", "b.yaml"}}}}
	c, st, err := assemble([]*rawTool{r1, r2}, cur, strings.Repeat("a", 40))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tools) != 1 || st.Merged != 1 || strings.Join(c.Tools[0].Processes["windows"], ",") != "a.exe,b.exe" {
		t.Errorf("merge: %+v %+v", c.Tools, st)
	}
}

func lolrmmDir() string {
	if s := os.Getenv("FARMWATCH_SHARED"); s != "" {
		return filepath.Join(s, "data", "rmm", "lolrmm")
	}
	return ""
}

// FuzzLOLRMMToTool: any YAML either fails to parse or yields a tool whose
// facts keep the catalog's invariants.
func FuzzLOLRMMToTool(f *testing.F) {
	f.Add([]byte(sampleLOLRMM))
	f.Add([]byte("Name: x\nDetails:\n  PEMetadata: []\n"))
	f.Add([]byte("Name: x\nArtifacts:\n  Network:\n    - Domains: ['*.*', '[::1]:80', 'a.b.c:99999']\n      Ports: [{a: 1}, -1]\n"))
	if dir := lolrmmDir(); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "*.y*ml"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	domainOK := regexp.MustCompile(`^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)
	f.Fuzz(func(t *testing.T, data []byte) {
		rt, err := parseLOLRMM("fuzz.yaml", data)
		if err != nil {
			return
		}
		a := newAcc("fuzz", rt.Name)
		if err := a.addRaw(rt, &testRules); err != nil {
			t.Fatal(err)
		}
		tl, err := a.tool()
		if err != nil {
			return // e.g. a name that trims to nothing
		}
		for os, names := range tl.Processes {
			for _, n := range names {
				if n != strings.ToLower(n) || n == "" || strings.ContainsAny(n, globChars) {
					t.Fatalf("%s process %q", os, n)
				}
				if os == "windows" && !strings.HasSuffix(n, ".exe") {
					t.Fatalf("windows process %q", n)
				}
			}
		}
		for _, d := range tl.Domains {
			if !domainOK.MatchString(d) {
				t.Fatalf("domain %q", d)
			}
			if again, ok := cleanDomain(d, &testRules); !ok || again != d {
				t.Fatalf("cleanDomain not idempotent on %q: %q %v", d, again, ok)
			}
		}
		for _, p := range tl.OutboundPorts {
			if !portSpec.MatchString(p) {
				t.Fatalf("port %q", p)
			}
		}
		for _, p := range tl.Paths {
			if strings.Contains(p, `\\`) || !strings.ContainsAny(p, `/\`) {
				t.Fatalf("path %q", p)
			}
		}
	})
}

// FuzzCuratedToTool: the curated overlay parser and merger never panic and
// never emit an invalid session pattern or port.
func FuzzCuratedToTool(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "curated.yaml")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("tools:\n  - id: x\n    sessions: [{pattern: '(', meaning: m}]\n"))
	f.Add([]byte("tools:\n  - {id: a-b, processes: {linux: [X]}, listen_ports: [tcp/99999]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cur, err := parseCurated(data)
		if err != nil {
			return
		}
		for i := range cur.Tools {
			ct := &cur.Tools[i]
			a := newAcc(ct.ID, ct.Name)
			if err := a.addCurated(ct, &cur.Generic); err != nil {
				continue
			}
			tl, err := a.tool()
			if err != nil {
				continue
			}
			for _, s := range tl.Sessions {
				if _, err := regexp.Compile("(?i)" + s.Pattern); err != nil {
					t.Fatalf("accepted bad pattern %q", s.Pattern)
				}
			}
			for _, p := range append(tl.ListenPorts, tl.OutboundPorts...) {
				if _, err := normPort(p); err != nil {
					t.Fatalf("accepted bad port %q", p)
				}
			}
		}
	})
}
