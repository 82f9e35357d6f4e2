package network

import (
	"fmt"
	"maps"
	"net/netip"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/dns"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/tls"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Detector is the "detector" field of every finding the engine makes.
const Detector = "network"

// Filter decides whether a decoded packet is analysed (see package filter).
type Filter interface {
	Match(p *decode.Packet) bool
}

// Config configures an Engine.
type Config struct {
	Flow flow.Config
	// Host is stamped on findings (for pcaps: Name "pcap", ID "pcap:<file>").
	Host report.Host
	// Filter, when set, drops packets it does not match.
	Filter Filter
	// LocalNets are "this host's side" of the network: a remote-control
	// session whose server is in them is inbound. Default: RFC 1918, CGNAT,
	// loopback, link-local and IPv6 ULA.
	LocalNets []netip.Prefix
	// MaxDNSNames bounds the address → name cache.
	MaxDNSNames int
	// Owner, when set, attributes a captured flow to the local process
	// holding it (live capture: the OS connection table). It is called at
	// most once per flow, only for flows that produce a finding; urgent is
	// true for findings of medium severity or above (worth a fresh read
	// of the table).
	Owner func(proto string, client, server netip.AddrPort, urgent bool) (Owner, bool)
	// Bypass, when set, takes the packets of bulk flows the engine has
	// seen enough of off its hands (see Bypass; live capture on Linux).
	Bypass Bypass
	// OnFlow, when set, sees every flow as it finishes (tests, tools); it
	// must not keep the flow.
	OnFlow func(*flow.Flow)
}

// Stats counts what the engine saw.
type Stats struct {
	Packets, Bytes, Decoded, Undecodable, Filtered uint64
	Flows                                          flow.Stats
	DNSMessages                                    uint64
	// Observations counts connection-table rows fed through Observe.
	Observations uint64
	Findings     int
	// Bypassed counts flows handed to Config.Bypass.
	Bypassed uint64
}

// Engine is the streaming traffic analyser. Feed it packets in time order
// with Packet, then call Close once for the findings. It is not safe for
// concurrent use.
type Engine struct {
	cfg    Config
	table  *flow.Table
	pkt    decode.Packet
	stats  Stats
	names  map[netip.Addr]string
	dnsTun *dnsTunnels
	relay  *relayTracker
	ports  *portProtocols
	webrtc map[netip.Addr]webrtcSeen
	// tiiLoose counts outer TLS sessions per client|server with the loose
	// TLS-in-TLS shape (tlsintls.go), bounded by maxTIILoose.
	tiiLoose map[string]int
	// ownAddrs is set when LocalNets were given (this host's own
	// addresses): a relay's two sides may then use different addresses of
	// the host (a laptop on two networks).
	ownAddrs bool
	// addedLocal counts addresses Observe learnt as the host's own.
	addedLocal int
	dnsMsg     dns.Message
	view       view
	findings   map[string]*report.Finding
	// early holds the subjects Evident already returned; noOwner skips
	// attribution while Evident screens flows.
	early   map[string]bool
	noOwner bool
	// bypassScratch and bypassList are reused by Bypass.
	bypassScratch map[string]*report.Finding
	bypassList    []*flow.Flow
	bypassDue     bool
	// flowHook, when set (tests), sees every finished flow.
	flowHook func(*flow.Flow)
}

var defaultLocal = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fe80::/10"), netip.MustParsePrefix("fc00::/7"),
}

// New makes an engine.
func New(cfg Config) *Engine {
	own := len(cfg.LocalNets) > 0
	if len(cfg.LocalNets) == 0 {
		cfg.LocalNets = defaultLocal
	}
	if cfg.MaxDNSNames <= 0 {
		cfg.MaxDNSNames = 65536
	}
	if cfg.Host.Name == "" {
		cfg.Host = report.Host{Name: "pcap", ID: "pcap"}
	}
	e := &Engine{
		cfg:      cfg,
		names:    make(map[netip.Addr]string),
		dnsTun:   newDNSTunnels(),
		relay:    newRelayTracker(),
		ports:    newPortProtocols(),
		findings: make(map[string]*report.Finding),
		tiiLoose: make(map[string]int),
		ownAddrs: own,
	}
	e.table = flow.NewTable(cfg.Flow, e.flowDone)
	return e
}

