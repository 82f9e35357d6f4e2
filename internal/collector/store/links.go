package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
)

// Link is one piece of infrastructure several hosts share, behind an open
// correlation alert (shared infrastructure or co-location): what links
// them, for the fleet view and the host list.
type Link struct {
	AlertID   string `json:"alert_id"`
	AlertKind string `json:"alert_kind"`
	// Kind is the indicator kind of a shared-infrastructure alert
	// (usb_serial, edid_serial, peer, relay, remote_id) or the network kind
	// of a co-location alert (gateway, bssid, lan, egress).
	Kind string `json:"kind"`
	// Value is the serial, peer, relay or remote-tool id; for networks the
	// keyed hash the agents sent (the egress address in clear).
	Value     string    `json:"value"`
	Hosts     []string  `json:"hosts"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// FarmAlerts returns the open (not closed) correlation alerts: shared
// infrastructure and co-location, most severe and newest first.
func (s *Store) FarmAlerts(ctx context.Context) ([]Alert, error) {
	as, err := s.alerts(ctx, "WHERE status <> 'closed' AND kind IN (?, ?) ORDER BY severity DESC, created_at DESC", AlertSharedInfra, AlertCoLocation)
	if err != nil {
		return nil, fmt.Errorf("farm alerts: %w", err)
	}
	return as, nil
}

// AlertLinks returns what links an alert's hosts: the indicator of a
// shared-infrastructure alert, and every network (gateway, access point,
// LAN MAC, egress; not the SSID alone) that two or more of a co-location
// alert's hosts were seen on. Other alert kinds have none.
func (s *Store) AlertLinks(ctx context.Context, a Alert) ([]Link, error) {
	switch a.Kind {
	case AlertSharedInfra:
		kind, value, ok := strings.Cut(strings.TrimPrefix(a.DedupKey, "shared:"), ":")
		if !ok || !strings.HasPrefix(a.DedupKey, "shared:") {
			return nil, nil
		}
		l := Link{AlertID: a.ID, AlertKind: a.Kind, Kind: kind, Value: value, Hosts: a.Hosts}
		var first, last *int64
		if err := s.r.QueryRowContext(ctx, s.q("SELECT MIN(first_seen), MAX(last_seen) FROM indicators WHERE kind = ? AND value = ?"), kind, value).Scan(&first, &last); err != nil {
			return nil, fmt.Errorf("links of alert %s: %w", a.ID, err)
		}
		if first != nil {
			l.FirstSeen = fromMS(*first)
		}
		if last != nil {
			l.LastSeen = fromMS(*last)
		}
		return []Link{l}, nil
	case AlertCoLocation:
		if len(a.Hosts) < 2 {
			return nil, nil
		}
		in := strings.TrimSuffix(strings.Repeat("?, ", len(a.Hosts)), ", ")
		args := []any{report.NetSSID}
		for _, h := range a.Hosts {
			args = append(args, h)
		}
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT kind, value, host_id, first_seen, last_seen FROM host_networks
WHERE kind <> ? AND host_id IN (`+in+`) ORDER BY kind, value, host_id`), args...)
		if err != nil {
			return nil, fmt.Errorf("links of alert %s: %w", a.ID, err)
		}
		defer rows.Close()
		byKey := map[[2]string]*Link{}
		var order [][2]string
		for rows.Next() {
			var kind, value, host string
			var first, last int64
			if err := rows.Scan(&kind, &value, &host, &first, &last); err != nil {
				return nil, fmt.Errorf("links of alert %s: scan: %w", a.ID, err)
			}
			k := [2]string{kind, value}
			l := byKey[k]
			if l == nil {
				l = &Link{AlertID: a.ID, AlertKind: a.Kind, Kind: kind, Value: value, FirstSeen: fromMS(first)}
				byKey[k] = l
				order = append(order, k)
			}
			l.Hosts = append(l.Hosts, host)
			if t := fromMS(first); t.Before(l.FirstSeen) {
				l.FirstSeen = t
			}
			if t := fromMS(last); t.After(l.LastSeen) {
				l.LastSeen = t
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("links of alert %s: %w", a.ID, err)
		}
		rank := map[string]int{report.NetGateway: 0, report.NetBSSID: 1, report.NetLAN: 2, report.NetEgress: 3}
		var out []Link
		for _, k := range order {
			if l := byKey[k]; len(l.Hosts) >= 2 {
				out = append(out, *l)
			}
		}
		sort.SliceStable(out, func(i, j int) bool {
			if rank[out[i].Kind] != rank[out[j].Kind] {
				return rank[out[i].Kind] < rank[out[j].Kind]
			}
			return len(out[i].Hosts) > len(out[j].Hosts)
		})
		return out, nil
	}
	return nil, nil
}

// AlertLastSeen is when an alert's cause was last seen: the newest sighting
// of a correlation alert's links, the finding's last_seen for a finding
// alert (it moves while the agent keeps re-reporting it), otherwise the
// alert's last change.
func (s *Store) AlertLastSeen(ctx context.Context, a Alert) (time.Time, error) {
	last := a.UpdatedAt
	switch a.Kind {
	case AlertSharedInfra, AlertCoLocation:
		links, err := s.AlertLinks(ctx, a)
		if err != nil {
			return last, err
		}
		for _, l := range links {
			if l.LastSeen.After(last) {
				last = l.LastSeen
			}
		}
	case AlertFinding:
		rest, ok := strings.CutPrefix(a.DedupKey, "finding:")
		if !ok || len(a.Hosts) != 1 || !strings.HasPrefix(rest, a.Hosts[0]+":") {
			return last, nil
		}
		var seen *int64
		err := s.r.QueryRowContext(ctx, s.q("SELECT MAX(last_seen) FROM findings WHERE host_id = ? AND id = ?"), a.Hosts[0], strings.TrimPrefix(rest, a.Hosts[0]+":")).Scan(&seen)
		if err != nil {
			return last, fmt.Errorf("last seen of alert %s: %w", a.ID, err)
		}
		if seen != nil && fromMS(*seen).After(last) {
			last = fromMS(*seen)
		}
	}
	return last, nil
}
