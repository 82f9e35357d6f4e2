// Package remoteaccess detects remote-access, RMM, tunnel and overlay-VPN
// software on a host: running processes identified by name and, for renamed
// or portable copies, by executable identity (Windows PE version info and
// Authenticode signer, macOS bundle and team id, Linux byte markers in the
// binary); installed services, launchd jobs and systemd units; listening
// sockets and established sessions attributed to the tool's processes; and
// command lines that show an active or unattended session.
package remoteaccess

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// Name is the detector's id.
const Name = "remoteaccess"

// Settings are the detector's config keys (detectors.remoteaccess.settings).
type Settings struct {
	// ScanBinaries looks for catalog byte markers inside executables that no
	// package owns (Linux), to identify renamed copies. Default true.
	ScanBinaries bool `yaml:"scan_binaries"`
	// MaxBinaryBytes bounds how much of one executable is read. Default 64 MiB.
	MaxBinaryBytes int64 `yaml:"max_binary_bytes"`
	// IgnoreTools are catalog ids never reported (e.g. "openssh-client").
	IgnoreTools []string `yaml:"ignore_tools"`
}

func init() {
	detect.Register(detect.Registration{
		Name:            Name,
		Description:     "remote-access, RMM, tunnel and overlay-VPN software: processes, identities, services, sockets, sessions",
		DefaultTimeout:  20 * time.Second,
		DefaultInterval: 30 * time.Second,
		NewSettings: func() any {
			return &Settings{ScanBinaries: true, MaxBinaryBytes: 64 << 20}
		},
		New: func(s any) (detect.Detector, error) { return New(*s.(*Settings)) },
	})
}

// Detector is the remote-access software detector.
type Detector struct {
	settings Settings
	ix       *index
	ignore   map[string]bool
	content  *contentCache
	hashes   exeHashes
}

var _ detect.Detector = (*Detector)(nil)

// New builds the detector over the embedded catalog.
func New(s Settings) (*Detector, error) {
	c, err := catalog.Default()
	if err != nil {
		return nil, err
	}
	return NewWithCatalog(s, c)
}

// NewWithCatalog builds the detector over a given catalog (tests).
func NewWithCatalog(s Settings, c *catalog.Catalog) (*Detector, error) {
	ix, err := buildIndex(c)
	if err != nil {
		return nil, fmt.Errorf("index catalog: %w", err)
	}
	if s.MaxBinaryBytes <= 0 {
		s.MaxBinaryBytes = 64 << 20
	}
	d := &Detector{settings: s, ix: ix, ignore: map[string]bool{}, content: newContentCache()}
	for _, t := range s.IgnoreTools {
		d.ignore[strings.ToLower(t)] = true
	}
	return d, nil
}

// hit is one tool identified in one executable (possibly several pids).
type hit struct {
	tool    int
	exe     string
	name    string
	procs   []source.Process
	traits  []string
	renamed bool
	unusual string
	conf    float64
	config  map[string]any // from the tool's configuration file
}

// Detect implements detect.Detector.
func (d *Detector) Detect(ctx context.Context, env detect.Env) ([]report.Finding, error) {
	src := env.Source
	hostOS := src.Host().OS
	procs, err := src.Processes(ctx)
	if err != nil {
		return nil, err
	}
	conns, cerr := src.Connections(ctx)
	if cerr != nil {
		env.Logger.Warn("connections_unavailable", zap.Error(cerr))
	}
	svcs, serr := src.Services(ctx)
	if serr != nil {
		env.Logger.Warn("services_unavailable", zap.Error(serr))
	}

	hits := map[string]*hit{} // tool|exe
	var order []string
	for _, p := range procs {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		tool, traits, renamed, conf := d.identify(ctx, src, hostOS, p)
		if tool < 0 || d.ignore[d.ix.tools[tool].ID] || d.ignore[d.ix.tools[tool].ReportID()] {
			continue
		}
		// One finding per tool, except that a renamed or misplaced copy gets
		// its own (it is a different executable with a different story).
		unusual := unusualLocation(p.Exe)
		key := fmt.Sprint(tool)
		if renamed || unusual != "" {
			key = fmt.Sprintf("%d|%s", tool, p.Exe)
		}
		h := hits[key]
		if h == nil {
			h = &hit{tool: tool, exe: p.Exe, name: p.Name, renamed: renamed, unusual: unusual}
			hits[key] = h
			order = append(order, key)
		}
		h.conf = max(h.conf, conf)
		for _, tr := range traits {
			if !contains(h.traits, tr) {
				h.traits = append(h.traits, tr)
			}
		}
		h.procs = append(h.procs, p)
	}

	for _, key := range order {
		h := hits[key]
		h.config = configEvidence(src, &d.ix.tools[h.tool], h.exe)
	}

	byPID := map[int32][]source.Connection{}
	for _, c := range conns {
		byPID[c.PID] = append(byPID[c.PID], c)
	}
	host := env.Host
	var out []report.Finding
	running := map[int]bool{}
	for _, key := range order {
		h := hits[key]
		running[h.tool] = true
		d.hashProcs(ctx, src, h)
		out = append(out, d.processFindings(host, h, byPID)...)
	}
	out = append(out, d.sshReverseTunnels(host, procs, byPID)...)
	out = append(out, d.serviceFindings(host, hostOS, svcs, running)...)
	if cerr != nil || serr != nil {
		// Findings so far are returned with the error so nothing is lost.
		if cerr != nil {
			return out, cerr
		}
		return out, serr
	}
	return out, nil
}

