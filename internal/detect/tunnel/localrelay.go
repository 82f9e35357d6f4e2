package tunnel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// ruleLocalRelay is the rule for a relay or tunnel client that carries an
// outside endpoint to one of this host's own remote-control listeners: the
// host side of a session controlled through a tunnel.
const ruleLocalRelay = "tunnel.relay.to_local_listener"

// maxListed bounds the lists a finding carries.
const maxListed = 50

// conventionService names the remote-control service conventionally served
// on a TCP port ("" for other ports). NoMachine's 4000 is left to the
// catalog (nxd): development servers use it too.
func conventionService(port uint32) string {
	switch {
	case port == 22:
		return "ssh"
	case port == 3389:
		return "rdp"
	case port == 5938:
		return "teamviewer"
	case port >= 5900 && port <= 5999:
		return "vnc"
	case port == 3283:
		return "apple-remote-desktop"
	case port == 7070:
		return "anydesk"
	case port == 4899:
		return "radmin"
	case port == 5631:
		return "pcanywhere"
	case port == 6129:
		return "dameware"
	case port == 21118:
		return "rustdesk"
	}
	return ""
}

var (
	remoteToolsOnce sync.Once
	remoteTools     map[string]*catalog.Tool
)

// remoteToolIndex maps lowercase program names (without ".exe") to the
// remote-access tools of the embedded catalog that the remoteaccess
// detector also uses. An unreadable catalog leaves the index empty: the
// port conventions still apply.
func remoteToolIndex() map[string]*catalog.Tool {
	remoteToolsOnce.Do(func() {
		idx := map[string]*catalog.Tool{}
		c, err := catalog.Default()
		if err == nil && c != nil {
			for i := range c.Tools {
				t := &c.Tools[i]
				if t.Category != "remote-access" {
					continue
				}
				for _, ns := range t.Processes {
					for _, n := range ns {
						n = strings.TrimSuffix(strings.ToLower(n), ".exe")
						if _, dup := idx[n]; n != "" && !dup {
							idx[n] = t
						}
					}
				}
			}
		}
		remoteTools = idx
	})
	return remoteTools
}

// catalogTool returns the catalog remote-access tool a process's name or
// executable names, or nil.
func catalogTool(p source.Process) *catalog.Tool {
	idx := remoteToolIndex()
	for _, n := range procNames(p.Name, p.Exe) {
		if t := idx[n]; t != nil {
			return t
		}
	}
	return nil
}

// forwarderNames are programs whose listening sockets forward elsewhere (an
// ssh -L forward, a socat or kubectl port-forward, cloudflared access, a
// chisel client's local end): a connection to them reaches another host's
// service, not one of this host's.
var forwarderNames = map[string]bool{
	"ssh": true, "autossh": true, "plink": true, "dbclient": true, "kubectl": true,
	"socat": true, "ncat": true, "nc": true, "netcat": true, "cloudflared": true, "chisel": true,
}

// listenerService says whether a TCP listener on port owned by q is a
// remote-control service, and which: any listener of a catalog
// remote-access tool that serves the host side (x11vnc on a port of its
// choosing), or a conventional remote-control port. A viewer waiting for
// reverse connections (vncviewer -listen) serves the other side: this host
// would be the one controlling.
func listenerService(q source.Process, port uint32) (service, tool string, ok bool) {
	for _, n := range procNames(q.Name, q.Exe) {
		if forwarderNames[n] {
			return "", "", false
		}
	}
	if t := catalogTool(q); t != nil && (t.Role == catalog.RoleHost || t.Role == catalog.RoleBoth) && !viewerProcess(q) {
		return t.ReportID(), t.ID, true
	}
	if s := conventionService(port); s != "" {
		return s, "", true
	}
	return "", "", false
}

// viewerProcess reports a remote-control client program (a viewer or
// player), which the catalog may list under a tool that also has a server.
func viewerProcess(q source.Process) bool {
	for _, n := range procNames(q.Name, q.Exe) {
		if strings.Contains(n, "viewer") || strings.Contains(n, "player") || n == "mstsc" || n == "remmina" {
			return true
		}
	}
	return false
}

