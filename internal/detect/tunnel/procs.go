package tunnel

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// proxyServers are programs whose listening sockets serve as SOCKS/HTTP
// proxies or traffic relays for whoever connects.
var proxyServers = map[string]string{
	"danted": "dante", "sockd": "dante", "3proxy": "3proxy", "squid": "squid",
	"tinyproxy": "tinyproxy", "microsocks": "microsocks", "privoxy": "privoxy",
	"polipo": "polipo", "gost": "gost", "glider": "glider", "ss-server": "shadowsocks",
	"ss-local": "shadowsocks", "sslocal": "shadowsocks", "ssserver": "shadowsocks",
	"v2ray": "v2ray", "xray": "xray", "trojan": "trojan", "trojan-go": "trojan",
	"brook": "brook", "redsocks": "redsocks", "sing-box": "sing-box", "hysteria": "hysteria",
	"ccproxy": "ccproxy", "rinetd": "rinetd",
}

// astrillProcs are Astrill VPN program names (see docs/tunnel.md for which
// are corroborated and which inferred).
var astrillProcs = map[string]bool{"astrill": true, "asovpnc": true, "aswgvpnc": true, "asproxy": true}

// vpnOwners maps programs holding a tun device open to the tool.
var vpnOwners = map[string]string{
	"openvpn": "openvpn", "asovpnc": "astrill-vpn", "aswgvpnc": "astrill-vpn", "astrill": "astrill-vpn",
	"tailscaled": "tailscale", "zerotier-one": "zerotier", "netbird": "netbird", "wireguard-go": "wireguard",
	"boringtun": "wireguard", "boringtun-cli": "wireguard", "openconnect": "openconnect", "nordvpnd": "nordvpn",
	"expressvpnd": "expressvpn", "vpnc": "vpnc", "openfortivpn": "forticlient", "sing-box": "sing-box",
	"xray": "xray", "v2ray": "v2ray", "tun2socks": "tun2socks", "hysteria": "hysteria", "warp-svc": "cloudflare-warp",
}

type procView struct {
	procs    []source.Process
	byPID    map[int32][]source.Connection
	children map[int32][]source.Process
}

func newProcView(procs []source.Process, conns []source.Connection) *procView {
	v := &procView{procs: procs, byPID: map[int32][]source.Connection{}, children: map[int32][]source.Process{}}
	for _, c := range conns {
		v.byPID[c.PID] = append(v.byPID[c.PID], c)
	}
	for _, p := range procs {
		if p.PPID != p.PID {
			v.children[p.PPID] = append(v.children[p.PPID], p)
		}
	}
	return v
}

func loopback(a string) bool {
	if strings.EqualFold(a, "localhost") {
		return true
	}
	ad, err := netip.ParseAddr(strings.Trim(a, "[]"))
	return err == nil && ad.Unmap().IsLoopback()
}

func sockStr(proto, addr string, port uint32) string {
	if addr == "" {
		addr = "*"
	}
	return fmt.Sprintf("%s/%s", proto, net.JoinHostPort(addr, fmt.Sprint(port)))
}

// exposure is what a process's listening sockets show.
type exposure struct {
	listening    []string
	inbound      []string
	outbound     []string
	exposed      bool // bound beyond loopback
	remotePeers  bool // an inbound peer that is not loopback
	listenerPort map[uint32]bool
}