// Packet analyses one captured frame of the given link type.
func (e *Engine) Packet(ts time.Time, linkType int, frame []byte) {
	e.stats.Packets++
	e.stats.Bytes += uint64(len(frame))
	p := &e.pkt
	if err := decode.Decode(linkType, frame, p); err != nil {
		e.stats.Undecodable++
		return
	}
	e.stats.Decoded++
	if e.cfg.Filter != nil && !e.cfg.Filter.Match(p) {
		e.stats.Filtered++
		return
	}
	t := ts.UnixNano()
	if p.Proto == decode.ProtoUDP && (p.SrcPort == 53 || p.DstPort == 53 || p.SrcPort == 5353 && p.DstPort == 5353) && len(p.Payload) >= 12 {
		e.dns(p, t)
	}
	f, dir := e.table.Lookup(p, t)
	if f == nil {
		return
	}
	if f.Packets() == 0 {
		e.newFlow(f)
	}
	if f.Bypassed {
		// A packet the bypass let through (a pause ended, a control
		// packet): account what it counted before this one first.
		e.collect(f, t, dir)
	}
	if e.table.Update(f, dir, p, t) {
		return
	}
	if e.cfg.Bypass != nil && !f.Bypassed {
		if n := f.Dir[dir].PayloadPackets; n >= BypassAfter && n%BypassAfter == 0 {
			e.bypassDue = true
		}
	}
	if !f.Inspected && readyToInspect(f) {
		e.inspect(f)
	}
}

// newFlow attaches what the engine already knows about the server.
func (e *Engine) newFlow(f *flow.Flow) {
	if n, ok := e.names[f.Server.Addr]; ok {
		f.ServerName = n
	}
}

// readyToInspect is true once both directions kept all the bytes they will
// (or enough packets went by that more will not help).
func readyToInspect(f *flow.Flow) bool {
	c, s := &f.Dir[flow.C2S], &f.Dir[flow.S2C]
	const enough = 24
	cd := c.Full(flow.ClientBytes) || c.PayloadPackets >= enough
	sd := s.Full(flow.ServerBytes) || s.PayloadPackets >= enough
	return cd && sd
}

func (e *Engine) inspect(f *flow.Flow) {
	f.Inspected = true
	m := &Meta{}
	v := &e.view
	v.reset(f)
	inspectCommon(v, m)
	for _, a := range analyzers {
		if a.inspect != nil {
			a.inspect(v, m)
		}
	}
	f.Meta = m
	e.table.ReleaseBuffers(f)
}

func (e *Engine) flowDone(f *flow.Flow) {
	if f.Bypassed {
		e.unbypass(f)
	}
	if e.flowHook != nil {
		e.flowHook(f)
	}
	if e.cfg.OnFlow != nil {
		e.cfg.OnFlow(f)
	}
	if !f.Inspected {
		e.inspect(f)
	}
	m, _ := f.Meta.(*Meta)
	if m == nil {
		m = &Meta{}
	}
	e.classify(f, m, e.findings)
	e.relay.add(f)
	e.ports.add(f, m)
}

// classify runs every classifier on f, recording into dst.
func (e *Engine) classify(f *flow.Flow, m *Meta, dst map[string]*report.Finding) {
	c := &classCtx{e: e, f: f, m: m, dst: dst}
	for _, a := range analyzers {
		if a.classify != nil {
			a.classify(c)
		}
	}
}

// Close finishes every flow and the cross-flow analyses and returns the
// findings, sorted. The engine must not be used afterwards.
func (e *Engine) Close() []report.Finding {
	e.table.Flush()
	e.dnsTun.classify(e, e.findings)
	e.relay.classify(e, e.findings)
	e.ports.classify(e, e.findings)
	out := render(e.findings)
	e.stats.Findings = len(out)
	return out
}

