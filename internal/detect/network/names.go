package network

import (
	"fmt"
	"slices"
	"strings"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/vpnnames"
)

// nameIndicator ties DNS/SNI name patterns to a tool. Facts from
// ../shared/data/net/indicators.tsv (ET Open, nDPI, LOLRMM).
type nameIndicator struct {
	tool, display string
	category      report.Category
	// suffixes match the name itself or any subdomain ("anydesk.com"
	// matches "relay-1.net.anydesk.com"); prefixes match the start of a
	// label sequence ("relay-" with a suffix is expressed as both).
	suffixes []string
	exclude  []string // exact names that are only the vendor's web site
	relayed  bool     // both ends dial out (remote-control through a relay)
	// webrtc tools carry their sessions over STUN/DTLS after these names.
	webrtc bool
}

var nameIndicators = []nameIndicator{
	{tool: "anydesk", display: "AnyDesk", category: report.CategoryRemoteAccess, suffixes: []string{"net.anydesk.com", "api.anydesk.com"}, relayed: true},
	{tool: "teamviewer", display: "TeamViewer", category: report.CategoryRemoteAccess, suffixes: []string{"teamviewer.com", "svc.frontlineworker.com"}, exclude: []string{"www.teamviewer.com", "teamviewer.com"}, relayed: true},
	{tool: "rustdesk", display: "RustDesk", category: report.CategoryRemoteAccess, suffixes: []string{"rustdesk.com"}, exclude: []string{"www.rustdesk.com", "rustdesk.com"}, relayed: true},
	{tool: "splashtop", display: "Splashtop", category: report.CategoryRemoteAccess, suffixes: []string{"splashtop.com", "splashtop.eu"}, exclude: []string{"www.splashtop.com"}, relayed: true},
	{tool: "screenconnect", display: "ScreenConnect", category: report.CategoryRemoteAccess, suffixes: []string{"screenconnect.com"}, exclude: []string{"www.screenconnect.com"}, relayed: true},
	{tool: "chrome-remote-desktop", display: "Chrome Remote Desktop", category: report.CategoryRemoteAccess, suffixes: []string{"remotedesktop-pa.googleapis.com", "remotedesktop.google.com", "chromoting-host.talkgadget.google.com", "chromoting-client.talkgadget.google.com", "chromoting-oauth.talkgadget.google.com"}, relayed: true, webrtc: true},
	{tool: "parsec", display: "Parsec", category: report.CategoryRemoteAccess, suffixes: []string{"parsec.app", "parsec.gg"}, exclude: []string{"www.parsec.app"}, relayed: true, webrtc: true},
	{tool: "logmein", display: "LogMeIn", category: report.CategoryRemoteAccess, suffixes: []string{"logmein.com", "logmeinrescue.com"}, exclude: []string{"www.logmein.com"}, relayed: true},
	{tool: "zoho-assist", display: "Zoho Assist", category: report.CategoryRemoteAccess, suffixes: []string{"zohoassist.com", "zohoassist.jp", "zohoassist.com.cn", "assist.zoho.com"}, relayed: true},
	{tool: "datto-rmm", display: "Datto RMM", category: report.CategoryRemoteAccess, suffixes: []string{"centrastage.net"}, relayed: true},
	{tool: "pulseway", display: "Pulseway", category: report.CategoryRemoteAccess, suffixes: []string{"pulseway.com"}, relayed: true},
	{tool: "getscreen", display: "Getscreen.me", category: report.CategoryRemoteAccess, suffixes: []string{"getscreen.me"}, relayed: true},
	{tool: "remote-utilities", display: "Remote Utilities", category: report.CategoryRemoteAccess, suffixes: []string{"remoteutilities.net"}, relayed: true},
	{tool: "ammyy", display: "Ammyy Admin", category: report.CategoryRemoteAccess, suffixes: []string{"rl.ammyy.com"}, relayed: true},
	{tool: "netsupport", display: "NetSupport Manager", category: report.CategoryRemoteAccess, suffixes: []string{"netsupportsoftware.com", "netsupportmanager.com"}, relayed: true},
	{tool: "ngrok", display: "ngrok", category: report.CategoryTunnel, suffixes: []string{"ngrok-agent.com", "ngrok.io", "ngrok.app", "ngrok-free.app", "ngrok-free.dev", "ngrok.dev", "ngrok.pizza"}},
	{tool: "cloudflared", display: "Cloudflare Tunnel (cloudflared)", category: report.CategoryTunnel, suffixes: []string{"argotunnel.com", "trycloudflare.com"}},
	{tool: "devtunnels", display: "Microsoft dev tunnels", category: report.CategoryTunnel, suffixes: []string{"devtunnels.ms", "rel.tunnels.api.visualstudio.com"}},
	{tool: "localtunnel", display: "localtunnel", category: report.CategoryTunnel, suffixes: []string{"localtunnel.me", "loca.lt"}},
	{tool: "serveo", display: "Serveo", category: report.CategoryTunnel, suffixes: []string{"serveo.net"}},
	{tool: "pagekite", display: "PageKite", category: report.CategoryTunnel, suffixes: []string{"pagekite.net"}},
	{tool: "tailscale", display: "Tailscale", category: report.CategoryVPN, suffixes: []string{"tailscale.com", "tailscale.io"}, exclude: []string{"www.tailscale.com", "tailscale.com"}},
	{tool: "zerotier", display: "ZeroTier", category: report.CategoryVPN, suffixes: []string{"zerotier.com"}, exclude: []string{"www.zerotier.com"}},
	{tool: "cloudflare-warp", display: "Cloudflare WARP", category: report.CategoryVPN, suffixes: []string{"cloudflareclient.com"}},
	{tool: "softether", display: "SoftEther / VPN Gate", category: report.CategoryVPN, suffixes: []string{"softether-network.net", "opengw.net"}},
	{tool: "protonvpn", display: "Proton VPN", category: report.CategoryVPN, suffixes: []string{"vpn-api.proton.me", "protonvpn.com", "protonvpn.net"}},
	{tool: "nordvpn", display: "NordVPN", category: report.CategoryVPN, suffixes: []string{"nordvpn.com", "nordvpn.net"}},
	{tool: "tunnelbear", display: "TunnelBear", category: report.CategoryVPN, suffixes: []string{"api.tunnelbear.com", "api.polargrizzly.com"}},
	{tool: "windscribe", display: "Windscribe", category: report.CategoryVPN, suffixes: []string{"windscribe.com", "whiskergalaxy.com"}},
	{tool: "mullvad", display: "Mullvad VPN", category: report.CategoryVPN, suffixes: []string{"mullvad.net"}},
	{tool: "hotspotshield", display: "Hotspot Shield", category: report.CategoryVPN, suffixes: []string{"northghost.com", "anchorfree.com", "anchorfree.net"}},
}