// listenersOf collects the TCP listeners of p and the inbound connections
// to them, held by p or by its children of the same program (socat and
// sshd fork per connection).
func (v *procView) listenersOf(p source.Process, skip func(source.Connection) bool) exposure {
	e := exposure{listenerPort: map[uint32]bool{}}
	for _, c := range v.byPID[p.PID] {
		if (c.Proto != "tcp" && c.Proto != "udp") || !c.Listening() || (skip != nil && skip(c)) {
			continue
		}
		e.listening = append(e.listening, sockStr(c.Proto, c.LAddr, c.LPort))
		if c.Proto == "tcp" {
			e.listenerPort[c.LPort] = true
		}
		if !loopback(c.LAddr) {
			e.exposed = true
		}
	}
	if len(e.listening) == 0 {
		return e
	}
	holders := []source.Process{p}
	for _, ch := range v.children[p.PID] {
		if ch.Name == p.Name {
			holders = append(holders, ch)
		}
	}
	seen := map[string]bool{}
	for _, h := range holders {
		for _, c := range v.byPID[h.PID] {
			if c.Proto != "tcp" || !c.Established() {
				continue
			}
			if !e.listenerPort[c.LPort] {
				o := fmt.Sprintf("to %s", net.JoinHostPort(c.RAddr, fmt.Sprint(c.RPort)))
				if !contains(e.outbound, o) && len(e.outbound) < 100 {
					e.outbound = append(e.outbound, o)
				}
				continue
			}
			s := fmt.Sprintf("%s from %s", sockStr(c.Proto, c.LAddr, c.LPort), net.JoinHostPort(c.RAddr, fmt.Sprint(c.RPort)))
			if seen[s] {
				continue
			}
			seen[s] = true
			e.inbound = append(e.inbound, s)
			if !loopback(c.RAddr) {
				e.remotePeers = true
			}
		}
	}
	sort.Strings(e.listening)
	sort.Strings(e.inbound)
	sort.Strings(e.outbound)
	return e
}

func procEvidence(ps ...source.Process) map[string]any {
	p := ps[0]
	pids := make([]int32, 0, len(ps))
	for _, q := range ps {
		pids = append(pids, q.PID)
	}
	ev := map[string]any{"pids": pids, "name": p.Name, "path": p.Exe, "cmdline": redactArgs(p.Cmdline)}
	if p.Username != "" {
		ev["users"] = []string{p.Username}
	}
	return ev
}

// relayFinding builds a relay/proxy finding from a listener exposure.
func relayFinding(hostID, rule string, cat report.Category, tool string, p source.Process, e exposure, what string, extra map[string]any) report.Finding {
	ev := procEvidence(p)
	ev["listening"] = e.listening
	if len(e.inbound) > 0 {
		ev[report.EvInboundConnections] = e.inbound
	}
	if len(e.outbound) > 0 {
		ev["outbound_connections"] = e.outbound
	}
	ev["bound_beyond_loopback"] = e.exposed
	ev["remote_peers"] = e.remotePeers
	for k, v := range extra {
		ev[k] = v
	}
	sev := report.SeverityLow
	why := "loopback only"
	switch {
	case e.remotePeers:
		sev, why = report.SeverityMedium, "used by other hosts"
	case e.exposed:
		sev, why = report.SeverityMedium, "reachable from other hosts"
	}
	f := report.Finding{
		Rule: rule, Category: cat, Tool: tool, Severity: sev, Confidence: 0.9, Evidence: ev,
		Summary: fmt.Sprintf("%s (pid %d) listens on %s, %s", what, p.PID, strings.Join(e.listening, ", "), why),
	}
	if len(e.inbound) > 0 {
		f.Summary += "; inbound " + strings.Join(e.inbound, ", ")
	}
	f.ID = report.StableID(hostID, rule, tool, p.Exe+"|"+strings.Join(e.listening, ","))
	return f
}

// sshdSession reports whether p is an OpenSSH per-connection server
// process ("sshd: user@notty", or sshd-session since OpenSSH 9.8).
func sshdSession(p source.Process, names []string) bool {
	if contains(names, "sshd-session") || contains(names, "sshd-auth") {
		return true
	}
	// OpenSSH 9.x titles its listening daemon "sshd: /usr/sbin/sshd -D
	// [listener] 0 of 10-100 startups": not a session.
	return contains(names, "sshd") && len(p.Cmdline) > 0 && strings.HasPrefix(p.Cmdline[0], "sshd:") &&
		!strings.Contains(p.Cmdline[0], "[listener]")
}

