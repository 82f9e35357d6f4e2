package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/correlate"
	"github.com/farmwatch/farmwatch/internal/collector/risk"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

// maxReasons is how many risk reasons a host row shows.
const maxReasons = 3

// hostRef names a host for a link.
type hostRef struct {
	ID    string
	Label string
}

// shareRef is another host a host shares infrastructure with, and what.
type shareRef struct {
	Host hostRef
	What []string
}

// hostRow is a host as the host list and the fleet view show it.
type hostRow struct {
	store.Host
	Label   string
	Silent  bool // an open host_silent alert
	Stopped bool // the agent said it stopped or was uninstalled
	Reasons []risk.Contribution
	More    int // reasons not shown
	Shares  []shareRef
	Farm    int // the farm's number on the fleet page, 0 for none
	// Person is whom the imported inventory says the host is issued to,
	// Expected where they are expected to be ("" without a matching row).
	Person, Expected string
}

// linkRow is one shared piece of infrastructure, described for people.
type linkRow struct {
	store.Link
	What  string
	Hosts []hostRef
}

// farmView is one farm: hosts joined by open correlation alerts.
type farmView struct {
	N        int
	Severity report.Severity
	Since    time.Time
	Updated  time.Time
	Kinds    []string
	Alerts   []alertRow
	Links    []linkRow
	Hosts    []hostRow
}

// alertRow is an alert with its hosts named and when its cause was last
// seen.
type alertRow struct {
	store.Alert
	HostRefs []hostRef
	LastSeen time.Time
}

// fleetData is what the fleet view, the host list and the alerts page
// share: every host and the farms the open correlation alerts make.
type fleetData struct {
	Hosts []hostRow
	Farms []farmView
	byID  map[string]*hostRow
}

func label(h store.Host) string {
	if h.Name != "" {
		return h.Name
	}
	return h.ID
}

func (d *fleetData) ref(id string) hostRef {
	if h, ok := d.byID[id]; ok {
		return hostRef{ID: id, Label: h.Label}
	}
	return hostRef{ID: id, Label: id}
}

func (d *fleetData) refs(ids []string) []hostRef {
	out := make([]hostRef, 0, len(ids))
	for _, id := range ids {
		out = append(out, d.ref(id))
	}
	return out
}

// describeLink names what links hosts: the indicator in the correlation
// vocabulary, or the (hashed) network.
func describeLink(l store.Link, tool string) string {
	short := shortHash
	switch l.Kind {
	case report.NetGateway:
		return "default gateway (MAC hash " + short(l.Value) + ")"
	case report.NetBSSID:
		return "Wi-Fi access point (BSSID hash " + short(l.Value) + ")"
	case report.NetLAN:
		return "MAC on their LAN (hash " + short(l.Value) + ")"
	case report.NetEgress:
		return "public address " + l.Value
	case correlate.KindRemoteID:
		if _, v, ok := strings.Cut(l.Value, ":"); ok && tool != "" {
			return correlate.Describe(l.Kind, v, tool)
		}
	}
	return correlate.Describe(l.Kind, l.Value, tool)
}

// shortHash abbreviates a keyed network hash for display.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// shortLink names a link in a few words for the host list.
func shortLink(l store.Link, tool string) string {
	switch l.Kind {
	case report.NetGateway:
		return "gateway"
	case report.NetBSSID:
		return "Wi-Fi AP"
	case report.NetLAN:
		return "LAN MAC"
	case report.NetEgress:
		return "egress " + l.Value
	}
	return describeLink(l, tool)
}

// alertKindName is an alert kind for people.
func alertKindName(a store.Alert) string {
	switch a.Kind {
	case store.AlertSharedInfra:
		kind, _, _ := strings.Cut(strings.TrimPrefix(a.DedupKey, "shared:"), ":")
		switch kind {
		case correlate.KindUSBSerial, correlate.KindEDIDSerial:
			return "shared KVM"
		case correlate.KindPeer:
			return "shared peer"
		case correlate.KindRelay:
			return "shared relay"
		case correlate.KindRemoteID:
			return "shared remote-desktop id"
		}
		return "shared infrastructure"
	case store.AlertCoLocation:
		return "co-location"
	case store.AlertHostSilent:
		return "host silent"
	case store.AlertAgentStopped:
		return "agent stopped"
	}
	return strings.ReplaceAll(a.Kind, "_", " ")
}

