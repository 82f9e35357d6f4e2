//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The real-software zoo (scripts/zoo.sh): remote-control, tunnel and VPN
// tools installed from the registries and run for real in network
// namespaces, the controller 180 ms from the laptop. For each scenario the
// test brings the namespaces and servers up (the laptop's tools run as
// renamed, moved copies: ZOO_RENAME=1, scripts/zoo/lib.sh zbin), starts the real agent
// (`farmwatch-agent run`, live capture on the laptop's link) inside the
// laptop's namespace and tcpdump beside it, lets the person at the
// controls drive the session, then asserts what farmwatch reports
//   - on the host: `farmwatch-agent scan` in the laptop's namespace,
//   - on the wire: `farmwatch-agent pcap` on the capture just taken, and
//   - live: the running agent's own findings (detector "traffic").
//
// Negative scenarios (this host is the viewer, a video call with screen
// sharing, an upload, streaming, a git push, a terminal with echo) must
// stay at or below low on the wire and live.

// zooLaptop is the laptop's address in every scenario (scripts/zoo/lib.sh).
const zooLaptop = "10.210.0.2"

// want is one expected finding: rule (and tool, if set) at severity ≥ sev.
// Rules separated by "|" are alternatives.
type want struct {
	rule, tool, sev string
}

type zooCase struct {
	name string
	// host: findings `scan` must report on the laptop while the session
	// runs (nil: no host expectation beyond not failing).
	host []want
	// wire: what `pcap` and the live agent must report; maxWire bounds
	// every other traffic finding (negatives: "low").
	wire    []want
	maxWire string
	// alone: the scenario needs the machine to itself (Chromium and a
	// Node server: CPU-heavy, its drive's pace would suffer from a second
	// scenario beside it), so no other runs meanwhile.
	alone bool
	// bypassed: the live agent's kernel bypass must take over a flow of
	// the session (its capture_stopped log line counts bypassed_flows),
	// and the wire expectations hold all the same.
	bypassed bool
	// iface is the link to capture after the lane's prefix (default
	// "-lap", the laptop's link to the controller); set by scenarios whose
	// session crosses the side link.
	iface string
}

// zooCases is the zoo: each name is a scripts/zoo/<name>.sh scenario.
// The longest (meshcentral) comes first so that the lanes finish together.
var zooCases = []zooCase{
	// The self-hosted RMM: MeshCentral's server on the controller, the
	// real MeshAgent (renamed, moved, its .msh beside it) dialling out to
	// it on 443; desktop and terminal driven from the web UI.
	{name: "meshcentral", alone: true,
		host: []want{{"remoteaccess.process.renamed", "meshcentral", "high"}},
		wire: []want{{"network.behavior.controlled", "", "high"}}},
	{name: "vnc-reverse",
		host: []want{{"remoteaccess.process.renamed", "vnc", "high"}},
		wire: []want{{"network.vnc.session", "vnc", "high"}}},
	{name: "vnc-http-connect",
		host: []want{{"remoteaccess.process.renamed", "vnc", "high"}},
		wire: []want{{"network.vnc.session", "vnc", "high"}}},
	{name: "vnc-autossh-r",
		host: []want{{"remoteaccess.process.renamed", "vnc", "high"}},
		wire: []want{{"network.behavior.controlled", "", "high"}}},
	{name: "rdp-autossh-r",
		host: []want{{"remoteaccess.process.renamed", "rdp", "high"}},
		wire: []want{{"network.behavior.controlled", "", "high"}}},
	{name: "vnc-xray-reverse",
		host: []want{{"remoteaccess.process.renamed", "vnc", "high"}},
		wire: []want{{"network.behavior.controlled", "", "high"}}},
	{name: "vnc-websockify", iface: "-lap2", alone: true,
		host: []want{{"remoteaccess.process.renamed", "vnc", "high"}},
		wire: []want{{"network.vnc.session", "vnc", "high"}, {"network.behavior.far-controller", "vnc", "medium"}}},
	{name: "vnc-shadowsocks",
		host: []want{{"remoteaccess.process.renamed", "vnc", "high"}},
		wire: []want{{"network.behavior.controlled", "", "high"}}},
	{name: "rdp-strongswan",
		host: []want{{"remoteaccess.process.renamed", "rdp", "high"}},
		wire: []want{{"network.behavior.controlled", "", "high"}}},
	// xpra is a Python program: no single binary to rename; the host
	// side has nothing to add.
	{name: "xpra",
		wire: []want{{"network.behavior.controlled", "", "high"}}},
	{name: "vnc-shadowsocks-out",
		host: []want{{"remoteaccess.process.renamed", "vnc", "high"}},
		wire: []want{{"network.behavior.controlled", "", "high"}}},
	{name: "vnc-websockify-laptop", alone: true,
		host: []want{{"remoteaccess.process.renamed", "vnc", "high"}},
		wire: []want{{"network.behavior.controlled", "", "high"}}},
	// A UDP VPN nobody named (OpenVPN with its handshake encrypted)
	// carrying a 26 s download beside the browsing: the live agent's
	// kernel bypass counts the tunnel's packets both ways, and the
	// encapsulation shape (sizes it counted) still shows.
	{name: "openvpn-tls-crypt-download", bypassed: true,
		wire: []want{{"network.behavior.encapsulation", "", "medium"}}},
	// Negatives: nothing above low on the wire.
	{name: "vnc-viewer-out", maxWire: "low"},
	{name: "upload", maxWire: "low"},
	{name: "ssh-terminal-echo", maxWire: "low"},
	{name: "video-call-screenshare", maxWire: "low", alone: true},
	{name: "streaming", maxWire: "low"},
	{name: "git-push", maxWire: "low"},
	{name: "rdp-shadow",
		host: []want{{"remoteaccess.process.renamed", "rdp", "high"}},
		wire: []want{{"network.rdp.session", "rdp", "high"}}},
}