// x11Forward reports an sshd X11 forwarding listener (display 10+).
func x11Forward(c source.Connection) bool { return c.LPort >= 6010 && c.LPort < 6100 }

// relayFindings reports processes listening for others: proxies, socat and
// ncat relays, ssh dynamic/local forwards, sshd remote-forward listeners,
// chisel and frp servers.
func relayFindings(hostID string, v *procView) []report.Finding {
	var out []report.Finding
	for _, p := range v.procs {
		names := procNames(p.Name, p.Exe)
		has := func(ns ...string) bool {
			for _, n := range ns {
				if contains(names, n) {
					return true
				}
			}
			return false
		}
		switch {
		case has("socat"):
			listen, target, ok := socatAddrs(p.Cmdline)
			kind := socatTargetKind(target)
			if !ok || kind == "" {
				continue
			}
			e := v.listenersOf(p, nil)
			if len(e.listening) == 0 {
				continue
			}
			what := "socat relay " + listen + " → " + target
			if kind == "program" {
				what = "socat serves a program to the network: " + listen + " → " + target
			}
			out = append(out, relayFinding(hostID, "tunnel.relay.listener", report.CategoryRelay, "socat", p, e, what,
				map[string]any{"listen_spec": listen, "forward_to": target, "forward_kind": kind}))
		case has("ncat", "nc", "netcat", "nc.traditional", "nc.openbsd"):
			target := flagValue(p.Cmdline, "--sh-exec", "-c", "-e", "--exec", "--lua-exec")
			ptype := flagValue(p.Cmdline, "--proxy-type")
			if target == "" && ptype == "" {
				continue
			}
			e := v.listenersOf(p, nil)
			if len(e.listening) == 0 {
				continue
			}
			extra := map[string]any{}
			what := "netcat relay to " + target
			if target != "" {
				extra["forward_to"] = target
			}
			if ptype != "" {
				extra["proxy_type"] = ptype
				what = "ncat " + ptype + " proxy"
			}
			out = append(out, relayFinding(hostID, "tunnel.relay.listener", report.CategoryRelay, "ncat", p, e, what, extra))
		case sshdSession(p, names):
			e := v.listenersOf(p, func(c source.Connection) bool { return loopback(c.LAddr) && x11Forward(c) })
			if len(e.listening) == 0 {
				continue
			}
			out = append(out, relayFinding(hostID, "tunnel.relay.ssh_remote_forward", report.CategoryRelay, "ssh", p, e,
				"sshd session holds a remote (-R) forward listener", map[string]any{"side": "server"}))
		case has("ssh", "autossh", "dbclient", "plink"):
			fw := sshForwards(p.Cmdline)
			if len(fw.Dynamic) == 0 && len(fw.Local) == 0 {
				continue
			}
			e := v.listenersOf(p, nil)
			if len(e.listening) == 0 {
				continue
			}
			extra := map[string]any{"side": "client", "gateway_ports": fw.Gateway}
			what := "ssh local forward"
			cat := report.CategoryRelay
			if len(fw.Dynamic) > 0 {
				extra["dynamic_forwards"] = fw.Dynamic
				what, cat = "ssh SOCKS proxy (-D)", report.CategoryProxy
			}
			if len(fw.Local) > 0 {
				extra["local_forwards"] = fw.Local
			}
			out = append(out, relayFinding(hostID, "tunnel.relay.ssh_forward", cat, "ssh", p, e, what, extra))
		case has("chisel") && len(positionals(p.Cmdline, nil)) > 0 && positionals(p.Cmdline, nil)[0] == "server":
			e := v.listenersOf(p, nil)
			if len(e.listening) == 0 {
				continue
			}
			out = append(out, relayFinding(hostID, "tunnel.relay.listener", report.CategoryRelay, "chisel", p, e,
				"chisel server", map[string]any{"reverse": hasFlag(p.Cmdline, "--reverse"), "socks5": hasFlag(p.Cmdline, "--socks5")}))
		case has("frps"):
			e := v.listenersOf(p, nil)
			if len(e.listening) == 0 {
				continue
			}
			out = append(out, relayFinding(hostID, "tunnel.relay.listener", report.CategoryRelay, "frp", p, e, "frp server (frps)", nil))
		default:
			tool := ""
			for _, n := range names {
				if t, ok := proxyServers[n]; ok {
					tool = t
					break
				}
			}
			if tool == "" {
				continue
			}
			// Forked workers of the same proxy are covered by the parent.
			if parentSame(v, p) {
				continue
			}
			e := v.listenersOf(p, nil)
			if len(e.listening) == 0 {
				continue
			}
			out = append(out, relayFinding(hostID, "tunnel.proxy.server", report.CategoryProxy, tool, p, e, tool+" proxy server", nil))
		}
	}
	return out
}