// identify returns the best catalog tool for a process (-1 when none), the
// traits that matched, whether it runs under a name that is not the tool's,
// and a confidence.
func (d *Detector) identify(ctx context.Context, src source.Source, hostOS string, p source.Process) (int, []string, bool, float64) {
	ix := d.ix
	score := map[int]float64{}
	traits := map[int][]string{}
	nameHit := map[int]bool{}
	addT := func(tools []int, trait string, w float64) {
		for _, t := range tools {
			if w > score[t] {
				score[t] = w
			} else {
				score[t] = min(0.99, score[t]+0.05)
			}
			traits[t] = append(traits[t], trait)
		}
	}
	name := strings.ToLower(p.Name)
	exeBase := strings.ToLower(baseName(p.Exe))
	for _, n := range uniq(name, exeBase) {
		tools := ix.procByOS[hostOS][n]
		if hostOS != "windows" {
			other := map[string]string{"linux": "darwin", "darwin": "linux"}[hostOS]
			tools = append(tools, ix.procByOS[other][n]...)
		}
		if len(tools) > 0 && !genericNames[n] {
			addT(dedupe(tools), "process name "+n, 0.7)
			for _, t := range tools {
				nameHit[t] = true
			}
		}
	}
	idWeight := func(m map[string][]int, v, label string, w float64) {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
			addT(m[v], label+" "+v, w)
		}
	}
	idWeight(ix.origName, p.OriginalFilename, "original filename", 0.9)
	idWeight(ix.product, p.Product, "product name", 0.8)
	idWeight(ix.bundleID, p.BundleID, "bundle id", 0.9)
	if s := strings.ToLower(strings.TrimSpace(p.Signer)); s != "" {
		if platformSigners[s] {
			// Supporting evidence only.
			for _, t := range ix.signer[s] {
				if score[t] > 0 {
					addT([]int{t}, "signer "+s, 0)
				}
			}
		} else {
			addT(ix.signer[s], "signer "+s, 0.85)
		}
	}
	for _, v := range []struct {
		m          map[string][]int
		val, label string
	}{{ix.company, p.Company, "company"}, {ix.teamID, p.TeamID, "team id"}} {
		if s := strings.ToLower(strings.TrimSpace(v.val)); s != "" {
			for _, t := range v.m[s] {
				if score[t] > 0 {
					addT([]int{t}, v.label+" "+s, 0)
				}
			}
		}
	}
	// Install paths only support another trait: LOLRMM paths include
	// directories shared with the OS (C:\Windows\*.exe).
	for t, glob := range ix.pathMatches(p.Exe) {
		if score[t] > 0 {
			addT([]int{t}, "install path "+glob, 0)
		}
	}
	// A generic program name (code, node, java) counts when the tool's own
	// command-line grammar is there: `code tunnel`, `java -jar …`.
	if len(score) == 0 {
		cmd := strings.Join(p.Cmdline, " ")
		for _, n := range uniq(name, exeBase) {
			if !genericNames[n] {
				continue
			}
			for _, t := range ix.procByOS[hostOS][n] {
				for _, re := range ix.sessions[t] {
					if re.MatchString(cmd) {
						addT([]int{t}, "process name "+n+" with the tool's command line", 0.8)
						nameHit[t] = true
						break
					}
				}
			}
		}
	}
	// A generic runtime (node, python, java) is the tool whose program it
	// runs: `node …/node_modules/meshcentral` is the MeshCentral server.
	if len(score) == 0 && len(ix.scripts) > 0 && isRuntime(name, exeBase) {
		if t, arg := ix.scriptMatch(p.Cmdline); t >= 0 {
			n := name
			if n == "" {
				n = exeBase
			}
			addT([]int{t}, fmt.Sprintf("runtime %s runs %s", n, arg), 0.85)
			nameHit[t] = true
		}
	}
	// Content: the Go build info or a byte marker inside an executable no
	// package owns identifies renamed and portable copies. The agent's own
	// process is not read (on a live host): it is tens of MB that only
	// farmwatch itself can be.
	self := !src.Snapshot() && int(p.PID) == os.Getpid()
	if len(score) == 0 && !self && d.settings.ScanBinaries && p.Package == "" && p.Exe != "" && (len(ix.markers) > 0 || len(ix.goModules) > 0) {
		if t, trait := d.content.lookup(ctx, src, p, ix, d.settings.MaxBinaryBytes); t >= 0 {
			addT([]int{t}, trait, 0.85)
		}
	}
	best, bestScore := -1, 0.0
	for t, s := range score {
		// A generic name alone never identifies a tool; ties break on id.
		if s <= 0 {
			continue
		}
		if s > bestScore || (s == bestScore && ix.tools[t].ID < ix.tools[best].ID) {
			best, bestScore = t, s
		}
	}
	if best < 0 {
		return -1, nil, false, 0
	}
	renamed := !nameHit[best] && (name != "" || exeBase != "")
	return best, traits[best], renamed, bestScore
}

