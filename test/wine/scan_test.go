//go:build linux

package wine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type finding struct {
	Rule     string         `json:"rule"`
	Tool     string         `json:"tool"`
	Severity string         `json:"severity"`
	Summary  string         `json:"summary"`
	Evidence map[string]any `json:"evidence"`
}

func parseFindings(t *testing.T, out string) []finding {
	t.Helper()
	var fs []finding
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var f finding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("scan --format json printed a line that is not a finding: %q: %v", line, err)
		}
		fs = append(fs, f)
	}
	return fs
}

// realTool is a real Windows binary the lane runs under Wine, plain and
// renamed into another directory.
type realTool struct {
	id   string // catalog id the agent must report
	src  string // the real file
	name string // its own file name
	args func(dir string, port int) []string
	// how a renamed copy must be identified (in the finding's "matched"
	// evidence): by content, never by its name
	by          string
	renamedOnly bool
	listens     bool // args give it a loopback listener on port
}

// Not here: sing-box 1.14.1 and tailscaled 1.100.0 for Windows (both
// built by identity-install.sh) do not start under Wine 8.0 (sing-box
// panics on iphlpapi's missing InitializeIpInterfaceEntry; tailscaled fails
// to bind and dials its log and DERP servers, traffic the lane must not
// send); their identity is checked on the files by the remoteaccess tests.
func realTools() []realTool {
	z := zooCache()
	return []realTool{
		{
			// MeshCentral's Windows agent: unsigned, ProductName "MeshCentral
			// Agent", no OriginalFilename, no CompanyName.
			// Two MeshAgents do not run side by side (the second exits), so
			// only the renamed, moved copy runs here. Started with no
			// argument it waits for the service control manager and exits
			// after ~15 s under Wine (a scan on a loaded machine came later
			// and found nothing); `run` is its console mode, which stays up.
			id: "meshcentral", name: "MeshService64.exe", by: "product name", renamedOnly: true,
			src:  filepath.Join(z, "meshcentral", "node_modules", "meshcentral", "agents", "MeshService64.exe"),
			args: func(string, int) []string { return []string{"run"} },
		},
		{
			id: "xray", name: "xray.exe", by: "Go build info", listens: true,
			src: filepath.Join(z, "identity", "go", "xray-windows-amd64.exe"),
			args: func(dir string, port int) []string {
				cfg := filepath.Join(dir, "xray.json")
				writeFile(cfg, fmt.Sprintf(`{"log":{"loglevel":"warning"},"inbounds":[{"listen":"127.0.0.1","port":%d,"protocol":"socks","settings":{"auth":"noauth"}}],"outbounds":[{"protocol":"freedom"}]}`, port))
				return []string{"run", "-c", winPath(cfg)}
			},
		},
	}
}

func writeFile(path, s string) {
	_ = os.MkdirAll(filepath.Dir(path), 0o755)
	_ = os.WriteFile(path, []byte(s), 0o644)
}

// running is one started copy of a real tool.
type running struct {
	tool    realTool
	renamed bool
	exe     string // Linux path
	port    int    // its loopback listener (0: none)
}