func parentSame(v *procView, p source.Process) bool {
	for _, q := range v.procs {
		if q.PID == p.PPID && q.Name == p.Name && len(v.listenersOf(q, nil).listening) > 0 {
			return true
		}
	}
	return false
}

// tunnelClient is what a tunnel client's command line says.
type tunnelClient struct {
	tool, mode, local, server, public string
	remotes                           []string
	config                            string
	usesToken                         bool
}

var ngrokValueFlags = map[string]bool{
	"--config": true, "--authtoken": true, "--log": true, "--region": true, "--url": true, "--domain": true,
	"--hostname": true, "--subdomain": true, "--remote-addr": true, "--basic-auth": true, "--oauth": true,
	"--host-header": true, "--traffic-policy-file": true, "--log-level": true, "--log-format": true,
	"--proto": true, "--scheme": true, "--label": true, "--api-key": true, "--metadata": true, "--description": true,
}

// parseTunnelClient recognises tunnel clients by program name and reads
// their command line; ok=false for other programs or idle invocations
// (help, version, config edits).
func parseTunnelClient(names []string, args []string) (tunnelClient, bool) {
	has := func(n string) bool { return contains(names, n) }
	pos := positionals(args, nil)
	switch {
	case has("ngrok"):
		pos = positionals(args, ngrokValueFlags)
		if len(pos) == 0 {
			return tunnelClient{}, false
		}
		t := tunnelClient{tool: "ngrok", mode: pos[0], config: flagValue(args, "--config")}
		switch pos[0] {
		case "http", "tcp", "tls":
			if len(pos) > 1 {
				t.local = pos[1]
			}
		case "start", "tunnel", "service":
			if len(pos) > 1 {
				t.remotes = pos[1:]
			}
		default:
			return tunnelClient{}, false
		}
		t.public = flagValue(args, "--url", "--domain", "--hostname", "--subdomain", "--remote-addr")
		t.usesToken = hasFlag(args, "--authtoken")
		return t, true
	case has("cloudflared"):
		vf := map[string]bool{"--url": true, "--token": true, "--hostname": true, "--config": true, "--loglevel": true, "--logfile": true, "--name": true, "--credentials-file": true, "--protocol": true, "--metrics": true, "--edge-ip-version": true}
		pos = positionals(args, vf)
		if len(pos) > 0 && (pos[0] == "update" || pos[0] == "version" || pos[0] == "proxy-dns" || pos[0] == "login") {
			return tunnelClient{}, false
		}
		t := tunnelClient{tool: "cloudflared", mode: strings.Join(pos, " "), local: flagValue(args, "--url"),
			public: flagValue(args, "--hostname"), config: flagValue(args, "--config")}
		t.usesToken = hasFlag(args, "--token") || (len(pos) >= 3 && pos[0] == "service" && pos[1] == "install")
		if t.mode == "" {
			t.mode = "tunnel"
		}
		return t, true
	case has("code") || has("code-insiders") || has("code-tunnel"):
		if len(pos) == 0 || pos[0] != "tunnel" {
			return tunnelClient{}, false
		}
		return tunnelClient{tool: "vscode-tunnel", mode: strings.Join(pos, " "), public: flagValue(args, "--name")}, true
	case has("devtunnel"):
		if len(pos) == 0 || pos[0] != "host" {
			return tunnelClient{}, false
		}
		return tunnelClient{tool: "vscode-tunnel", mode: "devtunnel host", local: flagValue(args, "-p", "--port-numbers")}, true
	case has("frpc"):
		t := tunnelClient{tool: "frp", mode: "client", config: flagValue(args, "-c", "--config")}
		if len(pos) > 0 {
			t.mode = "client " + pos[0]
		}
		t.server = flagValue(args, "-s", "--server_addr", "--server-addr")
		if lp := flagValue(args, "-l", "--local_port", "--local-port"); lp != "" {
			t.local = net.JoinHostPort(nonEmpty(flagValue(args, "-i", "--local_ip", "--local-ip"), "127.0.0.1"), lp)
		}
		if rp := flagValue(args, "-r", "--remote_port", "--remote-port"); rp != "" {
			t.remotes = append(t.remotes, "remote port "+rp)
		}
		return t, true
	case has("chisel"):
		vf := map[string]bool{"--auth": true, "--fingerprint": true, "--keepalive": true, "--proxy": true, "--hostname": true, "--header": true, "--tls-ca": true, "--tls-cert": true, "--tls-key": true, "--max-retry-count": true, "--max-retry-interval": true, "--sni": true}
		pos = positionals(args, vf)
		if len(pos) < 2 || pos[0] != "client" {
			return tunnelClient{}, false
		}
		return tunnelClient{tool: "chisel", mode: "client", server: pos[1], remotes: pos[2:], usesToken: hasFlag(args, "--auth")}, true
	case has("bore"):
		if len(pos) < 2 || pos[0] != "local" {
			return tunnelClient{}, false
		}
		t := tunnelClient{tool: "bore", mode: "local", local: pos[1], server: flagValue(args, "--to", "-t")}
		if rp := flagValue(args, "--port", "-p"); rp != "" {
			t.remotes = []string{"remote port " + rp}
		}
		return t, true
	case has("zrok"):
		if len(pos) < 2 || pos[0] != "share" {
			return tunnelClient{}, false
		}
		t := tunnelClient{tool: "zrok", mode: "share " + pos[1]}
		if len(pos) > 2 {
			t.local = pos[2]
		}
		return t, true
	}
	return tunnelClient{}, false
}