// zooLane is one set of namespaces, links and X displays a scenario runs
// in (scripts/zoo/lib.sh ZOO_PREFIX, ZOO_DISPLAY). Scenarios run two at a
// time, each in a lane of its own; nothing in one lane reaches the other
// (own network namespaces, displays, state and /opt/zoo-PREFIX copies).
// A lane's scenarios take turns between display..display+2 and
// display+3..display+5, so an X server of the previous scenario that is
// still going away never shares a number with the next one's.
type zooLane struct {
	prefix  string
	display int
}

// zooLanes are the lanes TestZoo uses; FARMWATCH_ZOO_LANES=PREFIX:DISPLAY,…
// sets others (one lane: the scenarios run one after another).
func zooLanes(t *testing.T) []zooLane {
	spec := os.Getenv("FARMWATCH_ZOO_LANES")
	if spec == "" {
		return []zooLane{{"e", 150}, {"v", 160}}
	}
	var lanes []zooLane
	for _, l := range strings.Split(spec, ",") {
		var lane zooLane
		p, d, ok := strings.Cut(l, ":")
		if _, err := fmt.Sscan(d, &lane.display); err != nil || !ok || p == "" {
			t.Fatalf("FARMWATCH_ZOO_LANES: %q is not PREFIX:DISPLAY", l)
		}
		lane.prefix = p
		lanes = append(lanes, lane)
	}
	return lanes
}