// normAddr is an address in canonical form (IPv4-mapped IPv6 unmapped, no
// brackets or zone); unparsable input comes back lowercased.
func normAddr(a string) string {
	a = strings.Trim(strings.TrimSpace(a), "[]")
	if ad, err := netip.ParseAddr(a); err == nil {
		return ad.Unmap().WithZone("").String()
	}
	return strings.ToLower(a)
}

func unspecified(a string) bool {
	switch normAddr(a) {
	case "", "*", "0.0.0.0", "::":
		return true
	}
	return false
}

// localAddrs are this host's own addresses: every bound address in the
// socket table and every interface address.
type localAddrs map[string]bool

func newLocalAddrs(conns []source.Connection, ifs []Interface) localAddrs {
	own := localAddrs{}
	for _, c := range conns {
		if !unspecified(c.LAddr) {
			own[normAddr(c.LAddr)] = true
		}
	}
	for _, ifc := range ifs {
		for _, a := range ifc.Addresses {
			if p, err := netip.ParsePrefix(a); err == nil {
				own[p.Addr().Unmap().WithZone("").String()] = true
			} else if !unspecified(a) {
				own[normAddr(a)] = true
			}
		}
	}
	return own
}

// local reports whether a names this host: loopback or one of its own
// addresses.
func (own localAddrs) local(a string) bool {
	return loopback(a) || (!unspecified(a) && own[normAddr(a)])
}

// hostLocal is local for a configured target's host, where "localhost",
// an empty host and the unspecified address also mean this host.
func (own localAddrs) hostLocal(h string) bool {
	return h == "" || unspecified(h) || strings.EqualFold(h, "localhost") || own.local(h)
}

// sameProgram reports whether two processes run the same program.
func sameProgram(a, b source.Process) bool {
	if a.Exe != "" && b.Exe != "" {
		return a.Exe == b.Exe
	}
	return a.Name != "" && a.Name == b.Name
}

// genericDirs are directories shared by unrelated programs: two programs
// installed there are not one product.
var genericDirs = map[string]bool{
	"/bin": true, "/sbin": true, "/usr/bin": true, "/usr/sbin": true, "/usr/local/bin": true,
	"/usr/local/sbin": true, "/usr/libexec": true, "/usr/lib/openssh": true, "/opt/homebrew/bin": true,
	"c:/windows/system32": true, "c:/windows/syswow64": true, "c:/windows": true, "/tmp": true,
	"/system/library/coreservices": true, "/usr/lib": true,
}

// sameProduct reports whether p and q belong to one product, whose parts
// talk over loopback (a remote tool's GUI and its service): the same
// catalog tool, or the same non-generic installation directory.
func sameProduct(p, q source.Process) bool {
	if tp, tq := catalogTool(p), catalogTool(q); tp != nil && tq != nil && tp.ID == tq.ID {
		return true
	}
	dp, dq := normDir(p.Exe), normDir(q.Exe)
	return dp != "" && dp == dq && !genericDirs[dp]
}