func (d *Detector) processFindings(host report.Host, h *hit, byPID map[int32][]source.Connection) []report.Finding {
	t := &d.ix.tools[h.tool]
	var pids []int32
	var users, paths []string
	var listening, inbound, outbound []string
	listenPorts := map[string]bool{}
	for _, p := range h.procs {
		pids = append(pids, p.PID)
		if p.Exe != "" && !contains(paths, p.Exe) {
			paths = append(paths, p.Exe)
		}
		if p.Username != "" && !contains(users, p.Username) {
			users = append(users, p.Username)
		}
		for _, c := range byPID[p.PID] {
			if c.Listening() {
				listening = append(listening, fmt.Sprintf("%s/%s", c.Proto, net.JoinHostPort(c.LAddr, fmt.Sprint(c.LPort))))
				listenPorts[fmt.Sprintf("%s/%d", c.Proto, c.LPort)] = true
			}
		}
	}
	for _, p := range h.procs {
		for _, c := range byPID[p.PID] {
			if !c.Established() {
				continue
			}
			peer := net.JoinHostPort(c.RAddr, fmt.Sprint(c.RPort))
			local := fmt.Sprintf("%s/%d", c.Proto, c.LPort)
			if listenPorts[local] || (contains(t.ListenPorts, local) && !contains(t.OutboundPorts, fmt.Sprintf("%s/%d", c.Proto, c.RPort))) {
				inbound = append(inbound, fmt.Sprintf("%s from %s", local, peer))
			} else {
				outbound = append(outbound, fmt.Sprintf("%s to %s", c.Proto, peer))
			}
		}
	}
	first := h.procs[0]
	ev := map[string]any{
		"product":    t.Name,
		"catalog_id": t.ID,
		"pids":       pids,
		"name":       first.Name,
		"path":       h.exe,
		"cmdline":    first.Cmdline,
		"matched":    h.traits,
	}
	setIf(ev, "users", users)
	if len(paths) > 1 {
		ev["paths"] = paths
	}
	setIf(ev, "signer", first.Signer)
	sig, reason := signatureOf(h.procs)
	setIf(ev, report.EvSignature, sig)
	setIf(ev, report.EvSignatureReason, reason)
	setIf(ev, report.EvExeSHA256, sameSHA256(h.procs))
	setIf(ev, "company", first.Company)
	setIf(ev, "original_filename", first.OriginalFilename)
	setIf(ev, "bundle_id", first.BundleID)
	setIf(ev, "team_id", first.TeamID)
	setIf(ev, "package", first.Package)
	setIf(ev, "listening", listening)
	setIf(ev, report.EvInboundConnections, inbound)
	setIf(ev, report.EvOutboundConnections, outbound)
	if h.renamed {
		ev["renamed"] = true
	}
	setIf(ev, "unusual_location", h.unusual)
	for k, v := range h.config {
		ev[k] = v
	}

	cat := report.Category(t.Category)
	subject := t.ID
	if h.renamed || h.unusual != "" {
		subject = h.exe + "|" + h.name
	}
	f := report.Finding{
		Rule:       "remoteaccess.process.running",
		Category:   cat,
		Tool:       t.ReportID(),
		Severity:   report.SeverityMedium,
		Confidence: round2(h.conf),
		Evidence:   ev,
	}
	what := fmt.Sprintf("%s is running as %s (pid %d)", t.Name, displayName(first), first.PID)
	if len(h.procs) > 1 {
		what = fmt.Sprintf("%s is running: %d processes, first %s (pid %d)", t.Name, len(h.procs), displayName(first), first.PID)
	}
	switch {
	case t.Role == catalog.RoleViewer && cat == report.CategoryRemoteAccess:
		f.Rule = "remoteaccess.viewer.running"
		f.Severity = report.SeverityLow
		what = fmt.Sprintf("%s (a client for controlling other machines) is running as %s (pid %d)", t.Name, displayName(first), first.PID)
	case h.renamed || h.unusual != "":
		f.Rule = "remoteaccess.process.renamed"
		f.Severity = report.SeverityHigh
		why := "under a name that is not its own"
		if !h.renamed {
			why = "from " + h.unusual
		}
		what = fmt.Sprintf("%s is running %s: %s (pid %d), identified by %s", t.Name, why, displayName(first), first.PID, h.traits[0])
	}
	if len(listening) > 0 && f.Rule == "remoteaccess.process.running" {
		what += ", listening on " + strings.Join(listening, ", ")
	}
	f.Summary = what
	f.ID = report.StableID(host.ID, f.Rule, f.Tool, subject)
	out := []report.Finding{f}

	// Sessions: an established connection to the tool's own listening
	// socket, or a command line that shows one.
	var sessionWhy []string
	inboundSession := len(inbound) > 0 && t.Role != catalog.RoleViewer
	if inboundSession {
		sessionWhy = append(sessionWhy, "inbound connection "+inbound[0])
	}
	setup := ""
	captured := map[string]any{}
	for _, p := range h.procs {
		cmd := strings.Join(p.Cmdline, " ")
		for i, re := range d.ix.sessions[h.tool] {
			if m := re.FindStringSubmatch(cmd); m != nil {
				// Named groups (?P<relay>...) become evidence.
				for gi, name := range re.SubexpNames() {
					if name != "" && m[gi] != "" {
						captured[name] = m[gi]
					}
				}
				captured["cmdline"] = p.Cmdline
				captured["session_pid"] = p.PID
				sp := t.Sessions[i]
				if sp.Inbound {
					inboundSession = true
					sessionWhy = append(sessionWhy, sp.Meaning+" (command line)")
				} else if setup == "" {
					setup = sp.Meaning
				}
			}
		}
	}
	if inboundSession {
		sev := report.SeverityHigh
		s := report.Finding{
			Rule: "remoteaccess.session.inbound", Category: cat, Tool: t.ReportID(), Severity: sev,
			Confidence: round2(max(h.conf, 0.8)), Evidence: copyEvidence(copyEvidence(ev, captured), map[string]any{"session": sessionWhy}),
			Summary: fmt.Sprintf("Someone is controlling this host through %s: %s", t.Name, strings.Join(uniqStrings(sessionWhy), "; ")),
		}
		s.ID = report.StableID(host.ID, s.Rule, s.Tool, subject)
		out = append(out, s)
	}
	if setup != "" {
		s := report.Finding{
			Rule: "remoteaccess.session.setup", Category: cat, Tool: t.ReportID(), Severity: report.SeverityHigh,
			Confidence: round2(max(h.conf, 0.8)), Evidence: copyEvidence(copyEvidence(ev, captured), map[string]any{"setup": setup}),
			Summary: fmt.Sprintf("%s was started to %s", t.Name, setup),
		}
		s.ID = report.StableID(host.ID, s.Rule, s.Tool, subject)
		out = append(out, s)
	}
	return out
}

