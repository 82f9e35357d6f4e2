package tunnel

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/internal/vpnnames"
)

// vpnClientsTSV is the table of consumer VPN/proxy client programs with the
// provenance of each name (see the header of the file).
//
//go:embed vpnclients.tsv
var vpnClientsTSV []byte

// vpnClient is one row of vpnclients.tsv.
type vpnClient struct {
	Tool, Display, Category, Kind, Name, Provenance, Source string
}

// parseVPNClients parses the vpnclients.tsv format.
func parseVPNClients(b []byte) ([]vpnClient, error) {
	var out []vpnClient
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			return nil, fmt.Errorf("vpnclients line %d: want 7 tab-separated fields, got %d", i+1, len(f))
		}
		c := vpnClient{f[0], f[1], f[2], f[3], f[4], f[5], f[6]}
		switch {
		case c.Tool == "" || c.Name == "" || c.Source == "":
			return nil, fmt.Errorf("vpnclients line %d: empty tool, name or source", i+1)
		case c.Category != "vpn" && c.Category != "proxy":
			return nil, fmt.Errorf("vpnclients line %d: category %q is not vpn or proxy", i+1, c.Category)
		case c.Kind != "process" && c.Kind != "service" && c.Kind != "bundle":
			return nil, fmt.Errorf("vpnclients line %d: kind %q is not process, service or bundle", i+1, c.Kind)
		case c.Provenance != "verified" && c.Provenance != "from_writeups":
			return nil, fmt.Errorf("vpnclients line %d: provenance %q is not verified or from_writeups", i+1, c.Provenance)
		}
		out = append(out, c)
	}
	return out, nil
}

// vpnClients is the parsed embedded table; a broken table fails the tests.
var vpnClients, vpnClientsErr = parseVPNClients(vpnClientsTSV)