// Snapshot returns the findings so far without ending anything: those of
// finished flows plus what the classifiers say about flows still open for
// at least minAge (long remote-control sessions), and the cross-flow
// analyses over what was seen. A live capture calls it periodically; the
// engine's own state is left as it was, except that flows older than
// minAge are inspected now if they had not been.
func (e *Engine) Snapshot(now time.Time, minAge time.Duration) []report.Finding {
	dst := make(map[string]*report.Finding, len(e.findings))
	for k, f := range e.findings {
		cp := *f
		cp.Evidence = maps.Clone(f.Evidence)
		if f.LastSeen != nil {
			l := *f.LastSeen
			cp.LastSeen = &l
		}
		dst[k] = &cp
	}
	cutoff := now.UnixNano() - int64(minAge)
	e.table.Each(func(f *flow.Flow) {
		if f.Start > cutoff {
			return
		}
		if !f.Inspected {
			e.inspect(f)
		}
		m, _ := f.Meta.(*Meta)
		if m == nil {
			m = &Meta{}
		}
		e.classify(f, m, dst)
	})
	e.dnsTun.classify(e, dst)
	e.relay.classify(e, dst)
	e.ports.classify(e, dst)
	return render(dst)
}

// EvidentAge is how long a flow with payload both ways may go uninspected
// before Evident inspects it anyway (its stream prefixes are complete by
// then in practice).
const EvidentAge = 2 * time.Second

// Evident returns the high-severity findings that are already evident and
// that it has not returned before: those of finished flows, and what the
// classifiers say now about open flows (an inbound or controlled remote
// session, a reverse tunnel to a local listener). A live capture calls it
// every second or so to send such findings at once instead of at the next
// Snapshot; Snapshot keeps updating them afterwards. Open flows are
// screened without attribution and only when they saw packets since the
// last call; the owner is looked up for the flows that qualify.
func (e *Engine) Evident(now time.Time) []report.Finding {
	if e.early == nil {
		e.early = make(map[string]bool)
	}
	out := make(map[string]*report.Finding)
	for k, f := range e.findings {
		if f.Severity >= report.SeverityHigh && !e.early[k] {
			cp := *f
			cp.Evidence = maps.Clone(f.Evidence)
			out[k] = &cp
		}
	}
	cutoff := now.UnixNano() - int64(EvidentAge)
	var scratch map[string]*report.Finding
	e.table.Each(func(f *flow.Flow) {
		if !f.Inspected {
			if f.Start > cutoff || f.Dir[flow.C2S].PayloadPackets == 0 || f.Dir[flow.S2C].PayloadPackets == 0 {
				return
			}
			e.inspect(f)
		}
		m, _ := f.Meta.(*Meta)
		if m == nil || m.evident || m.evidentAt == f.Last {
			return
		}
		m.evidentAt = f.Last
		if scratch == nil {
			scratch = make(map[string]*report.Finding)
		}
		clear(scratch)
		e.noOwner = true
		e.classify(f, m, scratch)
		e.noOwner = false
		for _, r := range scratch {
			if r.Severity >= report.SeverityHigh {
				m.evident = true
				e.classify(f, m, out) // again, with the owner
				break
			}
		}
	})
	for k, f := range out {
		if f.Severity < report.SeverityHigh || e.early[k] {
			delete(out, k)
			continue
		}
		e.early[k] = true
	}
	if len(out) == 0 {
		return nil
	}
	return render(out)
}

// render turns the aggregated findings into a sorted slice.
func render(m map[string]*report.Finding) []report.Finding {
	// Failed or probing connections of a client that did get a VNC session
	// to the same server are part of that session, not a scan.
	for subject := range m {
		if rest, ok := strings.CutPrefix(subject, "network.vnc.scan|"); ok {
			if _, session := m["network.vnc.session|"+rest]; session {
				delete(m, subject)
			}
		}
	}
	out := make([]report.Finding, 0, len(m))
	for _, f := range m {
		if f.Count > 1 {
			f.Evidence["flows"] = f.Count
		}
		out = append(out, *f)
	}
	report.Sort(out)
	return out
}

// Stats returns counters so far.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Flows = e.table.Stats()
	return s
}