// sshReverseTunnels reports OpenSSH clients started with -R (or
// RemoteForward): the far end can reach services of this host, the classic
// way to expose a VNC/RDP server of a farm laptop.
func (d *Detector) sshReverseTunnels(host report.Host, procs []source.Process, byPID map[int32][]source.Connection) []report.Finding {
	var out []report.Finding
	for _, p := range procs {
		n := strings.ToLower(p.Name)
		if n != "ssh" && n != "ssh.exe" && n != "autossh" && n != "autossh.exe" {
			continue
		}
		forwards := reverseForwards(p.Cmdline)
		if len(forwards) == 0 || d.ignore["ssh"] {
			continue
		}
		var peers []string
		for _, c := range byPID[p.PID] {
			if c.Established() {
				peers = append(peers, net.JoinHostPort(c.RAddr, fmt.Sprint(c.RPort)))
			}
		}
		ev := map[string]any{"pids": []int32{p.PID}, "name": p.Name, "path": p.Exe, "cmdline": p.Cmdline, "remote_forwards": forwards}
		setIf(ev, "users", nonEmpty(p.Username))
		setIf(ev, report.EvConnectedTo, peers)
		f := report.Finding{
			Rule: "remoteaccess.ssh.reverse_tunnel", Category: report.CategoryRemoteAccess, Tool: "ssh",
			Severity: report.SeverityHigh, Confidence: 0.9, Evidence: ev,
			Summary: fmt.Sprintf("SSH reverse tunnel (pid %d) exposes this host to the remote side: -R %s", p.PID, strings.Join(forwards, ", ")),
		}
		f.ID = report.StableID(host.ID, f.Rule, f.Tool, strings.Join(forwards, ",")+"|"+p.Exe)
		out = append(out, f)
	}
	return out
}