// consumerVPNFindings reports consumer VPN/proxy clients by process name,
// Windows service name or macOS bundle path, whether or not they hold a tun
// device. Astrill has its own rule (astrillFindings). Severity is medium when
// one of the tool's processes holds a tun device (connected), low otherwise.
func consumerVPNFindings(hostID string, v *procView, svcs []source.Service, ifs []Interface) []report.Finding {
	type hit struct {
		c                 vpnClient
		procs             []source.Process
		services, matched []string
		svcRunning        bool
	}
	hits := map[string]*hit{}
	get := func(c vpnClient) *hit {
		h := hits[c.Tool]
		if h == nil {
			h = &hit{c: c}
			hits[c.Tool] = h
		}
		return h
	}
	for _, p := range v.procs {
		names := procNames(p.Name, p.Exe)
		exe := "/" + strings.ToLower(strings.ReplaceAll(p.Exe, `\`, "/")) + "/"
		for _, c := range vpnClients {
			ok := false
			switch c.Kind {
			case "process":
				ok = contains(names, strings.ToLower(c.Name))
			case "bundle":
				ok = p.Exe != "" && strings.Contains(exe, "/"+strings.ToLower(c.Name)+"/")
			}
			if !ok {
				continue
			}
			h := get(c)
			if !procHasPID(h.procs, p.PID) {
				h.procs = append(h.procs, p)
			}
			m := c.Kind + ":" + c.Name + " (" + c.Provenance + ")"
			if !contains(h.matched, m) {
				h.matched = append(h.matched, m)
			}
		}
	}
	for _, s := range svcs {
		for _, c := range vpnClients {
			if c.Kind != "service" || !strings.EqualFold(s.Name, c.Name) {
				continue
			}
			h := get(c)
			h.services = append(h.services, fmt.Sprintf("%s (%s)", s.Name, s.State))
			h.svcRunning = h.svcRunning || s.State == source.StateRunning
			m := c.Kind + ":" + c.Name + " (" + c.Provenance + ")"
			if !contains(h.matched, m) {
				h.matched = append(h.matched, m)
			}
		}
	}
	tunOf := map[int32]string{}
	for _, ifc := range ifs {
		for _, o := range ifc.Owners {
			tunOf[o.PID] = ifc.Name
		}
	}
	tools := make([]string, 0, len(hits))
	for t := range hits {
		tools = append(tools, t)
	}
	sort.Strings(tools)
	var out []report.Finding
	for _, t := range tools {
		h := hits[t]
		cat := report.CategoryVPN
		if h.c.Category == "proxy" {
			cat = report.CategoryProxy
		}
		ev := map[string]any{"product": h.c.Display, "matched": h.matched}
		f := report.Finding{Rule: "tunnel.vpn.consumer_client", Category: cat, Tool: t, Confidence: 0.7, Severity: report.SeverityLow, Evidence: ev}
		if len(h.procs) > 0 {
			for k, x := range procEvidence(h.procs...) {
				ev[k] = x
			}
			f.Confidence = 0.8
		}
		if len(h.services) > 0 {
			ev["services"] = h.services
		}
		tun := ""
		for _, p := range h.procs {
			if tun = tunOf[p.PID]; tun != "" {
				break
			}
		}
		switch {
		case tun != "":
			ev["tun_interface"] = tun
			f.Severity = report.SeverityMedium
			f.Confidence = 0.9
			f.Summary = fmt.Sprintf("%s is connected: %s (pid %d) holds %s", h.c.Display, h.procs[0].Name, h.procs[0].PID, tun)
		case len(h.procs) > 0:
			f.Summary = fmt.Sprintf("%s client is running (%s, pid %d)", h.c.Display, h.procs[0].Name, h.procs[0].PID)
		case h.svcRunning:
			f.Summary = fmt.Sprintf("%s service is running: %s", h.c.Display, strings.Join(h.services, ", "))
		default:
			f.Summary = fmt.Sprintf("%s is installed: %s", h.c.Display, strings.Join(h.services, ", "))
		}
		f.ID = report.StableID(hostID, f.Rule, f.Tool, "consumer")
		out = append(out, f)
	}
	return out
}

func procHasPID(ps []source.Process, pid int32) bool {
	for _, p := range ps {
		if p.PID == pid {
			return true
		}
	}
	return false
}

// serverNameFindings reports processes whose command line names a server of
// a consumer VPN/proxy service from the shared list (internal/vpnnames):
// `openvpn --remote us1234.nordvpn.com 1194`, a proxy URL
// `http://user@gw.windscribe.com:8080`. Only the matched name is recorded,
// not the command line.
func serverNameFindings(hostID string, v *procView) []report.Finding {
	var out []report.Finding
	for _, p := range v.procs {
		seen := map[string]bool{}
		for _, a := range p.Cmdline {
			for _, tok := range strings.FieldsFunc(a, func(r rune) bool {
				return strings.ContainsRune(" \t=:/@,;\"'[]", r)
			}) {
				if !strings.Contains(tok, ".") || len(tok) > 253 {
					continue
				}
				e, ok := vpnnames.Match(tok)
				if !ok || seen[e.Tool] {
					continue
				}
				seen[e.Tool] = true
				cat := report.CategoryVPN
				if e.Category == string(report.CategoryProxy) {
					cat = report.CategoryProxy
				}
				ev := procEvidence(p)
				ev[report.EvServerName] = strings.ToLower(tok)
				ev["list_suffix"] = e.Suffix
				ev["product"] = e.Display
				f := report.Finding{
					Rule: "tunnel.vpn.server_name", Category: cat, Tool: e.Tool, Severity: report.SeverityMedium, Confidence: 0.75,
					Summary:  fmt.Sprintf("%s (pid %d) is pointed at a %s server: %s", p.Name, p.PID, e.Display, strings.ToLower(tok)),
					Evidence: ev,
				}
				f.ID = report.StableID(hostID, f.Rule, f.Tool, fmt.Sprint(p.PID))
				out = append(out, f)
			}
		}
	}
	return out
}