// TestWineScan runs real remote-access and tunnel binaries for Windows
// under Wine — each under its own name and renamed into another directory —
// and farmwatch-agent.exe `scan` (table and JSON) and `collect` under the
// same Wine; then the Linux build scans the collected snapshot. It asserts
// what Wine really has: processes with paths and PE identity, ~17 services,
// connections with owning pids, PnP devices, and every tool copy found by
// identity (PE product string, Go build info), not by name.
func TestWineScan(t *testing.T) {
	l := wineLane(t)
	t.Parallel()
	var missing []string
	for _, rt := range realTools() {
		if _, err := os.Stat(rt.src); err != nil {
			missing = append(missing, rt.src)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("real Windows binaries missing (scripts/zoo/identity-install.sh installs them):\n  %s", strings.Join(missing, "\n  "))
	}
	dir := t.TempDir()
	var runs []running
	for i, rt := range realTools() {
		for _, renamed := range []bool{false, true} {
			if rt.renamedOnly && !renamed {
				continue
			}
			exe := filepath.Join(dir, "plain", rt.id, rt.name)
			if renamed {
				exe = filepath.Join(dir, "moved", fmt.Sprintf("d%d", i), "svchelper.exe")
			}
			copyFile(t, rt.src, exe)
			r := running{tool: rt, exe: exe, renamed: renamed}
			args := []string{winPath(exe)}
			if rt.args != nil {
				if rt.listens {
					r.port = freePort(t)
				}
				args = append(args, rt.args(filepath.Dir(exe), r.port)...)
			}
			l.start(t, args...)
			runs = append(runs, r)
		}
	}
	// Wait until every copy is up: its Wine process exists and, where it
	// has one, its listener accepts.
	for _, r := range runs {
		win := winPath(r.exe)
		waitFor(t, r.tool.id+" running as "+win, 90*time.Second, func() (bool, string) { return linuxProcessRuns(win), "" })
		if r.port != 0 {
			addr := fmt.Sprintf("127.0.0.1:%d", r.port)
			waitFor(t, r.tool.id+" listening on "+addr, 90*time.Second, func() (bool, string) { return dialable(addr), "" })
		}
	}

	cfg := filepath.Join(dir, "scan.yaml")
	// A loaded 2-core CI machine runs Wine slowly: room for the detectors.
	writeFile(cfg, "detectors:\n  remoteaccess: {timeout: 120s}\n  tunnel: {timeout: 120s}\n  context: {timeout: 60s}\n  hardware: {timeout: 60s}\n")
	snap := filepath.Join(dir, "snapshot")
	type result struct {
		stdout, stderr string
		code           int
	}
	var table, js, coll result
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		table.stdout, table.stderr, table.code = l.agent(t, "scan", "--config", winPath(cfg))
	}()
	go func() {
		defer wg.Done()
		js.stdout, js.stderr, js.code = l.agent(t, "scan", "--format", "json", "--config", winPath(cfg))
	}()
	go func() {
		defer wg.Done()
		coll.stdout, coll.stderr, coll.code = l.agent(t, "collect", "--out", winPath(snap))
	}()
	wg.Wait()

	// version
	if out, _, code := l.agent(t, "version"); code != 0 || !strings.Contains(out, "windows/amd64") {
		t.Errorf("version: exit %d, %q (want windows/amd64)", code, out)
	}

	// collect: Wine lacks GetIpNetTable2 (the neighbour table), so the
	// snapshot is incomplete and collect must say so and exit 1.
	if coll.code != 1 || !strings.Contains(coll.stderr, "incomplete") || !strings.Contains(coll.stderr, "lan:") {
		t.Errorf("collect under Wine: exit %d, want 1 naming the lan source as incomplete; stderr:\n%s", coll.code, tail(coll.stderr, 2000))
	}
	checkSnapshot(t, snap, runs)

	// scan, table and JSON
	for name, r := range map[string]result{"table": table, "json": js} {
		if r.code != 0 {
			t.Errorf("scan (%s): exit %d; stderr:\n%s", name, r.code, tail(r.stderr, 3000))
		}
	}
	if !strings.HasPrefix(table.stdout, "SEVERITY") || !strings.Contains(table.stdout, "meshcentral") {
		t.Errorf("scan table:\n%s", tail(table.stdout, 3000))
	}
	checkToolFindings(t, "scan under Wine", parseFindings(t, js.stdout), runs, false)

	// The Linux build on the snapshot the Windows build recorded.
	so, se, code := runLinux(t, l.agentLin, "scan", "--snapshot", snap, "--format", "json")
	if code != 0 {
		t.Errorf("linux scan --snapshot: exit %d\n%s", code, tail(se, 2000))
	}
	fs := parseFindings(t, so)
	checkToolFindings(t, "linux scan of the Wine snapshot", fs, runs, true)
	var termsvc bool
	for _, f := range fs {
		if f.Rule == "remoteaccess.service.installed" && strings.Contains(f.Summary, "TermService") {
			termsvc = true
		}
	}
	if !termsvc {
		t.Errorf("linux scan of the Wine snapshot: no finding for Wine's TermService (the services listing reached no detector)")
	}
}

// linuxProcessRuns reports whether a Wine process runs the Windows
// executable win: Wine sets a process's command line to the Windows path
// it runs.
func linuxProcessRuns(win string) bool {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range cmdlines {
		b, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		if strings.Contains(strings.ToLower(string(b)), strings.ToLower(win)) {
			return true
		}
	}
	return false
}