// reverseForwards extracts -R specifications (and -o RemoteForward=...) from
// an ssh command line, including combined flags like -NR.
func reverseForwards(args []string) []string {
	var out []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return out
		case strings.HasPrefix(a, "-o"):
			opt := strings.TrimPrefix(a, "-o")
			if opt == "" && i+1 < len(args) {
				i++
				opt = args[i]
			}
			k, v, _ := strings.Cut(strings.ReplaceAll(opt, " ", "="), "=")
			if strings.EqualFold(k, "RemoteForward") {
				out = append(out, v)
			}
		case strings.HasPrefix(a, "-") && len(a) > 1 && !strings.HasPrefix(a, "--"):
			flags := a[1:]
			for j := 0; j < len(flags); j++ {
				c := flags[j]
				if strings.IndexByte("BbcDEeFIiJLlmOopQRSWw", c) < 0 {
					continue // boolean flag
				}
				val := flags[j+1:]
				if val == "" && i+1 < len(args) {
					i++
					val = args[i]
				}
				if c == 'R' {
					out = append(out, val)
				}
				break
			}
		default:
			// First non-flag is the destination; later ones are the command.
			return out
		}
	}
	return out
}

// serviceFindings reports installed services of tools with no running
// process (low), or reported running by the service manager (medium).
func (d *Detector) serviceFindings(host report.Host, hostOS string, svcs []source.Service, running map[int]bool) []report.Finding {
	var out []report.Finding
	seen := map[string]bool{}
	for _, s := range svcs {
		tools := d.ix.serviceMatches(s.Name)
		if len(tools) == 0 && s.Path != "" {
			base := strings.ToLower(baseName(s.Path))
			if !genericNames[base] {
				tools = append(tools, d.ix.procByOS[hostOS][base]...)
			}
		}
		tools = dedupe(tools)
		sort.Ints(tools)
		for _, ti := range tools {
			t := &d.ix.tools[ti]
			if running[ti] || d.ignore[t.ID] || d.ignore[t.ReportID()] || t.Role == catalog.RoleViewer {
				continue
			}
			key := t.ID + "|" + s.Name
			if seen[key] {
				continue
			}
			seen[key] = true
			ev := map[string]any{"product": t.Name, "catalog_id": t.ID, "service": s.Name, "path": s.Path, "state": s.State, "start_type": s.StartType, "kind": s.Kind}
			setIf(ev, "display_name", s.DisplayName)
			setIf(ev, "signer", s.Signer)
			setIf(ev, report.EvSignature, s.Signature)
			setIf(ev, report.EvSignatureReason, s.SignatureReason)
			f := report.Finding{
				Rule: "remoteaccess.service.installed", Category: report.Category(t.Category), Tool: t.ReportID(),
				Severity: report.SeverityLow, Confidence: 0.8, Evidence: ev,
				Summary: fmt.Sprintf("%s is installed as %s %q (%s, start %s) but not running", t.Name, kindLabel(s.Kind), s.Name, s.State, s.StartType),
			}
			if s.State == source.StateRunning {
				f.Rule, f.Severity = "remoteaccess.service.running", report.SeverityMedium
				f.Summary = fmt.Sprintf("%s runs as %s %q (start %s)", t.Name, kindLabel(s.Kind), s.Name, s.StartType)
			}
			if s.StartType == "disabled" {
				f.Severity = report.SeverityInfo
			}
			f.ID = report.StableID(host.ID, "remoteaccess.service", f.Tool, s.Name)
			if f.Rule == "remoteaccess.service.installed" && f.Severity == report.SeverityLow {
				f.ID = report.StableID(host.ID, "remoteaccess.service", f.Tool, "installed:"+t.ID)
			}
			out = append(out, f)
		}
	}
	return mergeInstalled(out)
}