// frpConfig reads the relay server, the proxies and their local targets
// ("127.0.0.1:3389") from an frpc configuration (TOML or the legacy INI
// form), by key, without a full parser.
func frpConfig(b []byte) (server string, proxies, locals []string) {
	var addr, port string
	var cur map[string]string
	flush := func() {
		if cur == nil {
			return
		}
		p := nonEmpty(cur["name"], "proxy")
		if t := cur["type"]; t != "" {
			p += " " + t
		}
		if lp := cur["localport"]; lp != "" {
			l := net.JoinHostPort(nonEmpty(cur["localip"], "127.0.0.1"), lp)
			p += " local " + l
			if len(locals) < 100 {
				locals = append(locals, l)
			}
		}
		if rp := cur["remoteport"]; rp != "" {
			p += " → remote port " + rp
		}
		if d := cur["customdomains"]; d != "" {
			p += " → " + d
		}
		if len(proxies) < 100 {
			proxies = append(proxies, p)
		}
		cur = nil
	}
	for _, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			flush()
			sec := strings.Trim(line, "[] ")
			if sec != "common" && sec != "auth" && sec != "transport" && sec != "log" && sec != "webServer" {
				cur = map[string]string{}
				if sec != "proxies" && sec != "visitors" {
					cur["name"] = sec
				}
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(k), "_", ""))
		v = strings.Trim(strings.TrimSpace(v), `"'[]`)
		switch k {
		case "serveraddr":
			addr = v
		case "serverport":
			port = v
		}
		if cur != nil {
			cur[k] = v
		}
	}
	flush()
	if addr != "" {
		server = addr
		if port != "" {
			server = net.JoinHostPort(addr, port)
		}
	}
	return server, proxies, locals
}