// checkToolFindings wants, for every running copy, a finding of its tool
// that names its path, identified by content. Offline (a snapshot) only
// what the snapshot records counts: PE version strings are recorded, Go
// build info is read from the executable, which a snapshot does not hold.
func checkToolFindings(t *testing.T, what string, fs []finding, runs []running, offline bool) {
	t.Helper()
	for _, r := range runs {
		if offline && r.renamed && r.tool.by == "Go build info" {
			continue
		}
		want := winPath(r.exe)
		found := false
		var seen []string
		for _, f := range fs {
			if f.Tool != r.tool.id {
				continue
			}
			p, _ := f.Evidence["path"].(string)
			seen = append(seen, p)
			if !strings.EqualFold(p, want) {
				continue
			}
			m, _ := json.Marshal(f.Evidence["matched"])
			if r.renamed && !strings.Contains(string(m), r.tool.by) {
				t.Errorf("%s: %s at %s identified by %s, want by %s", what, r.tool.id, want, m, r.tool.by)
			}
			found = true
		}
		if !found {
			t.Errorf("%s: no %s finding for %s (its findings name %v)", what, r.tool.id, want, seen)
		}
	}
}

// checkSnapshot asserts what the Windows build recorded from Wine.
func checkSnapshot(t *testing.T, dir string, runs []running) {
	t.Helper()
	var procs []struct {
		PID     int32  `json:"pid"`
		Name    string `json:"name"`
		Exe     string `json:"exe"`
		Product string `json:"product"`
		Company string `json:"company"`
	}
	readJSON(t, filepath.Join(dir, "processes.json"), &procs)
	pidOf := map[string]int32{}
	withExe, withIdentity := 0, 0
	for _, p := range procs {
		if p.Exe != "" {
			withExe++
			pidOf[strings.ToLower(p.Exe)] = p.PID
		}
		if p.Product != "" || p.Company != "" {
			withIdentity++
		}
	}
	if withExe < 8 || withIdentity < 1 {
		t.Errorf("processes: %d with an executable path, %d with PE identity; want ≥ 8 and ≥ 1 (%+v)", withExe, withIdentity, procs)
	}
	for _, r := range runs {
		if r.tool.id == "meshcentral" {
			for _, p := range procs {
				if strings.EqualFold(p.Exe, winPath(r.exe)) && p.Product != "MeshCentral Agent" {
					t.Errorf("process %s: product %q, want the PE ProductName MeshCentral Agent", p.Exe, p.Product)
				}
			}
		}
	}
	var svcs []struct {
		Name, Path, State string
	}
	readJSON(t, filepath.Join(dir, "services.json"), &svcs)
	names := map[string]bool{}
	for _, s := range svcs {
		names[s.Name] = s.Path != ""
	}
	if len(svcs) < 12 || !names["RpcSs"] || !names["PlugPlay"] || !names["TermService"] {
		t.Errorf("services: %d listed (Wine has ~17, with RpcSs, PlugPlay, TermService and their paths): %+v", len(svcs), svcs)
	}
	var conns []struct {
		PID   int32  `json:"pid"`
		LPort int    `json:"lport"`
		State string `json:"state"`
	}
	readJSON(t, filepath.Join(dir, "connections.json"), &conns)
	for _, r := range runs {
		if r.port == 0 {
			continue
		}
		pid, ok := pidOf[strings.ToLower(winPath(r.exe))]
		if !ok {
			t.Errorf("processes: %s not listed", winPath(r.exe))
			continue
		}
		// Wine 8.0 reports owning pid 0 for every socket (its sockets live
		// in the wineserver), so the listener is checked, its owner is not.
		listening := false
		for _, c := range conns {
			if c.LPort == r.port && c.State == "LISTEN" && (c.PID == pid || c.PID == 0) {
				listening = true
			}
		}
		if !listening {
			t.Errorf("connections: no LISTEN on port %d (%s, pid %d): %+v", r.port, r.tool.id, pid, conns)
		}
	}
	var pnp []struct {
		InstanceID   string `json:"InstanceId"`
		FriendlyName string `json:"FriendlyName"`
		Class        string `json:"Class"`
	}
	readJSON(t, filepath.Join(dir, "pnp-devices.json"), &pnp)
	hid := false
	for _, d := range pnp {
		if d.Class == "HIDClass" && strings.HasPrefix(d.InstanceID, `HID\`) {
			hid = true
		}
	}
	if len(pnp) < 3 || !hid {
		t.Errorf("pnp-devices: %d, HID devices %v; want Wine's HID bus devices: %+v", len(pnp), hid, pnp)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("snapshot: %v", err)
		return
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Errorf("snapshot %s: %v", filepath.Base(path), err)
	}
}
