package network

import (
	"fmt"
	"math"
	"net/netip"
	"path"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Connection-table telemetry: where packets cannot be captured (Windows
// has no capture driver by default) the engine is fed the OS connection
// table instead, polled by the caller. Each established connection becomes
// a flow whose per-direction sizes come from the kernel's byte and segment
// counters; flows end when their connection leaves the table. There are no
// payload bytes, so protocol parsers do not run: connections are classified
// by the tool's well-known server port, by the process that owns them, and
// a process that forwards between an inbound and an outbound connection is
// found by matching their byte counters.

// Owner is the local process that holds one end of a flow.
type Owner struct {
	PID     int32
	Process string
	Exe     string
	// RTTms is the kernel's smoothed RTT of the connection (0 unknown).
	RTTms float64
	// SHA256 of the executable (hex), when it was hashed (findings of
	// medium severity or above).
	SHA256 string
	// Identity of the executable as the source read it (signer, company,
	// product, original_filename, bundle_id, team_id, package): what names
	// a tool that was renamed.
	Identity map[string]string
}

// Conn is one connection-table row.
type Conn struct {
	Proto         string // "tcp" or "udp"
	Local, Remote netip.AddrPort
	// Inbound is true when the remote end connected to a listener of this
	// host (the local port is a listening port).
	Inbound bool
	Owner   Owner
	// HasCounters is set when the OS gave the cumulative counters below.
	HasCounters              bool
	BytesSent, BytesReceived uint64
	SegsSent, SegsReceived   uint64
}

// connState is a telemetry flow's memory between polls.
type connState struct {
	owner     Owner
	inbound   bool
	counters  bool
	seen      int64 // time of the last poll that listed it
	prev      int64
	lastBytes [2]uint64 // cumulative, by flow direction
	lastSegs  [2]uint64
	shape     pollShape
}

// pollShape accumulates, poll by poll, what counters can say about who is
// driven on a connection (see counterDriven): this host's sent and
// received payload per poll interval.
type pollShape struct {
	polls      int     // intervals with any payload
	inPolls    int     // intervals in which the remote end sent payload
	smallIn    int     // … in small segments (≤ flow.SmallPayload on average)
	coActive   int     // … while this host also sent
	bigOut     int     // intervals in which this host sent ≥ minScreenMax-byte segments on average
	outN       int     // intervals in which this host sent
	outMean    float64 // Welford mean and M2 of bytes sent per active interval
	outM2      float64
	sent, recv uint64
}

func (p *pollShape) add(sent, sentSegs, recv, recvSegs uint64) {
	if sent == 0 && recv == 0 {
		return
	}
	p.polls++
	p.sent += sent
	p.recv += recv
	if recv > 0 {
		p.inPolls++
		if recvSegs > 0 && recv/recvSegs <= flow.SmallPayload {
			p.smallIn++
		}
		if sent > 0 {
			p.coActive++
		}
	}
	if sent > 0 {
		p.outN++
		x := float64(sent)
		d := x - p.outMean
		p.outMean += d / float64(p.outN)
		p.outM2 += d * (x - p.outMean)
		if sentSegs > 0 && sent/sentSegs >= minScreenMax {
			p.bigOut++
		}
	}
}

// Observe feeds one poll of the connection table taken at ts. Connections
// listed by an earlier poll and missing now have ended and are classified.
func (e *Engine) Observe(ts time.Time, conns []Conn) {
	t := ts.UnixNano()
	for i := range conns {
		c := &conns[i]
		var proto uint8
		switch c.Proto {
		case "tcp":
			proto = decode.ProtoTCP
		case "udp":
			proto = decode.ProtoUDP
		default:
			continue
		}
		if !c.Remote.IsValid() || c.Remote.Port() == 0 || !c.Local.IsValid() || c.Remote.Addr().Unmap().IsUnspecified() {
			continue
		}
		e.addLocal(c.Local.Addr())
		client, server := c.Local, c.Remote
		if c.Inbound {
			client, server = c.Remote, c.Local
		}
		e.stats.Observations++
		f, created := e.table.Observe(proto, client, server, t)
		m, _ := f.Meta.(*Meta)
		if created || m == nil || m.Conn == nil {
			m = &Meta{Conn: &connState{inbound: c.Inbound, prev: t}}
			f.Meta = m
			e.newFlow(f)
		}
		st := m.Conn
		st.seen = t
		if c.Owner.PID != 0 || c.Owner.Process != "" {
			st.owner = c.Owner
		}
		if !c.HasCounters {
			continue
		}
		st.counters = true
		// Flow directions: C2S is what the client sent.
		sent, recv := [2]uint64{c.BytesSent, c.BytesReceived}, [2]uint64{c.SegsSent, c.SegsReceived}
		if c.Inbound {
			sent[0], sent[1] = sent[1], sent[0]
			recv[0], recv[1] = recv[1], recv[0]
		}
		var db, ds [2]uint64
		for d := 0; d < 2; d++ {
			if sent[d] < st.lastBytes[d] { // counters restarted (collection re-enabled)
				st.lastBytes[d], st.lastSegs[d] = 0, 0
			}
			db[d] = sent[d] - st.lastBytes[d]
			if recv[d] >= st.lastSegs[d] {
				ds[d] = recv[d] - st.lastSegs[d]
			}
			e.table.Account(f, d, db[d], ds[d], t)
			st.lastBytes[d], st.lastSegs[d] = sent[d], recv[d]
		}
		// This host's side of the flow: the server when inbound.
		me := flow.C2S
		if c.Inbound {
			me = flow.S2C
		}
		st.shape.add(db[me], ds[me], db[1-me], ds[1-me])
		st.prev = t
	}
	var gone []*flow.Flow
	e.table.Each(func(f *flow.Flow) {
		if m, ok := f.Meta.(*Meta); ok && m.Conn != nil && m.Conn.seen < t {
			gone = append(gone, f)
		}
	})
	for _, f := range gone {
		e.table.End(f)
	}
	e.connRelays(t)
}

// maxAddedLocal bounds the addresses Observe learns as this host's own.
const maxAddedLocal = 256

// addLocal records a connection's local address as this host's own, so a
// connection table read from a snapshot, or after the host moved to
// another network, still tells inbound from outbound.
func (e *Engine) addLocal(a netip.Addr) {
	a = a.Unmap().WithZone("")
	if !a.IsValid() || a.IsUnspecified() || e.local(a) || e.addedLocal >= maxAddedLocal {
		return
	}
	if !e.ownAddrs { // the defaults (private ranges) were a guess; the table knows
		e.cfg.LocalNets = append([]netip.Prefix(nil), e.cfg.LocalNets...)
	}
	e.cfg.LocalNets = append(e.cfg.LocalNets, netip.PrefixFrom(a, a.BitLen()))
	e.addedLocal++
}

// connRelays finds processes forwarding between an inbound and an
// outbound connection: what arrives on one leaves on the other, both ways,
// so their byte counters match (socat, ssh -L/-R, netsh portproxy, a
// SOCKS server used from outside).
func (e *Engine) connRelays(now int64) {
	type side struct {
		f  *flow.Flow
		st *connState
	}
	byPID := map[int32][]side{}
	e.table.Each(func(f *flow.Flow) {
		m, ok := f.Meta.(*Meta)
		if !ok || m.Conn == nil || !m.Conn.counters || m.Conn.owner.PID == 0 || f.Proto != decode.ProtoTCP {
			return
		}
		byPID[m.Conn.owner.PID] = append(byPID[m.Conn.owner.PID], side{f, m.Conn})
	})
	for _, sides := range byPID {
		for _, in := range sides {
			if !in.st.inbound {
				continue
			}
			for _, out := range sides {
				if out.st.inbound {
					continue
				}
				fwd := &in.f.Dir[flow.C2S]  // from the remote client
				onw := &out.f.Dir[flow.C2S] // sent on by this host
				back := &out.f.Dir[flow.S2C]
				ret := &in.f.Dir[flow.S2C]
				if !sameVolume(fwd.PayloadBytes, onw.PayloadBytes) || !sameVolume(back.PayloadBytes, ret.PayloadBytes) {
					continue
				}
				e.reportConnRelay(in.f, out.f, in.st.owner, now)
			}
		}
	}
}

// sameVolume: at least 2 KiB moved and the two counts within 10 % (+1 KiB
// in flight between polls) of each other.
func sameVolume(a, b uint64) bool {
	if a < 2048 || b < 2048 {
		return false
	}
	hi, lo := max(a, b), min(a, b)
	return hi-lo <= hi/10+1024
}

func (e *Engine) reportConnRelay(in, out *flow.Flow, o Owner, now int64) {
	host := out.Client.Addr
	subject := fmt.Sprintf("relay|%s|%s|%s", in.Client.Addr, host, out.Server)
	if _, ok := e.findings[subject]; ok {
		if f := e.findings[subject]; f.LastSeen == nil || time.Unix(0, now).After(*f.LastSeen) {
			l := time.Unix(0, now).UTC()
			f.LastSeen = &l
		}
		return
	}
	ev := map[string]any{
		"relay_host": host.String(),
		"inbound":    flowEvidence(in),
		"outbound":   flowEvidence(out),
		"source":     "connection-table",
	}
	ownerEvidence(o, ev)
	res := result{Rule: "network.behavior.relay", Tool: "stepping-stone", Category: report.CategoryRelay,
		Severity: report.SeverityHigh, Conf: 0.7,
		Matched: fmt.Sprintf("one process forwards both ways: %d ⇄ %d bytes in, %d ⇄ %d bytes back",
			in.Dir[flow.C2S].PayloadBytes, out.Dir[flow.C2S].PayloadBytes, out.Dir[flow.S2C].PayloadBytes, in.Dir[flow.S2C].PayloadBytes),
		Summary: fmt.Sprintf("%s relays a session: %s → %s is forwarded by %s to %s.", host, in.Client.Addr, in.Server, processLabel(o), out.Server)}
	ev["matched"] = res.Matched
	e.add(e.findings, subject, time.Unix(0, max(in.Start, out.Start)).UTC(), time.Unix(0, now).UTC(), res, ev)
}

// ownerEvidence adds the owning process to evidence.
func ownerEvidence(o Owner, ev map[string]any) {
	if o.PID != 0 {
		ev[report.EvPID] = o.PID
	}
	if o.Process != "" {
		ev[report.EvProcess] = o.Process
	}
	if o.Exe != "" {
		ev[report.EvExe] = o.Exe
	}
	if o.RTTms > 0 {
		ev["kernel_rtt_ms"] = round3(o.RTTms)
	}
	if o.SHA256 != "" {
		ev[report.EvExeSHA256] = o.SHA256
	}
	for k, v := range o.Identity {
		if v != "" {
			ev["exe_"+k] = v
		}
	}
}

func processLabel(o Owner) string {
	switch {
	case o.Process != "" && o.PID != 0:
		return fmt.Sprintf("%s (pid %d)", o.Process, o.PID)
	case o.PID != 0:
		return fmt.Sprintf("pid %d", o.PID)
	}
	return "a process"
}

// portTool is what a well-known server port says (facts: the shared
// network indicators table; docs/network.md lists them).
type portTool struct {
	tool, label string
	cat         report.Category
}

// serverProcesses are only ever the controlled side (VNC and RDP servers,
// game-streaming hosts): any session such a process holds, whichever side
// opened it, means this host is being controlled.
var serverProcesses = map[string]bool{"x11vnc": true, "xvnc": true, "winvnc": true, "tvnserver": true,
	"vncserver-x11-core": true, "xrdp": true, "sunshine": true}

func (p portTool) remoteControl() bool { return p.cat == report.CategoryRemoteAccess }

var tcpServerPorts = map[uint16]portTool{
	3389:  {"rdp", "RDP", report.CategoryRemoteAccess},
	5938:  {"teamviewer", "TeamViewer", report.CategoryRemoteAccess},
	7070:  {"anydesk", "AnyDesk (direct)", report.CategoryRemoteAccess},
	4000:  {"nomachine", "NoMachine", report.CategoryRemoteAccess},
	4899:  {"radmin", "Radmin", report.CategoryRemoteAccess},
	1494:  {"citrix", "Citrix ICA", report.CategoryRemoteAccess},
	2598:  {"citrix", "Citrix CGP", report.CategoryRemoteAccess},
	6783:  {"splashtop", "Splashtop", report.CategoryRemoteAccess},
	6784:  {"splashtop", "Splashtop", report.CategoryRemoteAccess},
	8040:  {"screenconnect", "ScreenConnect", report.CategoryRemoteAccess},
	8041:  {"screenconnect", "ScreenConnect relay", report.CategoryRemoteAccess},
	47984: {"sunshine", "Sunshine/Moonlight", report.CategoryRemoteAccess},
	47989: {"sunshine", "Sunshine/Moonlight", report.CategoryRemoteAccess},
	48010: {"sunshine", "Sunshine/Moonlight", report.CategoryRemoteAccess},
	21115: {"rustdesk", "RustDesk", report.CategoryRemoteAccess},
	21116: {"rustdesk", "RustDesk", report.CategoryRemoteAccess},
	21117: {"rustdesk", "RustDesk relay", report.CategoryRemoteAccess},
	22:    {"ssh", "SSH", report.CategoryRemoteAccess},
	1194:  {"openvpn", "OpenVPN", report.CategoryVPN},
	5555:  {"softether", "SoftEther VPN", report.CategoryVPN},
	9001:  {"tor", "Tor relay (ORPort)", report.CategoryVPN},
	1080:  {"socks", "SOCKS proxy", report.CategoryProxy},
}

var udpServerPorts = map[uint16]portTool{
	3389:  {"rdp", "RDP-UDP", report.CategoryRemoteAccess},
	5938:  {"teamviewer", "TeamViewer", report.CategoryRemoteAccess},
	21116: {"rustdesk", "RustDesk", report.CategoryRemoteAccess},
	1194:  {"openvpn", "OpenVPN", report.CategoryVPN},
	51820: {"wireguard", "WireGuard", report.CategoryVPN},
	41641: {"tailscale", "Tailscale", report.CategoryVPN},
	9993:  {"zerotier", "ZeroTier", report.CategoryVPN},
	2408:  {"cloudflare-warp", "Cloudflare WARP", report.CategoryVPN},
	500:   {"ipsec", "IPsec IKE", report.CategoryVPN},
	4500:  {"ipsec", "IPsec NAT-T", report.CategoryVPN},
	177:   {"xdmcp", "XDMCP", report.CategoryRemoteAccess},
}

// processTools maps lower-case executable names (without .exe) of remote
// control and tunnelling software to a tool id, so a connection the tool
// owns on any port (relays on 443) is named.
var processTools = map[string]portTool{
	"anydesk":                     {"anydesk", "AnyDesk", report.CategoryRemoteAccess},
	"teamviewer":                  {"teamviewer", "TeamViewer", report.CategoryRemoteAccess},
	"teamviewer_service":          {"teamviewer", "TeamViewer", report.CategoryRemoteAccess},
	"teamviewerd":                 {"teamviewer", "TeamViewer", report.CategoryRemoteAccess},
	"rustdesk":                    {"rustdesk", "RustDesk", report.CategoryRemoteAccess},
	"nxserver":                    {"nomachine", "NoMachine", report.CategoryRemoteAccess},
	"nxnode":                      {"nomachine", "NoMachine", report.CategoryRemoteAccess},
	"nxd":                         {"nomachine", "NoMachine", report.CategoryRemoteAccess},
	"rserver3":                    {"radmin", "Radmin", report.CategoryRemoteAccess},
	"screenconnect.clientservice": {"screenconnect", "ScreenConnect", report.CategoryRemoteAccess},
	"screenconnect.windowsclient": {"screenconnect", "ScreenConnect", report.CategoryRemoteAccess},
	"remoting_host":               {"chrome-remote-desktop", "Chrome Remote Desktop", report.CategoryRemoteAccess},
	"splashtopremoteservice":      {"splashtop", "Splashtop", report.CategoryRemoteAccess},
	"srservice":                   {"splashtop", "Splashtop", report.CategoryRemoteAccess},
	"sunshine":                    {"sunshine", "Sunshine", report.CategoryRemoteAccess},
	"parsecd":                     {"parsec", "Parsec", report.CategoryRemoteAccess},
	"x11vnc":                      {"vnc", "VNC (x11vnc)", report.CategoryRemoteAccess},
	"xvnc":                        {"vnc", "VNC (Xvnc)", report.CategoryRemoteAccess},
	"winvnc":                      {"vnc", "VNC (WinVNC)", report.CategoryRemoteAccess},
	"tvnserver":                   {"vnc", "VNC (TightVNC)", report.CategoryRemoteAccess},
	"vncserver-x11-core":          {"vnc", "VNC (RealVNC)", report.CategoryRemoteAccess},
	"xrdp":                        {"rdp", "RDP (xrdp)", report.CategoryRemoteAccess},
	"ngrok":                       {"ngrok", "ngrok", report.CategoryTunnel},
	"cloudflared":                 {"cloudflared", "cloudflared", report.CategoryTunnel},
	"openvpn":                     {"openvpn", "OpenVPN", report.CategoryVPN},
	"tailscaled":                  {"tailscale", "Tailscale", report.CategoryVPN},
	"zerotier-one":                {"zerotier", "ZeroTier", report.CategoryVPN},
	"tor":                         {"tor", "Tor", report.CategoryVPN},
}

func processTool(name string) (portTool, bool) {
	n := strings.ToLower(path.Base(strings.ReplaceAll(name, `\`, "/")))
	n = strings.TrimSuffix(n, ".exe")
	pt, ok := processTools[n]
	return pt, ok
}

// ownerTool names the tool of a flow's process: by its name, else by the
// executable's identity (a renamed copy keeps its PE original filename
// and product). server is set for serverProcesses.
func ownerTool(o Owner) (pt portTool, server, ok bool) {
	names := []string{o.Process}
	for _, k := range []string{"original_filename", "product"} {
		if v := o.Identity[k]; v != "" {
			names = append(names, strings.ReplaceAll(v, " ", ""))
		}
	}
	for _, n := range names {
		if pt, ok := processTool(n); ok {
			key := strings.TrimSuffix(strings.ToLower(path.Base(strings.ReplaceAll(n, `\`, "/"))), ".exe")
			return pt, serverProcesses[key], true
		}
	}
	return portTool{}, false, false
}

// telemetryAnalyzer classifies connection-table flows (Meta.Conn set).
var telemetryAnalyzer = analyzer{
	name: "connection-table",
	classify: func(c *classCtx) {
		st := c.m.Conn
		if st == nil || c.identified {
			return
		}
		f := c.f
		if f.Server.Addr.IsLoopback() && f.Client.Addr.IsLoopback() {
			return
		}
		if counterDriven(&st.shape) {
			emitCounterDriven(c, st)
		}
		table := tcpServerPorts
		if f.Proto == decode.ProtoUDP {
			table = udpServerPorts
		}
		pt, byPort := table[f.Server.Port]
		if f.Proto == decode.ProtoTCP && f.Server.Port >= 5900 && f.Server.Port <= 5909 {
			pt, byPort = portTool{"vnc", "VNC", report.CategoryRemoteAccess}, true
		}
		byProc := false
		server := false
		if p, srv, ok := ownerTool(st.owner); ok {
			if !byPort || p.tool == pt.tool {
				pt, byProc, server = p, true, srv
			}
		}
		if !byPort && !byProc {
			return
		}
		ex := map[string]any{"source": "connection-table"}
		conf := 0.6
		var matched []string
		if byPort {
			matched = append(matched, fmt.Sprintf("server port %d/%s (%s)", f.Server.Port, protoName(f.Proto), pt.label))
		}
		if byProc {
			matched = append(matched, fmt.Sprintf("owned by %s", processLabel(st.owner)))
			conf = 0.8
		}
		inbound := st.inbound
		var sev report.Severity
		dir := "outbound"
		if inbound {
			dir = "inbound"
		}
		switch {
		case pt.tool == "ssh":
			sev = report.SeverityLow
			if inbound {
				sev = report.SeverityMedium
			}
		case pt.remoteControl() && server:
			// A VNC/RDP server's session, inbound or dialled out to a
			// listening viewer: this host is the controlled side.
			sev = report.SeverityHigh
			if !inbound {
				dir = "reverse-connected"
			}
		case pt.remoteControl():
			sev = report.SeverityMedium
			if inbound {
				sev = report.SeverityHigh
			}
		case pt.cat == report.CategoryProxy:
			sev = report.SeverityLow
			if inbound {
				sev = report.SeverityMedium
			}
		default: // VPN, tunnel
			sev = report.SeverityMedium
		}
		rule := "network." + pt.tool + ".session"
		if pt.cat == report.CategoryProxy {
			rule = "network." + pt.tool + ".proxy"
		}
		c.emit(result{Rule: rule, Tool: pt.tool, Category: pt.cat, Severity: sev, Conf: conf, Extra: ex,
			Matched: strings.Join(matched, "; "),
			Summary: fmt.Sprintf("%s %s connection %s → %s (connection table, %s).", upper(dir), pt.label, f.Client, f.Server, processLabel(st.owner))})
	},
}

// Counter thresholds for counterDriven (5 s polls by default).
const (
	minShapePolls   = 6 // intervals in which this host sent
	minShapeInPolls = 4 // intervals in which the remote end sent
	minShapeCV      = 0.5
)

// counterDriven is driveRoles at poll resolution, as far as counters
// allow: over ≥ minShapePolls intervals this host sent ≥ 2×
// (and ≥ 16 KiB) what it received, mostly in MTU-scale segments, at a
// varying rate (coefficient of variation ≥ minShapeCV: updates, not a
// steady upload), while the remote end sent small segments in most
// intervals, almost always while this host was sending (updates follow
// input). Inter-arrival times and bursts are not visible in counters, so
// the finding stays at medium.
func counterDriven(p *pollShape) bool {
	if p.outN < minShapePolls || p.inPolls < minShapeInPolls {
		return false
	}
	if p.sent < 16<<10 || p.sent < 2*p.recv {
		return false
	}
	if 10*p.smallIn < 6*p.inPolls || 2*p.bigOut < p.outN || 10*p.coActive < 7*p.inPolls {
		return false
	}
	if p.outN < 2 || p.outMean <= 0 {
		return false
	}
	cv := math.Sqrt(p.outM2/float64(p.outN-1)) / p.outMean
	return cv >= minShapeCV
}

func emitCounterDriven(c *classCtx, st *connState) {
	f, p := c.f, &st.shape
	me, peer := f.Client, f.Server
	if st.inbound {
		me, peer = f.Server, f.Client
	}
	ex := map[string]any{"source": "connection-table", "host_role": "controlled", "controlled": me.String(), "controller_side": peer.String(),
		"screen_payload_bytes": p.sent, "input_payload_bytes": p.recv, "polls": p.polls, "polls_with_input": p.inPolls}
	c.emit(result{Rule: "network.behavior.controlled", Tool: "unknown", Category: report.CategoryRemoteAccess,
		Severity: report.SeverityMedium, Conf: 0.4, Extra: ex,
		Matched: "connection counters: this host sends bulky, varying data while the other end sends small segments alongside",
		Summary: fmt.Sprintf("This host (%s) may be remotely controlled from %s (%s): its connection counters show screen-like data out and small input in.", me.Addr, peer, processLabel(st.owner))})
}

func protoName(p uint8) string {
	if p == decode.ProtoUDP {
		return "udp"
	}
	return "tcp"
}