// tunnelClientFindings reports tunnel clients with what they expose.
func tunnelClientFindings(hostID, root string, snapshot bool, v *procView) []report.Finding {
	type agg struct {
		t     tunnelClient
		procs []source.Process
	}
	var order []string
	groups := map[string]*agg{}
	for _, p := range v.procs {
		t, ok := parseTunnelClient(procNames(p.Name, p.Exe), p.Cmdline)
		if !ok {
			continue
		}
		if t.tool == "frp" && t.config != "" && !snapshot {
			cfg := t.config
			if !filepath.IsAbs(cfg) {
				cfg = "" // relative to the process's cwd: unknown
			}
			if cfg != "" {
				if b, err := readFileLimited(filepath.Join(root, cfg)); err == nil && b != nil {
					srv, px, _ := frpConfig(b)
					t.server = nonEmpty(t.server, srv)
					t.remotes = append(t.remotes, px...)
				}
			}
		}
		key := t.tool + "|" + strings.Join(redactArgs(p.Cmdline), " ")
		g := groups[key]
		if g == nil {
			g = &agg{t: t}
			groups[key] = g
			order = append(order, key)
		}
		g.procs = append(g.procs, p)
	}
	var out []report.Finding
	for _, key := range order {
		g := groups[key]
		t := g.t
		ev := procEvidence(g.procs...)
		ev["mode"] = t.mode
		set := func(k, v string) {
			if v != "" {
				ev[k] = v
			}
		}
		set("local_target", t.local)
		set("relay_server", t.server)
		set("public_endpoint", redactURL(t.public))
		set("config", t.config)
		if len(t.remotes) > 0 {
			ev["forwards"] = t.remotes
		}
		if t.usesToken {
			ev["uses_token"] = true
		}
		var outbound []string
		for _, p := range g.procs {
			for _, c := range v.byPID[p.PID] {
				if c.Established() && !loopback(c.RAddr) {
					outbound = append(outbound, net.JoinHostPort(c.RAddr, fmt.Sprint(c.RPort)))
				}
			}
		}
		if len(outbound) > 0 {
			sort.Strings(outbound)
			ev[report.EvConnectedTo] = outbound
		}
		what := fmt.Sprintf("%s tunnel client (pid %d) runs %q", t.tool, g.procs[0].PID, t.mode)
		switch {
		case t.local != "" && t.server != "":
			what += fmt.Sprintf(", exposing %s through %s", t.local, t.server)
		case t.local != "":
			what += ", exposing " + t.local
		case t.server != "":
			what += ", relayed through " + t.server
		}
		if t.public != "" {
			what += " at " + redactURL(t.public)
		}
		if len(t.remotes) > 0 {
			what += " (" + strings.Join(t.remotes, ", ") + ")"
		}
		f := report.Finding{
			Rule: "tunnel.client.forward", Category: report.CategoryTunnel, Tool: t.tool,
			Severity: report.SeverityMedium, Confidence: 0.9, Evidence: ev, Summary: what,
		}
		f.ID = report.StableID(hostID, f.Rule, f.Tool, key)
		out = append(out, f)
	}
	return out
}

// astrillPaths are files that show Astrill VPN is installed, per OS.
var astrillPaths = map[string][]string{
	"windows": {`C:\Windows\System32\ASProxy64.dll`, `C:\Windows\SysWOW64\ASProxy.dll`, `C:\Program Files (x86)\Astrill\astrill.exe`, `C:\Program Files\Astrill\astrill.exe`},
	"linux":   {"/usr/local/Astrill/astrill", "/usr/local/Astrill/asovpnc", "/usr/local/Astrill/asproxy", "/lib/systemd/system/astrill-reconnect.service", "/usr/lib/systemd/system/astrill-reconnect.service", "/etc/systemd/system/astrill-reconnect.service"},
	"darwin":  {"/Applications/Astrill.app"},
}