// vpnNamesTSV is the list of VPN and proxy service names from a
// maintained public list, shared with the tunnel detector (source and
// licence in the header of internal/vpnnames/vpnnames.tsv).
var vpnNamesTSV = vpnnames.TSV

func init() { nameIndicators = mergeNameList(nameIndicators, vpnNamesTSV) }

// mergeNameList adds the suffixes of a tool/display/category/suffix list
// to the indicators: to the tool's own entry when there is one, else as a
// new tool. Malformed lines are skipped (the list is embedded and tested).
func mergeNameList(inds []nameIndicator, list string) []nameIndicator {
	for _, line := range strings.Split(list, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 || !report.Category(f[2]).Valid() {
			continue
		}
		tool, display, cat, suffix := f[0], f[1], report.Category(f[2]), strings.ToLower(f[3])
		i := slices.IndexFunc(inds, func(n nameIndicator) bool { return n.tool == tool })
		if i < 0 {
			inds = append(inds, nameIndicator{tool: tool, display: display, category: cat})
			i = len(inds) - 1
		}
		if !slices.Contains(inds[i].suffixes, suffix) {
			inds[i].suffixes = append(inds[i].suffixes, suffix)
		}
	}
	return inds
}

// matchName returns the indicator for a DNS name, or nil. The longest
// matching suffix wins (secure.logmein.com is Hamachi, other logmein.com
// names LogMeIn).
func matchName(name string) *nameIndicator {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name == "" {
		return nil
	}
	var best *nameIndicator
	bestLen := 0
	for i := range nameIndicators {
		ind := &nameIndicators[i]
		excluded := false
		for _, x := range ind.exclude {
			if name == x {
				excluded = true
			}
		}
		if excluded {
			continue
		}
		for _, s := range ind.suffixes {
			if len(s) > bestLen && strings.HasSuffix(name, s) && (len(name) == len(s) || name[len(name)-len(s)-1] == '.') {
				best, bestLen = ind, len(s)
			}
		}
	}
	return best
}

// certIndicators are certificate organisations that name a tool.
// Each carries the category of what it names: a VPN's certificate is a
// VPN finding, not remote access.
// The VPN entries are nDPI's tls_certificate_match facts (see
// vpnnames.tsv for source and licence).
var certIndicators = []struct {
	org, cn, tool string
	category      report.Category
}{
	{org: "NoMachine", tool: "nomachine", category: report.CategoryRemoteAccess},
	{org: "LogMeIn, Inc.", tool: "logmein", category: report.CategoryRemoteAccess},
	{org: "Windscribe", tool: "windscribe", category: report.CategoryVPN},
	{org: "Private Internet Access", tool: "pia", category: report.CategoryVPN},
	{cn: "*.tunnelbear.com", tool: "tunnelbear", category: report.CategoryVPN},
	{cn: "cloudflareclient.com", tool: "cloudflare-warp", category: report.CategoryVPN},
}