// fleet reads the hosts and the open alerts and groups the hosts that open
// correlation alerts join into farms.
func (s *Server) fleet(ctx context.Context) (*fleetData, []store.Alert, error) {
	hosts, err := s.o.Store.Hosts(ctx)
	if err != nil {
		return nil, nil, err
	}
	open, err := s.o.Store.Alerts(ctx, "", 1000)
	if err != nil {
		return nil, nil, err
	}
	d := &fleetData{Hosts: make([]hostRow, len(hosts)), byID: map[string]*hostRow{}}
	for i, h := range hosts {
		r := hostRow{Host: h, Label: label(h), Stopped: h.LastEvent == store.EventStop || h.LastEvent == store.EventUninstall}
		// The strongest reasons first (findings, combinations and fleet
		// signals alike).
		r.Reasons = append([]risk.Contribution(nil), h.Risk.Contributions...)
		sort.SliceStable(r.Reasons, func(i, j int) bool { return r.Reasons[i].Points > r.Reasons[j].Points })
		if len(r.Reasons) > maxReasons {
			r.More, r.Reasons = len(r.Reasons)-maxReasons, r.Reasons[:maxReasons]
		}
		d.Hosts[i] = r
		d.byID[h.ID] = &d.Hosts[i]
	}
	inv, _, err := s.o.Store.InventoryMatching(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range inv.Matched {
		if h, ok := d.byID[m.Host.ID]; ok {
			h.Person, h.Expected = m.Record.Person(), m.Record.Region.String()
		}
	}
	for _, a := range open {
		if a.Kind == store.AlertHostSilent {
			for _, id := range a.Hosts {
				if h, ok := d.byID[id]; ok {
					h.Silent = true
				}
			}
		}
	}
	farmAlerts, err := s.o.Store.FarmAlerts(ctx)
	if err != nil {
		return nil, nil, err
	}
	// Union the hosts of every correlation alert.
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if p, ok := parent[x]; ok && p != x {
			r := find(p)
			parent[x] = r
			return r
		}
		parent[x] = x
		return x
	}
	for _, a := range farmAlerts {
		for _, h := range a.Hosts[min(1, len(a.Hosts)):] {
			parent[find(h)] = find(a.Hosts[0])
		}
	}
	shares := map[string]map[string][]string{} // host → other host → what
	shareCount := map[[3]string]int{}
	addShare := func(a, b, what string) {
		if shares[a] == nil {
			shares[a] = map[string][]string{}
		}
		k := [3]string{a, b, what}
		if shareCount[k]++; shareCount[k] == 1 {
			shares[a][b] = append(shares[a][b], what)
		}
	}
	farms := map[string]*farmView{}
	var roots []string
	for _, a := range farmAlerts {
		if len(a.Hosts) == 0 {
			continue
		}
		root := find(a.Hosts[0])
		f := farms[root]
		if f == nil {
			f = &farmView{Since: a.CreatedAt}
			farms[root] = f
			roots = append(roots, root)
		}
		if a.Severity > f.Severity {
			f.Severity = a.Severity
		}
		if a.CreatedAt.Before(f.Since) {
			f.Since = a.CreatedAt
		}
		if a.UpdatedAt.After(f.Updated) {
			f.Updated = a.UpdatedAt
		}
		kind := alertKindName(a)
		if !contains(f.Kinds, kind) {
			f.Kinds = append(f.Kinds, kind)
		}
		f.Alerts = append(f.Alerts, alertRow{Alert: a, HostRefs: d.refs(a.Hosts)})
		links, err := s.o.Store.AlertLinks(ctx, a)
		if err != nil {
			return nil, nil, err
		}
		var lan *linkRow
		var lanHashes []string
		for _, l := range links {
			for _, x := range l.Hosts {
				for _, y := range l.Hosts {
					if x != y {
						addShare(x, y, shortLink(l, a.Tool))
					}
				}
			}
			if l.Kind != report.NetLAN {
				f.Links = append(f.Links, linkRow{Link: l, What: describeLink(l, a.Tool), Hosts: d.refs(l.Hosts)})
				continue
			}
			// The LAN MACs of one room are one link, not one row each.
			lanHashes = append(lanHashes, shortHash(l.Value))
			if lan == nil {
				lan = &linkRow{Link: l}
				lan.Hosts = nil
			}
			for _, h := range l.Hosts {
				if !contains(lan.Link.Hosts, h) {
					lan.Link.Hosts = append(lan.Link.Hosts, h)
				}
			}
			if l.FirstSeen.Before(lan.FirstSeen) {
				lan.FirstSeen = l.FirstSeen
			}
			if l.LastSeen.After(lan.LastSeen) {
				lan.LastSeen = l.LastSeen
			}
		}
		if lan != nil {
			sort.Strings(lan.Link.Hosts)
			lan.Hosts = d.refs(lan.Link.Hosts)
			lan.What = describeLink(lan.Link, a.Tool)
			if len(lanHashes) > 1 {
				lan.What = fmt.Sprintf("%d MACs on each other's LAN (hashes %s)", len(lanHashes), strings.Join(lanHashes, ", "))
			}
			f.Links = append(f.Links, *lan)
		}
	}
	for _, h := range d.Hosts {
		if r := find(h.ID); farms[r] != nil {
			farms[r].Hosts = append(farms[r].Hosts, h)
		}
	}
	for _, r := range roots {
		f := farms[r]
		sort.SliceStable(f.Hosts, func(i, j int) bool { return f.Hosts[i].Label < f.Hosts[j].Label })
		d.Farms = append(d.Farms, *f)
	}
	sort.SliceStable(d.Farms, func(i, j int) bool {
		if d.Farms[i].Severity != d.Farms[j].Severity {
			return d.Farms[i].Severity > d.Farms[j].Severity
		}
		return len(d.Farms[i].Hosts) > len(d.Farms[j].Hosts)
	})
	for i := range d.Farms {
		d.Farms[i].N = i + 1
		for j := range d.Farms[i].Hosts {
			id := d.Farms[i].Hosts[j].ID
			d.byID[id].Farm = i + 1
			d.Farms[i].Hosts[j].Farm = i + 1
		}
	}
	for i := range d.Hosts {
		h := &d.Hosts[i]
		others := make([]string, 0, len(shares[h.ID]))
		for o := range shares[h.ID] {
			others = append(others, o)
		}
		sort.Strings(others)
		for _, o := range others {
			what := make([]string, 0, len(shares[h.ID][o]))
			for _, w := range shares[h.ID][o] {
				if n := shareCount[[3]string{h.ID, o, w}]; n > 1 {
					w = fmt.Sprintf("%s ×%d", w, n)
				}
				what = append(what, w)
			}
			h.Shares = append(h.Shares, shareRef{Host: d.ref(o), What: what})
		}
	}
	for i := range d.Farms {
		for j := range d.Farms[i].Hosts {
			d.Farms[i].Hosts[j].Shares = d.byID[d.Farms[i].Hosts[j].ID].Shares
		}
	}
	return d, open, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// farmSummary is a farm's one-line headline.
func farmSummary(f farmView) string {
	return fmt.Sprintf("%d hosts linked by %s", len(f.Hosts), strings.Join(f.Kinds, ", "))
}

// apiFarm is a farm in GET /api/v1/fleet.
type apiFarm struct {
	N        int             `json:"n"`
	Severity report.Severity `json:"severity"`
	Since    time.Time       `json:"since"`
	Updated  time.Time       `json:"updated"`
	Kinds    []string        `json:"kinds"`
	Alerts   []string        `json:"alerts"`
	Links    []apiLink       `json:"links"`
	Hosts    []apiFarmHost   `json:"hosts"`
}

type apiLink struct {
	store.Link
	What string `json:"what"`
}

type apiFarmHost struct {
	ID      string              `json:"id"`
	Name    string              `json:"name"`
	Risk    risk.Result         `json:"risk"`
	Silent  bool                `json:"silent"`
	Stopped bool                `json:"stopped"`
	Shares  []apiShare          `json:"shares"`
	Reasons []risk.Contribution `json:"reasons"`
}

type apiShare struct {
	Host string   `json:"host"`
	What []string `json:"what"`
}

func (s *Server) apiFleet(w http.ResponseWriter, r *http.Request) {
	d, _, err := s.fleet(r.Context())
	if err != nil {
		s.storeError(w, err, "fleet")
		return
	}
	farms := make([]apiFarm, 0, len(d.Farms))
	for _, f := range d.Farms {
		af := apiFarm{N: f.N, Severity: f.Severity, Since: f.Since, Updated: f.Updated, Kinds: f.Kinds}
		for _, a := range f.Alerts {
			af.Alerts = append(af.Alerts, a.ID)
		}
		for _, l := range f.Links {
			af.Links = append(af.Links, apiLink{Link: l.Link, What: l.What})
		}
		for _, h := range f.Hosts {
			ah := apiFarmHost{ID: h.ID, Name: h.Name, Risk: h.Risk, Silent: h.Silent, Stopped: h.Stopped, Reasons: h.Reasons, Shares: []apiShare{}}
			for _, sh := range h.Shares {
				ah.Shares = append(ah.Shares, apiShare{Host: sh.Host.ID, What: sh.What})
			}
			af.Hosts = append(af.Hosts, ah)
		}
		farms = append(farms, af)
	}
	writeJSON(w, http.StatusOK, map[string]any{"farms": farms})
}