// local reports whether a is on this host's side.
func (e *Engine) local(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range e.cfg.LocalNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// result is one classification, turned into a finding by emit.
type result struct {
	Rule     string
	Tool     string
	Category report.Category
	Severity report.Severity
	Conf     float64
	Summary  string
	Matched  string
	Extra    map[string]any
	// Subject, when set, replaces the flow's client and server address:port
	// as what repeats aggregate on (for example both IKE ports of a peer).
	Subject string
}

// classCtx is what a classifier gets for one finished flow.
type classCtx struct {
	e          *Engine
	f          *flow.Flow
	m          *Meta
	dst        map[string]*report.Finding
	identified bool // a tool-specific analyzer already claimed the flow
	tools      []string
}

// claimed reports whether tool already produced a finding for this flow.
func (c *classCtx) claimed(tool string) bool {
	for _, t := range c.tools {
		if t == tool {
			return true
		}
	}
	return false
}

// inbound reports whether the flow's server side is local: someone
// reached into this host.
func (c *classCtx) inbound() bool { return c.e.local(c.f.Server.Addr) }

// rcSeverityFor rates a remote-control session whose protocol roles are
// known, by the side that is controlled (the protocol's server, sending
// direction screen): this host controlled → high ("inbound", or
// "reverse-connected" when the controlled host opened the connection);
// this host the viewer → low ("outbound"); neither → medium ("transit").
func (c *classCtx) rcSeverityFor(screen int) (report.Severity, string) {
	ctl := endpoint(c.f, screen)
	viewer := endpoint(c.f, 1-screen)
	switch {
	case c.e.local(ctl.Addr) && screen == flow.C2S:
		return report.SeverityHigh, "reverse-connected"
	case c.e.local(ctl.Addr):
		return report.SeverityHigh, "inbound"
	case c.e.local(viewer.Addr):
		return report.SeverityLow, "outbound"
	}
	return report.SeverityMedium, "transit"
}

// rcSeverity rates a remote-control session: inbound high, outbound medium.
func (c *classCtx) rcSeverity() (report.Severity, string) {
	if c.inbound() {
		return report.SeverityHigh, "inbound"
	}
	return report.SeverityMedium, "outbound"
}

// emit records r for the current flow, aggregating repeats of the same
// rule, tool, client address and server address:port into one finding.
func (c *classCtx) emit(r result) {
	f := c.f
	c.identified = c.identified || r.Category != report.CategoryContext
	c.tools = append(c.tools, r.Tool)
	subject := fmt.Sprintf("%s|%s|%s|%s", r.Rule, r.Tool, f.Client.Addr, f.Server)
	if r.Subject != "" {
		subject = r.Rule + "|" + r.Tool + "|" + r.Subject
	}
	if old, ok := c.dst[subject]; ok && r.Severity <= old.Severity {
		// A repeat of a known finding: count it, skip building evidence.
		old.Count++
		if last := time.Unix(0, f.Last).UTC(); old.LastSeen == nil || last.After(*old.LastSeen) {
			old.LastSeen = &last
		}
		return
	}
	ev := flowEvidence(f)
	ev["matched"] = r.Matched
	ev[report.EvDirection] = c.direction()
	metaEvidence(c.m, ev)
	for k, v := range r.Extra {
		ev[k] = v
	}
	if f.ServerName != "" {
		ev[report.EvServerName] = f.ServerName
	}
	if st := c.m.Conn; st != nil {
		ev["source"] = "connection-table"
		ownerEvidence(st.owner, ev)
	} else if o, ok := c.e.owner(f, c.m, r.Severity >= report.SeverityMedium); ok {
		ownerEvidence(o, ev)
	}
	c.e.add(c.dst, subject, time.Unix(0, f.Start).UTC(), time.Unix(0, f.Last).UTC(), r, ev)
}

// owner attributes a captured flow to its local process (cached in m).
func (e *Engine) owner(f *flow.Flow, m *Meta, urgent bool) (Owner, bool) {
	if e.cfg.Owner == nil || e.noOwner {
		return Owner{}, false
	}
	// A lookup for a finding of medium or above also hashes the
	// executable: redo one that was made for a lesser finding.
	if m.Owner == nil || (urgent && !m.OwnerUrgent) {
		m.OwnerUrgent = urgent
		o, ok := e.cfg.Owner(protoName(f.Proto), netip.AddrPortFrom(f.Client.Addr, f.Client.Port), netip.AddrPortFrom(f.Server.Addr, f.Server.Port), urgent)
		if !ok {
			o = Owner{}
		}
		m.Owner = &o
	}
	o := *m.Owner
	return o, o.PID != 0 || o.Process != ""
}

func (c *classCtx) direction() string {
	cl, sl := c.e.local(c.f.Client.Addr), c.e.local(c.f.Server.Addr)
	switch {
	case cl && sl:
		return "local"
	case sl:
		return "inbound"
	case cl:
		return report.DirectionOutbound
	}
	return "transit"
}

func (e *Engine) add(dst map[string]*report.Finding, subject string, start, last time.Time, r result, ev map[string]any) {
	if old, ok := dst[subject]; ok {
		old.Count++
		if old.LastSeen == nil || last.After(*old.LastSeen) {
			l := last
			old.LastSeen = &l
		}
		if r.Severity > old.Severity {
			old.Severity, old.Summary, old.Evidence, old.Confidence = r.Severity, r.Summary, ev, r.Conf
		}
		return
	}
	dst[subject] = &report.Finding{
		ID:         report.StableID(e.cfg.Host.ID, r.Rule, r.Tool, subject),
		Time:       start,
		Host:       e.cfg.Host,
		Detector:   Detector,
		Rule:       r.Rule,
		Category:   r.Category,
		Tool:       r.Tool,
		Severity:   r.Severity,
		Confidence: r.Conf,
		Summary:    r.Summary,
		Evidence:   ev,
		Count:      1,
	}
}

func flowEvidence(f *flow.Flow) map[string]any {
	proto := "tcp"
	switch f.Proto {
	case decode.ProtoUDP:
		proto = "udp"
	case decode.ProtoESP:
		proto = "esp"
	case decode.ProtoTCP:
	default:
		proto = fmt.Sprintf("ip-%d", f.Proto)
	}
	c, s := &f.Dir[flow.C2S], &f.Dir[flow.S2C]
	ev := map[string]any{
		"proto":         proto,
		report.EvClient: f.Client.String(),
		report.EvServer: f.Server.String(),
		"start":         time.Unix(0, f.Start).UTC().Format(time.RFC3339Nano),
		"duration_s":    round3(f.Duration().Seconds()),
		"bytes_c2s":     c.Bytes,
		"bytes_s2c":     s.Bytes,
		"packets_c2s":   c.Packets,
		"packets_s2c":   s.Packets,
	}
	if rtt := f.HandshakeRTT(); rtt > 0 {
		ev["handshake_rtt_ms"] = round3(float64(rtt) / 1e6)
	}
	return ev
}

// metaEvidence adds the parsed protocol metadata that identifies a flow.
func metaEvidence(m *Meta, ev map[string]any) {
	if ch := m.TLSClient; ch != nil {
		if ch.SNI != "" {
			ev[report.EvTLSSNI] = ch.SNI
		}
		if len(ch.ALPN) > 0 {
			ev["tls_alpn"] = strings.Join(ch.ALPN, ",")
		}
		ev["ja4"] = m.JA4
	}
	if sh := m.TLSServer; sh != nil {
		ev["tls_version"] = tls.VersionName(sh.Version)
		if c := sh.Cert; c != nil {
			ev["tls_cert_subject"] = certName(c.SubjectCN, c.SubjectO)
			ev["tls_cert_issuer"] = certName(c.IssuerCN, c.IssuerO)
		}
	}
	if r := m.HTTPReq; r != nil {
		if r.Host != "" {
			ev[report.EvHTTPHost] = r.Host
		}
		if r.UserAgent != "" {
			ev["http_user_agent"] = r.UserAgent
		}
	}
}

func certName(cn, o string) string {
	switch {
	case o == "":
		return "CN=" + cn
	case cn == "":
		return "O=" + o
	}
	return "CN=" + cn + ", O=" + o
}

func round3(x float64) float64 {
	return float64(int64(x*1000+0.5)) / 1000
}

// SnapLen is how many bytes of a frame the engine ever reads: the largest
// stream prefix it keeps (flow.ClientBytes, flow.ServerBytes) after the longest headers it
// decodes (Ethernet with QinQ tags or PPPoE, IPv6 with extension headers,
// TCP with options). A live capture has the kernel copy no more; counters
// take lengths from the IP headers, so findings are the same as from whole
// frames (TestSnapLenSameFindings).
const SnapLen = max(flow.ClientBytes, flow.ServerBytes) + 256