// existingToolFiles checks astrillPaths under root (live hosts).
func existingToolFiles(root, hostOS string) []string {
	var out []string
	for _, p := range astrillPaths[hostOS] {
		lp := p
		if hostOS == "windows" {
			lp = filepath.FromSlash(strings.ReplaceAll(p, `\`, "/"))
			if root != "" && root != "/" && root != `\` {
				lp = filepath.Join(root, lp[len(filepath.VolumeName(lp)):])
			}
		} else {
			lp = filepath.Join(root, p)
		}
		if _, err := os.Stat(lp); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func astrillExe(exe string) bool {
	e := strings.ToLower(strings.ReplaceAll(exe, `\`, "/"))
	return strings.Contains(e, "/astrill/") || strings.Contains(e, "/astrill.app/")
}

// astrillFindings reports Astrill VPN: its processes, services and files.
func astrillFindings(hostID string, v *procView, svcs []source.Service, files []string) []report.Finding {
	var ps []source.Process
	for _, p := range v.procs {
		for _, n := range procNames(p.Name, p.Exe) {
			if astrillProcs[n] || (astrillExe(p.Exe) && n != "") {
				ps = append(ps, p)
				break
			}
		}
	}
	var svcNames []string
	svcRunning := false
	for _, s := range svcs {
		if strings.Contains(strings.ToLower(s.Name+" "+s.DisplayName+" "+s.Path), "astrill") {
			svcNames = append(svcNames, fmt.Sprintf("%s (%s)", s.Name, s.State))
			if s.State == source.StateRunning {
				svcRunning = true
			}
		}
	}
	var hostFiles []string
	for _, f := range files {
		for _, p := range astrillPaths {
			if contains(p, f) {
				hostFiles = append(hostFiles, f)
			}
		}
	}
	if len(ps) == 0 && len(svcNames) == 0 && len(hostFiles) == 0 {
		return nil
	}
	ev := map[string]any{"product": "Astrill VPN"}
	if len(ps) > 0 {
		for k, x := range procEvidence(ps...) {
			ev[k] = x
		}
		var names []string
		for _, p := range ps {
			if !contains(names, p.Name) {
				names = append(names, p.Name)
			}
		}
		ev["process_names"] = names
	}
	if len(svcNames) > 0 {
		ev["services"] = svcNames
	}
	if len(hostFiles) > 0 {
		ev["files"] = hostFiles
	}
	f := report.Finding{
		Rule: "tunnel.vpn.astrill", Category: report.CategoryVPN, Tool: "astrill-vpn", Confidence: 0.8, Evidence: ev,
	}
	switch {
	case len(ps) > 0:
		f.Severity = report.SeverityMedium
		f.Summary = fmt.Sprintf("Astrill VPN is running (pid %d, %s)", ps[0].PID, ps[0].Name)
	case svcRunning:
		f.Severity = report.SeverityMedium
		f.Summary = "Astrill VPN service is running: " + strings.Join(svcNames, ", ")
	default:
		f.Severity = report.SeverityLow
		f.Summary = "Astrill VPN is installed: " + strings.Join(append(svcNames, hostFiles...), ", ")
	}
	f.ID = report.StableID(hostID, f.Rule, f.Tool, "astrill")
	return []report.Finding{f}
}

// listenerOn names the process listening on a TCP port ("name (pid N)").
func (v *procView) listenerOn(port string) string {
	for _, p := range v.procs {
		for _, c := range v.byPID[p.PID] {
			if c.Proto == "tcp" && c.Listening() && fmt.Sprint(c.LPort) == port {
				return fmt.Sprintf("%s (pid %d)", p.Name, p.PID)
			}
		}
	}
	return ""
}