// mergeInstalled folds several installed-not-running services of one tool
// (openvpn@.service, openvpn-client@.service, …) into one finding.
func mergeInstalled(fs []report.Finding) []report.Finding {
	var out []report.Finding
	byTool := map[string]int{}
	for _, f := range fs {
		if f.Rule != "remoteaccess.service.installed" || f.Severity != report.SeverityLow {
			out = append(out, f)
			continue
		}
		id, _ := f.Evidence["catalog_id"].(string)
		i, ok := byTool[id]
		if !ok {
			byTool[id] = len(out)
			out = append(out, f)
			continue
		}
		m := &out[i]
		names, _ := m.Evidence["services"].([]string)
		if names == nil {
			names = []string{m.Evidence["service"].(string)}
		}
		names = append(names, f.Evidence["service"].(string))
		m.Evidence["services"] = names
		product, _ := m.Evidence["product"].(string)
		m.Summary = fmt.Sprintf("%s is installed (%d services: %s) but not running", product, len(names), strings.Join(names, ", "))
	}
	return out
}

func kindLabel(k string) string {
	switch k {
	case "windows-service":
		return "Windows service"
	case "launchd-daemon":
		return "launchd daemon"
	case "launchd-agent":
		return "launchd agent"
	case "systemd-unit":
		return "systemd unit"
	case "sysv":
		return "init script"
	}
	return "service"
}

// unusualLocation names a temporary or user-writable download location an
// exe runs from, where installed software does not live.
func unusualLocation(exe string) string {
	p := normPath(exe)
	for _, pre := range []string{"/tmp/", "/var/tmp/", "/dev/shm/", "/private/tmp/", "/private/var/folders/"} {
		if strings.HasPrefix(p, pre) {
			return strings.TrimSuffix(pre, "/")
		}
	}
	for _, sub := range []string{"/appdata/local/temp/", "/downloads/", "/users/public/", "/windows/temp/", "/$recycle.bin/"} {
		if strings.Contains(p, sub) {
			return strings.Trim(sub, "/")
		}
	}
	return ""
}

func displayName(p source.Process) string {
	if p.Exe != "" {
		return p.Exe
	}
	return p.Name
}

func baseName(p string) string {
	if p == "" {
		return ""
	}
	return filepath.Base(strings.ReplaceAll(p, `\`, "/"))
}

func setIf(m map[string]any, k string, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
	case []string:
		if len(x) == 0 {
			return
		}
	}
	m[k] = v
}

func copyEvidence(base map[string]any, extra map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func uniq(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if x != "" && !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func uniqStrings(xs []string) []string { return uniq(xs...) }

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func dedupe(xs []int) []int {
	seen := map[int]bool{}
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
