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
	// iface is the link to capture (default the laptop's link to the
	// controller); set by scenarios whose session crosses the side link.
	iface string
}

// zooCases is the zoo: each name is a scripts/zoo/<name>.sh scenario.
var zooCases = []zooCase{
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
	{name: "vnc-websockify", iface: "e-lap2",
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
	{name: "vnc-websockify-laptop",
		host: []want{{"remoteaccess.process.renamed", "vnc", "high"}},
		wire: []want{{"network.behavior.controlled", "", "high"}}},
	// The self-hosted RMM: MeshCentral's server on the controller, the
	// real MeshAgent (renamed, moved, its .msh beside it) dialling out to
	// it on 443; desktop and terminal driven from the web UI.
	{name: "meshcentral",
		host: []want{{"remoteaccess.process.renamed", "meshcentral", "high"}},
		wire: []want{{"network.behavior.controlled", "", "high"}}},
	// Negatives: nothing above low on the wire.
	{name: "vnc-viewer-out", maxWire: "low"},
	{name: "upload", maxWire: "low"},
	{name: "ssh-terminal-echo", maxWire: "low"},
	{name: "video-call-screenshare", maxWire: "low"},
	{name: "streaming", maxWire: "low"},
	{name: "git-push", maxWire: "low"},
	{name: "rdp-shadow",
		host: []want{{"remoteaccess.process.renamed", "rdp", "high"}},
		wire: []want{{"network.rdp.session", "rdp", "high"}}},
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
	env := func(state string) []string {
		// ZOO_RENAME: the laptop's tools run as renamed, moved copies.
		return append(os.Environ(), "ZOO_PREFIX=e", "ZOO_DISPLAY=150", "ZOO_STATE="+state, "ZOO_CACHE="+cache, "ZOO_SECS="+secs, "ZOO_RENAME=1")
	}
	zooRun := func(t *testing.T, state string, timeout time.Duration, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, zoo, args...)
		cmd.Env = env(state)
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
	zooRun(t, t.TempDir(), 20*time.Minute, append([]string{"install"}, names...)...)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			state := t.TempDir()
			t.Cleanup(func() {
				cmd := exec.Command(zoo, "down")
				cmd.Env = env(state)
				_ = cmd.Run()
			})
			zooRun(t, state, 3*time.Minute, "up", c.name)
			iface := c.iface
			if iface == "" {
				iface = "e-lap"
			}
			capture := filepath.Join(state, "session.pcap")
			dump := zooStart(t, "ip", "netns", "exec", "elap", "tcpdump", "-U", "-n", "-s", "0", "-i", iface, "-w", capture)
			live := startLiveAgent(t, iface)
			zooRun(t, state, 5*time.Minute, "session", c.name)

			host := scanNS(t, "elap")
			_ = dump.Process.Signal(syscall.SIGTERM)
			_, _ = dump.Process.Wait()
			liveFindings := live.stop(t)
			wire := pcapFindings(t, capture)

			for _, w := range c.host {
				if !hasWant(host, w, "") {
					t.Errorf("host: no %s (tool %s) ≥ %s; scan found:\n%s", w.rule, w.tool, w.sev, describe(host))
				}
			}
			checkWire(t, "pcap", wire, c)
			checkWire(t, "live agent", liveFindings, c)
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
		})
	}
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

// zooStart starts a helper process for the duration of the test.
func zooStart(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := startProc(t, name, args...)
	time.Sleep(300 * time.Millisecond) // tcpdump opens its socket before the session starts
	return cmd
}

// scanNS runs `scan` inside a namespace and parses its findings.
func scanNS(t *testing.T, ns string) []finding {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, agent(t), "scan", "--format", "json")
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

func startLiveAgent(t *testing.T, iface string) *liveAgent {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "farmwatch.yaml")
	body := "detectors:\n  remoteaccess: {enabled: false}\n  hardware: {enabled: false}\n  tunnel: {enabled: false}\n  context: {enabled: false}\n  lan: {enabled: false}\n" +
		"  traffic:\n    settings: {interfaces: [" + iface + "], report_every: 5s, cpu_budget: 0.5}\nreport:\n  stdout: true\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &liveAgent{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	a.cmd = exec.Command("ip", "netns", "exec", "elap", agent(t), "run", "--config", cfg)
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