func normDir(exe string) string {
	if exe == "" {
		return ""
	}
	e := strings.ToLower(strings.ReplaceAll(exe, `\`, "/"))
	if i := strings.LastIndexByte(e, '/'); i > 0 {
		return e[:i]
	}
	return ""
}

// relayProgram names a relay process's tool (socat, ssh, ngrok, frp, …;
// "unknown" for a program nobody listed) and whether it is a tunnel
// client.
func relayProgram(p source.Process, names []string) (tool string, tunnelClient bool) {
	if t, ok := parseTunnelClient(names, p.Cmdline); ok {
		return t.tool, true
	}
	for _, n := range names {
		switch n {
		case "socat":
			return "socat", false
		case "ncat", "nc", "netcat", "nc.traditional", "nc.openbsd":
			return "ncat", false
		case "ssh", "autossh", "plink", "dbclient", "sshd", "sshd-session":
			return "ssh", false
		case "xray", "v2ray":
			return n, true
		case "ngrok", "cloudflared", "frpc", "chisel", "bore", "zrok":
			if n == "frpc" {
				return "frp", true
			}
			return n, true
		}
		if t, ok := proxyServers[n]; ok {
			return t, false
		}
	}
	if t := catalogTool(p); t != nil {
		return t.ReportID(), false
	}
	return "unknown", false
}

// localRelay is one relay process group carrying outside endpoints to one
// local remote-control listener.
type localRelay struct {
	p          source.Process
	pids       []int32
	port       uint32
	service    string
	q          *source.Process
	qTool      string
	qPIDs      []int32
	acceptedBy []string
	listener   string
	local      []string
	outside    []string
	directions []string
	configured []string
	configs    []string
}

// localRelayFindings reports, name-independently, processes that hold a
// connection to one of this host's remote-control listeners (owned by
// another program) while they, or their same-program parent or children,
// hold connections to other hosts; and tunnel clients whose command line
// or configuration forwards to such a listener even with no session live.
func localRelayFindings(in input, v *procView, own localAddrs) []report.Finding {
	procs := make(map[int32]source.Process, len(in.procs))
	for _, p := range in.procs {
		procs[p.PID] = p
	}
	type lrec struct {
		pid  int32
		addr string
	}
	listeners := map[uint32][]lrec{}
	for _, c := range in.conns {
		if c.Proto == "tcp" && c.Listening() {
			listeners[c.LPort] = append(listeners[c.LPort], lrec{c.PID, normAddr(c.LAddr)})
		}
	}
	listenerAt := func(addr string, port uint32) (lrec, bool) {
		for _, l := range listeners[port] {
			if unspecified(l.addr) || l.addr == normAddr(addr) {
				return l, true
			}
		}
		return lrec{}, false
	}
	// family is p with its same-program parent and children: forking
	// relays (socat fork, sshd sessions) split one relay over them.
	family := func(p source.Process) []source.Process {
		fam := []source.Process{p}
		if par, ok := procs[p.PPID]; ok && par.PID != p.PID && sameProgram(par, p) {
			fam = append(fam, par)
		}
		for _, ch := range v.children[p.PID] {
			if sameProgram(ch, p) {
				fam = append(fam, ch)
			}
		}
		return fam
	}
	groups := map[string]*localRelay{}
	var order []string
	get := func(p source.Process, port uint32) *localRelay {
		key := nonEmpty(p.Exe, p.Name) + "|" + fmt.Sprint(port)
		g := groups[key]
		if g == nil {
			g = &localRelay{p: p, port: port}
			groups[key] = g
			order = append(order, key)
		}
		if !containsPID(g.pids, p.PID) {
			g.pids = append(g.pids, p.PID)
		}
		return g
	}
	setListener := func(g *localRelay, q source.Process, addr string) {
		if g.q == nil {
			qq := q
			g.q = &qq
			g.listener = sockStr("tcp", addr, g.port)
		}
		if !containsPID(g.qPIDs, q.PID) {
			g.qPIDs = append(g.qPIDs, q.PID)
		}
	}

	// Live: P → local listener of Q, and P's family → another host.
	for _, c := range in.conns {
		if c.Proto != "tcp" || !c.Established() || !own.local(c.RAddr) {
			continue
		}
		l, ok := listenerAt(c.RAddr, c.RPort)
		if !ok || l.pid == c.PID {
			continue
		}
		p, pok := procs[c.PID]
		q, qok := procs[l.pid]
		if !pok || !qok {
			continue
		}
		svc, qTool, ok := listenerService(q, c.RPort)
		if !ok {
			continue
		}
		// The process that accepted this connection on Q's side.
		acceptor := q
		for _, d := range in.conns {
			if d.Proto == "tcp" && d.Established() && d.PID != c.PID && d.LPort == c.RPort && d.RPort == c.LPort &&
				normAddr(d.LAddr) == normAddr(c.RAddr) && normAddr(d.RAddr) == normAddr(c.LAddr) {
				if a, ok := procs[d.PID]; ok {
					acceptor = a
				}
				break
			}
		}
		if sameProgram(p, q) || sameProgram(p, acceptor) || sameProduct(p, q) || sameProduct(p, acceptor) {
			continue
		}
		fam := family(p)
		listenPorts := map[uint32]bool{}
		for _, m := range fam {
			for _, d := range v.byPID[m.PID] {
				if d.Proto == "tcp" && d.Listening() {
					listenPorts[d.LPort] = true
				}
			}
		}
		var outside, dirs []string
		for _, m := range fam {
			for _, d := range v.byPID[m.PID] {
				connected := d.Established() || (d.Proto == "udp" && d.RPort != 0 && !unspecified(d.RAddr))
				if !connected || own.local(d.RAddr) || unspecified(d.RAddr) {
					continue
				}
				ep := d.Proto + "/" + net.JoinHostPort(normAddr(d.RAddr), fmt.Sprint(d.RPort))
				dir := "outbound"
				if d.Proto == "tcp" && listenPorts[d.LPort] {
					dir = "inbound"
				}
				outside = appendUniq(outside, ep+" ("+dir+")")
				dirs = appendUniq(dirs, dir)
			}
		}
		if len(outside) == 0 {
			continue
		}
		g := get(p, c.RPort)
		g.service = svc
		g.qTool = nonEmpty(g.qTool, qTool)
		setListener(g, q, l.addr)
		if acceptor.PID != q.PID {
			setListener(g, acceptor, l.addr)
			g.acceptedBy = appendUniq(g.acceptedBy, fmt.Sprintf("%s (pid %d)", acceptor.Name, acceptor.PID))
		}
		g.local = appendUniq(g.local, fmt.Sprintf("%s → %s", net.JoinHostPort(normAddr(c.LAddr), fmt.Sprint(c.LPort)),
			net.JoinHostPort(normAddr(c.RAddr), fmt.Sprint(c.RPort))))
		for _, o := range outside {
			g.outside = appendUniq(g.outside, o)
		}
		for _, d := range dirs {
			g.directions = appendUniq(g.directions, d)
		}
	}

	// Configured: a tunnel client or relay whose command line or
	// configuration names a local remote-control target.
	readCfg := func(path string) []byte {
		if in.snapshot || path == "" || !isAbsAnyOS(path) {
			return nil
		}
		b, err := readFileLimited(hostFile(in.root, path))
		if err != nil {
			return nil
		}
		return b
	}
	for _, p := range in.procs {
		names := procNames(p.Name, p.Exe)
		for _, t := range configuredTargets(p, names, readCfg) {
			if !own.hostLocal(t.host) {
				continue
			}
			var q *source.Process
			var qAddr string
			if l, ok := listenerAt(nonEmpty(t.host, "127.0.0.1"), t.port); ok || len(listeners[t.port]) > 0 {
				if !ok {
					l = listeners[t.port][0]
				}
				if qq, ok := procs[l.pid]; ok && !sameProgram(qq, p) {
					q, qAddr = &qq, l.addr
				}
			}
			svc, qTool := conventionService(t.port), ""
			if q != nil {
				s, tt, ok := listenerService(*q, t.port)
				if !ok {
					continue // a listener that is not a remote-control service
				}
				svc, qTool = s, tt
			}
			if svc == "" {
				continue
			}
			g := get(p, t.port)
			g.service = nonEmpty(g.service, svc)
			g.qTool = nonEmpty(g.qTool, qTool)
			if q != nil {
				setListener(g, *q, qAddr)
			}
			g.configured = appendUniq(g.configured, t.spec)
			if t.config != "" {
				g.configs = appendUniq(g.configs, t.config)
			}
		}
	}

	var out []report.Finding
	for _, key := range order {
		g := groups[key]
		out = append(out, g.finding(in, key))
	}
	return out
}

func (g *localRelay) finding(in input, key string) report.Finding {
	p := g.p
	names := procNames(p.Name, p.Exe)
	tool, client := relayProgram(p, names)
	sort.Slice(g.pids, func(i, j int) bool { return g.pids[i] < g.pids[j] })
	ev := map[string]any{"pids": g.pids, "name": p.Name, "path": p.Exe, "cmdline": redactArgs(p.Cmdline),
		"service": g.service, "listener_port": g.port}
	if p.Username != "" {
		ev["users"] = []string{p.Username}
	}
	if in.hash != nil {
		if h := in.hash(p); h != "" {
			ev["exe_sha256"] = h
		}
	}
	if g.q != nil {
		ev["listener"] = g.listener
		ev["listener_pids"] = g.qPIDs
		ev["listener_name"] = g.q.Name
		ev["listener_path"] = g.q.Exe
		if len(g.acceptedBy) > 0 {
			ev["accepted_by"] = capList(g.acceptedBy)
		}
	}
	if g.qTool != "" {
		ev["listener_tool"] = g.qTool
	}
	observed := "configured"
	conf := 0.8
	if len(g.outside) > 0 {
		observed, conf = "live", 0.9
		sort.Strings(g.local)
		sort.Strings(g.outside)
		sort.Strings(g.directions)
		ev["local_connections"] = capList(g.local)
		ev["outside_endpoints"] = capList(g.outside)
		ev[report.EvDirection] = strings.Join(g.directions, "+")
	}
	if len(g.configured) > 0 {
		ev["configured_targets"] = capList(g.configured)
		if len(g.configs) > 0 {
			ev["config"] = capList(g.configs)
		}
		if observed == "live" {
			observed, conf = "live+configured", 0.95
		}
	}
	ev["observed"] = observed
	cat := report.CategoryRelay
	if client {
		cat = report.CategoryTunnel
	}
	svcName := strings.ToUpper(g.service)
	if len(svcName) > 5 {
		svcName = g.service
	}
	var sum string
	qDesc := fmt.Sprintf("port %d (nothing listens there now)", g.port)
	if g.q != nil {
		qDesc = fmt.Sprintf("%s (%s, pid %d)", g.listener, g.q.Name, g.q.PID)
	}
	switch observed {
	case "configured":
		sum = fmt.Sprintf("%s (pid %d) is set up to forward an outside endpoint to this host's %s listener %s: %s",
			p.Name, p.PID, svcName, qDesc, strings.Join(g.configured, ", "))
	default:
		sum = fmt.Sprintf("%s (pid %d) relays %s to this host's %s listener %s: the host is controlled through a relay",
			p.Name, p.PID, strings.Join(capN(g.outside, 3), ", "), svcName, qDesc)
	}
	f := report.Finding{
		Rule: ruleLocalRelay, Category: cat, Tool: tool, Severity: report.SeverityHigh, Confidence: conf,
		Evidence: ev, Summary: sum,
	}
	f.ID = report.StableID(in.hostID, f.Rule, f.Tool, key)
	return f
}

// cfgTarget is a local target named by a command line or configuration.
type cfgTarget struct {
	spec   string // as written, prefixed with where ("--url tcp://localhost:3389")
	config string // the configuration file, when read from one
	host   string
	port   uint32
}

// configuredTargets lists the targets on this host that p's command line,
// or a configuration file it names (read through readCfg; nil when not
// readable), forwards outside traffic to. ssh -R is left to the
// remoteaccess detector (remoteaccess.ssh.reverse_tunnel), cloudflared
// access (this host as the client) is not a target.
func configuredTargets(p source.Process, names []string, readCfg func(string) []byte) []cfgTarget {
	var out []cfgTarget
	add := func(spec, from, config string, defHost string) {
		h, port, ok := parseTarget(spec)
		if !ok || len(out) >= maxListed {
			return
		}
		if h == "" {
			h = defHost
		}
		s := strings.TrimSpace(from + " " + spec)
		for _, o := range out {
			if o.spec == s {
				return
			}
		}
		out = append(out, cfgTarget{spec: s, config: config, host: h, port: port})
	}
	fromConfig := func(path string, keys ...string) {
		if b := readCfg(path); b != nil {
			for _, v := range yamlValues(b, keys...) {
				add(v, "config", path, "")
			}
		}
	}
	if t, ok := parseTunnelClient(names, p.Cmdline); ok {
		switch t.tool {
		case "cloudflared":
			if strings.HasPrefix(t.mode, "access") {
				break
			}
			if t.local != "" {
				add(t.local, "--url", "", "")
			}
			fromConfig(t.config, "service", "url")
		case "ngrok":
			if t.local != "" {
				add(t.local, t.mode, "", "")
			}
			fromConfig(t.config, "addr", "url")
		case "frp":
			if t.local != "" {
				add(t.local, "command line", "", "")
			}
			if b := readCfg(t.config); b != nil {
				_, _, locals := frpConfig(b)
				for _, l := range locals {
					add(l, "local", t.config, "")
				}
			}
		case "chisel":
			for _, r := range t.remotes {
				if spec, ok := chiselReverseTarget(r); ok {
					add(spec, r+" →", "", "")
				}
			}
		case "bore":
			add(t.local, "local", "", nonEmpty(flagValue(p.Cmdline, "--local-host", "-l"), "localhost"))
		case "zrok":
			add(t.local, t.mode, "", "")
		case "vscode-tunnel":
			for _, port := range strings.FieldsFunc(t.local, func(r rune) bool { return r == ',' || r == ' ' }) {
				add(port, "devtunnel host -p", "", "")
			}
		}
	}
	if contains(names, "xray") || contains(names, "v2ray") {
		cfg := flagValue(p.Cmdline, "-c", "-config", "--config")
		if b := readCfg(cfg); b != nil {
			for _, r := range xrayBridgeTargets(b) {
				add(r, "reverse bridge redirect", cfg, "")
			}
		}
	}
	if contains(names, "socat") && len(p.Cmdline) >= 3 {
		a, b := p.Cmdline[len(p.Cmdline)-2], p.Cmdline[len(p.Cmdline)-1]
		for _, pair := range [][2]string{{a, b}, {b, a}} {
			if spec, ok := socatConnectTarget(pair[0]); ok && socatTargetKind(pair[1]) == "network" {
				if other, ok := socatConnectTarget(pair[1]); ok && other == spec {
					continue
				}
				add(spec, pair[0]+" ↔ "+pair[1]+":", "", "")
			}
		}
	}
	return out
}

// parseTarget reads a forwarding target: "3389", "localhost:5900",
// "tcp://127.0.0.1:3389", "rdp://localhost" (the scheme's port),
// "[::1]:22", "http://user@host:8080/path".
func parseTarget(spec string) (host string, port uint32, ok bool) {
	s := strings.TrimSpace(spec)
	scheme := ""
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, s = strings.ToLower(s[:i]), s[i+3:]
	}
	s, _, _ = strings.Cut(s, "/")
	if strings.HasPrefix(strings.ToLower(s), "http_status:") {
		return "", 0, false // cloudflared's built-in status service
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return "", 0, false
	}
	ps := ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, ps = h, p
	} else if _, err := strconv.ParseUint(s, 10, 16); err == nil {
		ps = s
	} else {
		host = strings.Trim(s, "[]")
		ps = map[string]string{"rdp": "3389", "ssh": "22", "vnc": "5900", "http": "80", "https": "443"}[scheme]
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || n == 0 {
		return "", 0, false
	}
	return host, uint32(n), true
}

// chiselReverseTarget reads the local end of a chisel reverse remote
// ("R:2222:localhost:22", "R:0.0.0.0:2222:127.0.0.1:5900", "R:5900"):
// the server listens and forwards to that target on this host. Forward
// remotes (no "R:") and reverse SOCKS are not targets here.
func chiselReverseTarget(r string) (string, bool) {
	rest, ok := strings.CutPrefix(r, "R:")
	if !ok || strings.Contains(strings.ToLower(rest), "socks") || strings.HasSuffix(rest, "/udp") {
		return "", false
	}
	rest = strings.TrimSuffix(rest, "/tcp")
	f := strings.Split(rest, ":")
	last := f[len(f)-1]
	if n, err := strconv.ParseUint(last, 10, 16); err != nil || n == 0 {
		return "", false
	}
	host := "localhost"
	if len(f) >= 2 {
		if _, err := strconv.ParseUint(f[len(f)-2], 10, 16); err != nil && f[len(f)-2] != "" {
			host = f[len(f)-2]
		}
	}
	return net.JoinHostPort(host, last), true
}

// socatConnectTarget reads a socat TCP connect address ("TCP:h:p",
// "TCP4:h:p,opts", "TCP-CONNECT:h:p") as "h:p".
func socatConnectTarget(addr string) (string, bool) {
	kw, rest, ok := strings.Cut(addr, ":")
	if !ok {
		return "", false
	}
	switch strings.ToUpper(kw) {
	case "TCP", "TCP4", "TCP6", "TCP-CONNECT", "TCP4-CONNECT", "TCP6-CONNECT":
	default:
		return "", false
	}
	rest, _, _ = strings.Cut(rest, ",")
	if _, _, err := net.SplitHostPort(rest); err != nil {
		return "", false
	}
	return rest, true
}

// xrayBridgeTargets reads an Xray/V2Ray configuration (JSON, whole-line
// // comments allowed) and, when it runs a reverse-proxy bridge
// (reverse.bridges), returns the redirect targets of its freedom
// outbounds: where the portal's visitors are delivered on this side.
func xrayBridgeTargets(b []byte) []string {
	var c struct {
		Reverse struct {
			Bridges []json.RawMessage `json:"bridges"`
		} `json:"reverse"`
		Outbounds []struct {
			Protocol string          `json:"protocol"`
			Settings json.RawMessage `json:"settings"`
		} `json:"outbounds"`
	}
	if err := json.Unmarshal(stripLineComments(b), &c); err != nil || len(c.Reverse.Bridges) == 0 {
		return nil
	}
	var out []string
	for _, o := range c.Outbounds {
		if !strings.EqualFold(o.Protocol, "freedom") || len(o.Settings) == 0 {
			continue
		}
		var s struct {
			Redirect string `json:"redirect"`
		}
		if json.Unmarshal(o.Settings, &s) == nil && s.Redirect != "" && len(out) < maxListed {
			out = appendUniq(out, s.Redirect)
		}
	}
	return out
}

// stripLineComments blanks lines whose first non-space characters are
// "//" (Xray accepts such comments in its JSON).
func stripLineComments(b []byte) []byte {
	lines := bytes.Split(b, []byte("\n"))
	for i, l := range lines {
		if bytes.HasPrefix(bytes.TrimSpace(l), []byte("//")) {
			lines[i] = nil
		}
	}
	return bytes.Join(lines, []byte("\n"))
}

// yamlValues returns the scalar values of the given keys anywhere in a
// YAML document, line by line ("  addr: 3389", "- service: rdp://x"),
// without a YAML parser: enough for ngrok and cloudflared configurations.
func yamlValues(b []byte, keys ...string) []string {
	var out []string
	for _, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		line = strings.TrimSpace(strings.TrimPrefix(line, "- "))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || !contains(keys, strings.TrimSpace(k)) {
			continue
		}
		v = strings.TrimSpace(v)
		if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		v = strings.Trim(v, `"'`)
		if v != "" && len(out) < maxListed {
			out = append(out, v)
		}
	}
	return out
}

// isAbsAnyOS reports an absolute path of any OS ("/etc/x", `C:\x`).
func isAbsAnyOS(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

// hostFile maps an absolute path of the host onto root.
func hostFile(root, p string) string {
	if root == "" || root == "/" {
		return p
	}
	return filepath.Join(root, filepath.FromSlash(strings.ReplaceAll(p[len(filepath.VolumeName(p)):], `\`, "/")))
}

func appendUniq(xs []string, s string) []string {
	if contains(xs, s) {
		return xs
	}
	return append(xs, s)
}

func containsPID(xs []int32, p int32) bool {
	for _, x := range xs {
		if x == p {
			return true
		}
	}
	return false
}

func capList(xs []string) []string { return capN(xs, maxListed) }

func capN(xs []string, n int) []string {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

// maxHashBytes bounds what is read to hash an executable.
const maxHashBytes = 256 << 20

// exeHasher returns a function giving the hex SHA-256 of a process's
// executable image (through the source: /proc/PID/exe on Linux, so a
// deleted or replaced file still hashes), cached by path for one run; ""
// when it cannot be read (snapshots), is too large or ctx ends.
func exeHasher(ctx context.Context, src source.Source) func(source.Process) string {
	cache := map[string]string{}
	return func(p source.Process) string {
		key := nonEmpty(p.Exe, fmt.Sprint("pid:", p.PID))
		if s, ok := cache[key]; ok {
			return s
		}
		s := ""
		if rc, err := src.OpenExe(p); err == nil {
			h := sha256.New()
			n, err := io.Copy(h, io.LimitReader(ctxReader{ctx, rc}, maxHashBytes+1))
			if err == nil && n <= maxHashBytes {
				s = hex.EncodeToString(h.Sum(nil))
			}
			_ = rc.Close()
		}
		cache[key] = s
		return s
	}
}

// ctxReader stops reading when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, fmt.Errorf("hash executable: %w", err)
	}
	return c.r.Read(b)
}