func TestZoo(t *testing.T) {
	requireE2E(t, "ip", "tcpdump", "Xvfb", "xdotool", "bash")
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	zoo := filepath.Join(repo, "scripts", "zoo.sh")
	secs := "25"
	if s := os.Getenv("FARMWATCH_ZOO_SECS"); s != "" {
		secs = s
	}
	cache := os.Getenv("FARMWATCH_ZOO_CACHE")
	if cache == "" {
		cache = "/var/cache/farmwatch-zoo"
	}
	env := func(lane zooLane, state string) []string {
		// ZOO_RENAME: the laptop's tools run as renamed, moved copies.
		// ZOO_INSTALLED: the install step below has run.
		return append(os.Environ(), "ZOO_PREFIX="+lane.prefix, fmt.Sprintf("ZOO_DISPLAY=%d", lane.display),
			"ZOO_STATE="+state, "ZOO_CACHE="+cache, "ZOO_SECS="+secs, "ZOO_RENAME=1", "ZOO_INSTALLED=1")
	}
	zooRun := func(t *testing.T, lane zooLane, state string, timeout time.Duration, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, zoo, args...)
		cmd.Env = env(lane, state)
		out, err := cmd.CombinedOutput()
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(state, "log"))
			t.Fatalf("zoo.sh %s: %v\n%s\n--- log (tail) ---\n%s", strings.Join(args, " "), err, out, lastBytes(string(log), 4000))
		}
	}
	// FARMWATCH_ZOO_ONLY=a,b runs only those scenarios (development).
	cases := zooCases
	if only := os.Getenv("FARMWATCH_ZOO_ONLY"); only != "" {
		cases = nil
		for _, c := range zooCases {
			if strings.Contains(","+only+",", ","+c.name+",") {
				cases = append(cases, c)
			}
		}
	}
	// Install every scenario's software first (once per machine: cached).
	names := make([]string, 0, len(cases))
	for _, c := range cases {
		names = append(names, c.name)
	}
	lanes := zooLanes(t)
	zooRun(t, lanes[0], t.TempDir(), 20*time.Minute, append([]string{"install"}, names...)...)
	agent(t) // resolved once, before the scenarios run side by side

	// One worker per lane takes the next scenario in zooCases' order (the
	// longest first) until none is left.
	next := make(chan zooCase, len(cases))
	for _, c := range cases {
		next <- c
	}
	close(next)
	// Scenarios marked alone hold the write lock: none runs beside them.
	var machine sync.RWMutex
	var wg sync.WaitGroup
	for _, lane := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				c, ok := <-next
				if !ok {
					return
				}
				l := lane
				l.display += 3 * (k % 2)
				lock, unlock := machine.RLock, machine.RUnlock
				if c.alone {
					lock, unlock = machine.Lock, machine.Unlock
				}
				lock()
				t.Run(c.name, func(t *testing.T) { zooScenario(t, zoo, l, c, env, zooRun) })
				unlock()
			}
		}()
	}
	wg.Wait()
}

// zooScenario runs one scenario in lane and asserts what farmwatch
// reports about it (see TestZoo).
func zooScenario(t *testing.T, zoo string, lane zooLane, c zooCase, env func(zooLane, string) []string,
	zooRun func(*testing.T, zooLane, string, time.Duration, ...string)) {
	ns, link := lane.prefix+"lap", lane.prefix+"-lap"
	state := t.TempDir()
	// Where the scenario's time goes (logged at the end).
	var phases []string
	mark := time.Now()
	phase := func(name string) {
		now := time.Now()
		phases = append(phases, fmt.Sprintf("%s %.1fs", name, now.Sub(mark).Seconds()))
		mark = now
	}
	defer func() { t.Logf("zoo %s (lane %s) phases: %s", c.name, lane.prefix, strings.Join(phases, ", ")) }()
	t.Cleanup(func() {
		start := time.Now()
		cmd := exec.Command(zoo, "down")
		cmd.Env = env(lane, state)
		_ = cmd.Run()
		t.Logf("zoo %s down %.1fs", c.name, time.Since(start).Seconds())
	})
	zooRun(t, lane, state, 6*time.Minute, "up", c.name)
	phase("up")
	iface := link
	if c.iface != "" {
		iface = lane.prefix + c.iface
	}
	capture := filepath.Join(state, "session.pcap")
	dump := zooStart(t, capture, "ip", "netns", "exec", ns, "tcpdump", "-U", "-n", "-s", "0", "-i", iface, "-w", capture)
	live := startLiveAgent(t, ns, iface)
	phase("capture+agent start")
	zooRun(t, lane, state, 8*time.Minute, "session", c.name)
	phase("session")

	host := scanNS(t, ns)
	phase("scan")
	_ = dump.Process.Signal(syscall.SIGTERM)
	_, _ = dump.Process.Wait()
	liveFindings := live.stop(t)
	phase("capture+agent stop")
	wire := pcapFindings(t, capture)
	phase("pcap")

	// The host scan sees every process on the machine, the other
	// lane's too: a renamed copy counts only from this lane's
	// folder (scripts/zoo/lib.sh zbin).
	mine := "/opt/zoo-" + lane.prefix + "/"
	for _, w := range c.host {
		if !hasHostWant(host, w, mine) {
			t.Errorf("host: no %s (tool %s) ≥ %s from %s; scan found:\n%s", w.rule, w.tool, w.sev, mine, describe(host))
		}
	}
	checkWire(t, "pcap", wire, c)
	checkWire(t, "live agent", liveFindings, c)
	if c.bypassed {
		if n := bypassedFlows(live.stderr.String()); n < 1 {
			t.Errorf("the live agent's kernel bypass took over no flow (bypassed_flows %d in its capture_stopped line)", n)
		} else {
			t.Logf("live agent: %d flows bypassed", n)
		}
	}
	// Live findings name the process on the laptop that holds the
	// flow, with its executable's hash.
	for _, w := range c.wire {
		if f, ok := findWant(liveFindings, w, zooLaptop); ok {
			if f.Evidence["pid"] == nil || f.Evidence["exe_sha256"] == nil {
				t.Errorf("live %s not attributed to a process with its hash: %v", f.Rule, f.Evidence)
			}
		}
	}
	t.Logf("zoo %s\n host: %s\n pcap: %s\n live: %s", c.name, brief(host, ""), brief(wire, zooLaptop), brief(liveFindings, zooLaptop))
	if t.Failed() {
		t.Logf("pcap findings:\n%s\nlive findings:\n%s", describe(wire), describe(liveFindings))
	}
}