// namesAnalyzer: the flow's TLS SNI, HTTP Host, certificate or the DNS
// name the capture resolved for its server matches a tool's names.
var namesAnalyzer = analyzer{
	name: "names",
	classify: func(c *classCtx) {
		m := c.m
		type cand struct{ name, via string }
		var cands []cand
		if m.TLSClient != nil && m.TLSClient.SNI != "" {
			cands = append(cands, cand{m.TLSClient.SNI, "TLS SNI"})
		}
		if m.HTTPReq != nil && m.HTTPReq.Host != "" {
			h := m.HTTPReq.Host
			if i := strings.LastIndexByte(h, ':'); i > 0 && !strings.Contains(h[i:], "]") {
				h = h[:i]
			}
			cands = append(cands, cand{h, "HTTP Host"})
		}
		if m.HTTPReq != nil && m.HTTPReq.Method == "CONNECT" {
			h := m.HTTPReq.Target
			if i := strings.LastIndexByte(h, ':'); i > 0 {
				h = h[:i]
			}
			cands = append(cands, cand{h, "HTTP CONNECT target"})
		}
		if c.f.ServerName != "" {
			cands = append(cands, cand{c.f.ServerName, "DNS answer for the server address"})
		}
		for _, cd := range cands {
			ind := matchName(cd.name)
			if ind == nil || c.claimed(ind.tool) {
				continue
			}
			emitNamed(c, ind, fmt.Sprintf("%s %s", cd.via, cd.name))
			return
		}
		if m.HTTPReq != nil && m.HTTPReq.UserAgent != "" {
			ua := m.HTTPReq.UserAgent
			for _, u := range userAgents {
				if strings.Contains(ua, u.contains) && !c.claimed(u.tool) {
					if ind := indicatorByTool(u.tool); ind != nil {
						emitNamed(c, ind, "HTTP User-Agent "+ua)
						return
					}
				}
			}
		}
		if m.TLSServer != nil && m.TLSServer.Cert != nil {
			for _, ci := range certIndicators {
				cert := m.TLSServer.Cert
				if (ci.org != "" && cert.SubjectO != ci.org) || (ci.cn != "" && cert.SubjectCN != ci.cn) || c.claimed(ci.tool) {
					continue
				}
				what := "TLS certificate O=" + ci.org
				if ci.cn != "" {
					what = "TLS certificate CN=" + ci.cn
				}
				if ind := indicatorByTool(ci.tool); ind != nil && ind.category == ci.category {
					emitNamedConf(c, ind, what, 0.8)
				} else {
					emitRemoteTool(c, ci.tool, ci.org, true, what, 0.8)
				}
				return
			}
		}
		if m.JA4 != "" {
			if t, ok := ja4Tools[m.JA4]; ok && !c.claimed(t) {
				if ind := indicatorByTool(t); ind != nil {
					emitNamed(c, ind, "JA4 "+m.JA4)
				}
			}
		}
	},
}

// userAgents name tools by their HTTP User-Agent (ET Open sids 2027762,
// 2009475, 2035892).
var userAgents = []struct{ contains, tool string }{
	{"AnyDesk", "anydesk"},
	{"DynGate", "teamviewer"},
	{"NetSupport Manager", "netsupport"},
}

// ja4Tools are JA4 client fingerprints specific enough to name a tool
// (indicators.tsv; FoxIO ja4plus-mapping).
var ja4Tools = map[string]string{
	"t13d880900_fcb5b95cb75a_b0d3b4ac2a14": "softether",
	"t13i880900_fcb5b95cb75a_b0d3b4ac2a14": "softether",
}

func indicatorByTool(tool string) *nameIndicator {
	for i := range nameIndicators {
		if nameIndicators[i].tool == tool {
			return &nameIndicators[i]
		}
	}
	return nil
}

func emitNamed(c *classCtx, ind *nameIndicator, what string) { emitNamedConf(c, ind, what, 0.85) }

// emitNamedConf reports a name or certificate match with the category of
// the tool it named.
func emitNamedConf(c *classCtx, ind *nameIndicator, what string, conf float64) {
	if ind.category == report.CategoryRemoteAccess {
		emitRemoteTool(c, ind.tool, ind.display, ind.relayed, what, conf)
		return
	}
	sev := report.SeverityMedium
	rule := "network." + ind.tool + ".session"
	c.emit(result{Rule: rule, Tool: ind.tool, Category: ind.category, Severity: sev, Conf: conf, Matched: what,
		Summary: fmt.Sprintf("%s connection from %s to %s.", ind.display, c.f.Client.Addr, c.f.Server)})
}