// bypassedFlows reads bypassed_flows from the agent's capture_stopped log
// line (JSON), -1 when there is none.
func bypassedFlows(stderr string) int {
	for _, line := range strings.Split(stderr, "\n") {
		var l struct {
			Msg   string `json:"msg"`
			Flows *int   `json:"bypassed_flows"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "capture_stopped" {
			if l.Flows == nil {
				return 0
			}
			return *l.Flows
		}
	}
	return -1
}

// hasHostWant reports whether the host findings hold w for a process
// whose executable lies under dir (evidence "path", or one of "paths").
func hasHostWant(fs []finding, w want, dir string) bool {
	for _, f := range fs {
		if !hasWant([]finding{f}, w, "") {
			continue
		}
		paths := []any{f.Evidence["path"]}
		if ps, ok := f.Evidence["paths"].([]any); ok {
			paths = append(paths, ps...)
		}
		for _, p := range paths {
			if s, ok := p.(string); ok && strings.HasPrefix(s, dir) {
				return true
			}
		}
	}
	return false
}

// checkWire asserts the wanted findings and the severity bound of a
// finding set from the traffic engine.
func checkWire(t *testing.T, what string, fs []finding, c zooCase) {
	t.Helper()
	for _, w := range c.wire {
		if !hasWant(fs, w, zooLaptop) {
			t.Errorf("%s: no %s (tool %s) ≥ %s about %s", what, w.rule, w.tool, w.sev, zooLaptop)
		}
	}
	if c.maxWire != "" {
		for _, f := range fs {
			if severityRank[f.Severity] > severityRank[c.maxWire] {
				t.Errorf("%s: %s %s above %s: %s", what, f.Severity, f.Rule, c.maxWire, f.Summary)
			}
		}
	}
}

// hasWant reports whether fs holds w; with addr set, the finding's flow
// must involve that address.
func hasWant(fs []finding, w want, addr string) bool {
	_, ok := findWant(fs, w, addr)
	return ok
}

// brief lists the findings above info (about addr, if set) on one line,
// with the measured controller distance where there is one.
func brief(fs []finding, addr string) string {
	var parts []string
	for _, f := range fs {
		if f.Severity == "info" {
			continue
		}
		if addr != "" && !strings.Contains(fmt.Sprint(f.Evidence["client"], f.Evidence["server"]), addr+":") {
			continue
		}
		p := fmt.Sprintf("%s %s/%s", f.Rule, f.Tool, f.Severity)
		if app, ok := f.Evidence["app_rtt_ms"]; ok {
			p += fmt.Sprintf(" app_rtt=%vms hs_rtt=%vms", app, f.Evidence["handshake_rtt_ms"])
		}
		if pr, ok := f.Evidence["process"]; ok {
			p += fmt.Sprintf(" process=%v", pr)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// findWant returns the first finding of fs matching w (see hasWant).
func findWant(fs []finding, w want, addr string) (finding, bool) {
	for _, f := range fs {
		ok := false
		for _, r := range strings.Split(w.rule, "|") {
			ok = ok || f.Rule == r
		}
		if !ok || (w.tool != "" && f.Tool != w.tool) || severityRank[f.Severity] < severityRank[w.sev] {
			continue
		}
		if addr != "" {
			c, _ := f.Evidence["client"].(string)
			s, _ := f.Evidence["server"].(string)
			if !strings.HasPrefix(c, addr+":") && !strings.HasPrefix(s, addr+":") {
				continue
			}
		}
		return f, true
	}
	return finding{}, false
}

func describe(fs []finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %-6s %-40s %-12s %s\n", f.Severity, f.Rule, f.Tool, f.Summary)
	}
	return b.String()
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// zooStart starts tcpdump writing file for the duration of the test and
// returns once it captures (it writes the file's header after opening its
// socket).
func zooStart(t *testing.T, file, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := startProc(t, name, args...)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if st, err := os.Stat(file); err == nil && st.Size() > 0 {
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start writing %s", name, file)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scanNS runs `scan` inside a namespace and parses its findings.
// The lan detector listens for mDNS for half a second instead of its
// default 3 s: nothing in the zoo's namespaces speaks mDNS. remoteaccess
// may take 2 minutes instead of 20 s (a starved machine ran past 20 s).
func scanNS(t *testing.T, ns string) []finding {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "scan.yaml")
	if err := os.WriteFile(cfg, []byte("detectors:\n  lan:\n    settings: {listen_seconds: 0.5}\n  remoteaccess: {timeout: 2m}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, agent(t), "scan", "--config", cfg, "--format", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() != 3 {
		t.Fatalf("scan in %s: exit %d\n%s", ns, ee.ExitCode(), stderr.String())
	} else if err != nil && !ok {
		t.Fatalf("scan in %s: %v", ns, err)
	}
	return parseFindings(t, stdout.String())
}

// pcapFindings analyses a capture with the laptop as this host.
func pcapFindings(t *testing.T, file string) []finding {
	t.Helper()
	out, stderr, code := runAgent(t, "pcap", "--format", "json", "--local", zooLaptop+"/32", file)
	if code != 0 && code != 3 {
		t.Fatalf("pcap %s: exit %d\n%s", file, code, stderr)
	}
	return parseFindings(t, out)
}

// liveAgent is `farmwatch-agent run` inside the laptop's namespace with
// only the traffic detector, capturing one link.
type liveAgent struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
}

func startLiveAgent(t *testing.T, ns, iface string) *liveAgent {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "farmwatch.yaml")
	body := "detectors:\n  remoteaccess: {enabled: false}\n  hardware: {enabled: false}\n  tunnel: {enabled: false}\n  context: {enabled: false}\n  lan: {enabled: false}\n" +
		"  traffic:\n    settings: {interfaces: [" + iface + "], report_every: 5s, cpu_budget: 0.5}\nreport:\n  stdout: true\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &liveAgent{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	a.cmd = exec.Command("ip", "netns", "exec", ns, agent(t), "run", "--config", cfg)
	a.cmd.Stdout, a.cmd.Stderr = a.stdout, a.stderr
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.cmd.Process.Kill(); _, _ = a.cmd.Process.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(a.stderr.String(), "capture_started") {
		if time.Now().After(deadline) {
			t.Fatalf("live agent did not start capturing on %s:\n%s", iface, a.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return a
}

// stop ends the agent (SIGTERM: flows still open are reported at stop) and
// returns the traffic findings it emitted, the latest of each id.
func (a *liveAgent) stop(t *testing.T) []finding {
	t.Helper()
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = a.cmd.Process.Kill()
		t.Errorf("live agent did not stop within 20 s")
	}
	byID := map[string]finding{}
	var order []string
	sc := bufio.NewScanner(strings.NewReader(a.stdout.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var f struct {
			finding
			Detector string `json:"detector"`
			Type     string `json:"type"`
		}
		if json.Unmarshal(sc.Bytes(), &f) != nil || f.Detector != "traffic" || f.Rule == "" {
			continue
		}
		if _, ok := byID[f.ID]; !ok {
			order = append(order, f.ID)
		}
		byID[f.ID] = f.finding
	}
	out := make([]finding, 0, len(order))
	for _, id := range order {
		out = append(out, byID[id])
	}
	return out
}
