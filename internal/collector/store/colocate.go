package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
)

// AlertCoLocation is raised when laptops are attached to the same network.
const AlertCoLocation = "co_location"

// DefaultEgressMinSpan: two hosts sharing a public egress address count as
// co-located only when each has used it for this long (a shared café or
// hotel address for an afternoon does not).
const DefaultEgressMinSpan = 48 * time.Hour

// networkWindow: network sightings older than this no longer link hosts.
const networkWindow = 30 * 24 * time.Hour

const fleetKeySetting = "fleet_key"

// FleetKey returns the per-fleet key agents hash their network identity
// with (report.HashNetwork), creating it on first use. Every collector
// process on one database hands out the same key.
func (s *Store) FleetKey(ctx context.Context) ([]byte, error) {
	var h string
	err := s.r.QueryRowContext(ctx, s.q("SELECT value FROM settings WHERE key = ?"), fleetKeySetting).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("fleet key: %w", err)
		}
		if _, err := s.w.ExecContext(ctx, s.q("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"), fleetKeySetting, hex.EncodeToString(b)); err != nil {
			return nil, fmt.Errorf("fleet key: store: %w", busy(err))
		}
		err = s.w.QueryRowContext(ctx, s.q("SELECT value FROM settings WHERE key = ?"), fleetKeySetting).Scan(&h)
	}
	if err != nil {
		return nil, fmt.Errorf("fleet key: %w", busy(err))
	}
	key, err := hex.DecodeString(h)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("fleet key: stored value is not a hex key")
	}
	return key, nil
}

// SetEgressMinSpan sets how long two hosts must each have used one egress
// address to count as co-located (default DefaultEgressMinSpan).
func (s *Store) SetEgressMinSpan(d time.Duration) { s.egressMinSpan = d }

// netValue is one hashed network identity value of a host.
type netValue struct{ kind, value string }

// networkValues lists what a heartbeat says about where the host is.
func networkValues(n *report.NetworkIdentity, egress string) []netValue {
	var out []netValue
	if n != nil {
		for _, v := range []netValue{{report.NetGateway, n.Gateway}, {report.NetBSSID, n.BSSID}, {report.NetSSID, n.SSID}} {
			if v.value != "" {
				out = append(out, v)
			}
		}
		for i, m := range n.LAN {
			if i >= 256 {
				break
			}
			if m != "" {
				out = append(out, netValue{report.NetLAN, m})
			}
		}
	}
	if egress != "" {
		out = append(out, netValue{report.NetEgress, egress})
	}
	return out
}

// colocationReasons name what linked the hosts, strongest first.
var colocationReasons = map[string]string{
	report.NetGateway: "the same default gateway",
	report.NetBSSID:   "the same Wi-Fi access point",
	report.NetLAN:     "each other's (or the same) MACs on their LAN",
	report.NetEgress:  "the same public address for days",
}

// colocate records where the host is and raises (or widens) a co-location
// alert when other hosts were seen on the same gateway, access point or LAN
// in the last networkWindow, or behind the same public address for at least
// the egress span. The SSID alone links nobody (every "Home" network).
func (s *Store) colocate(ctx context.Context, tx *wtx, host report.Host, n *report.NetworkIdentity, egress string, now time.Time, pol Policy, res *IngestResult) error {
	vals := networkValues(n, egress)
	if len(vals) == 0 {
		return nil
	}
	for _, v := range vals {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO host_networks (kind, value, host_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (kind, value, host_id) DO UPDATE SET last_seen = excluded.last_seen`), v.kind, v.value, host.ID, ms(now), ms(now)); err != nil {
			return fmt.Errorf("ingest %s: record network: %w", host.ID, busy(err))
		}
	}
	span := s.egressMinSpan
	if span == 0 {
		span = DefaultEgressMinSpan
	}
	others := map[string]bool{}
	reasons := map[string]bool{}
	since := now
	anchor := ""
	for _, v := range vals {
		if v.kind == report.NetSSID {
			continue
		}
		q := "SELECT host_id, first_seen, last_seen FROM host_networks WHERE kind = ? AND value = ? AND last_seen >= ?"
		rows, err := tx.QueryContext(ctx, s.q(q), v.kind, v.value, ms(now.Add(-networkWindow)))
		if err != nil {
			return fmt.Errorf("ingest %s: hosts on network: %w", host.ID, busy(err))
		}
		type seen struct {
			id          string
			first, last int64
		}
		var hs []seen
		for rows.Next() {
			var h seen
			if err := rows.Scan(&h.id, &h.first, &h.last); err != nil {
				rows.Close()
				return fmt.Errorf("ingest %s: hosts on network: %w", host.ID, err)
			}
			hs = append(hs, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("ingest %s: hosts on network: %w", host.ID, err)
		}
		if v.kind == report.NetEgress {
			// Every host behind the address must have used it for the span.
			kept := hs[:0]
			for _, h := range hs {
				if time.Duration(h.last-h.first)*time.Millisecond >= span {
					kept = append(kept, h)
				}
			}
			hs = kept
		}
		if len(hs) < 2 || !containsHost(hs, host.ID, func(h seen) string { return h.id }) {
			continue
		}
		for _, h := range hs {
			if h.id != host.ID {
				others[h.id] = true
			}
			if t := time.UnixMilli(h.first); t.Before(since) {
				since = t
			}
		}
		reasons[v.kind] = true
		if anchor == "" || v.kind == report.NetGateway {
			anchor = v.kind + ":" + v.value
		}
	}
	if len(others) == 0 {
		return nil
	}
	hosts := []string{host.ID}
	for h := range others {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	// An open co-location alert on any of these hosts is widened rather
	// than a second one raised for the same room.
	key := "colocation:" + anchor
	var existing []Alert
	rows, err := tx.QueryContext(ctx, s.q(`SELECT dedup_key, hosts FROM alerts WHERE kind = ? AND status <> 'closed'`), AlertCoLocation)
	if err != nil {
		return fmt.Errorf("ingest %s: open co-location alerts: %w", host.ID, busy(err))
	}
	for rows.Next() {
		var a Alert
		var hj string
		if err := rows.Scan(&a.DedupKey, &hj); err != nil {
			rows.Close()
			return fmt.Errorf("ingest %s: open co-location alerts: %w", host.ID, err)
		}
		_ = json.Unmarshal([]byte(hj), &a.Hosts)
		existing = append(existing, a)
	}
	rows.Close()
	for _, a := range existing {
		for _, h := range a.Hosts {
			if others[h] || h == host.ID {
				key = a.DedupKey
				for _, h2 := range a.Hosts {
					if !others[h2] && h2 != host.ID {
						others[h2] = true
						hosts = append(hosts, h2)
					}
				}
				break
			}
		}
	}
	sort.Strings(hosts)
	// Since: the earliest sighting, by any host of the group, of a network
	// another host of the group shares.
	in := strings.TrimSuffix(strings.Repeat("?, ", len(hosts)), ", ")
	args := make([]any, 0, 2*len(hosts)+1)
	args = append(args, report.NetSSID)
	for _, h := range hosts {
		args = append(args, h)
	}
	for _, h := range hosts {
		args = append(args, h)
	}
	var first sql.NullInt64
	if err := tx.QueryRowContext(ctx, s.q(`SELECT MIN(hn.first_seen) FROM host_networks hn WHERE hn.kind <> ? AND hn.host_id IN (`+in+`)
AND EXISTS (SELECT 1 FROM host_networks o WHERE o.kind = hn.kind AND o.value = hn.value AND o.host_id <> hn.host_id AND o.host_id IN (`+in+`))`), args...).Scan(&first); err != nil {
		return fmt.Errorf("ingest %s: co-location since: %w", host.ID, busy(err))
	}
	if first.Valid && time.UnixMilli(first.Int64).Before(since) {
		since = time.UnixMilli(first.Int64)
	}
	names, err := s.hostLabels(ctx, tx, hosts)
	if err != nil {
		return err
	}
	var why []string
	for _, k := range []string{report.NetGateway, report.NetBSSID, report.NetLAN, report.NetEgress} {
		if reasons[k] {
			why = append(why, colocationReasons[k])
		}
	}
	a := &Alert{
		DedupKey: key, Kind: AlertCoLocation, Severity: report.SeverityHigh, Category: "co-location",
		Title: fmt.Sprintf("Co-location: %d laptops on one network since %s", len(hosts), since.UTC().Format("2006-01-02 15:04 MST")),
		Detail: fmt.Sprintf("Hosts %s share %s (seen since %s). Laptops issued to different people in one room is what a laptop farm looks like; configured office networks and VPN egresses are excluded.",
			strings.Join(names, ", "), strings.Join(why, ", "), since.UTC().Format(time.RFC3339)),
		Hosts: hosts,
	}
	inserted, err := s.insertAlert(ctx, tx, a, now, pol)
	if err != nil {
		return err
	}
	if inserted {
		res.Alerts = append(res.Alerts, *a)
		return nil
	}
	if err := s.widen(ctx, tx, a, host.ID, now, res); err != nil {
		return err
	}
	return nil
}

func containsHost[T any](xs []T, id string, key func(T) string) bool {
	for _, x := range xs {
		if key(x) == id {
			return true
		}
	}
	return false
}

// hostLabels names hosts "name (id)" for people.
func (s *Store) hostLabels(ctx context.Context, q querier, ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		var name string
		rows, err := q.QueryContext(ctx, s.q("SELECT name FROM hosts WHERE id = ?"), id)
		if err != nil {
			return nil, fmt.Errorf("host label %s: %w", id, busy(err))
		}
		if rows.Next() {
			_ = rows.Scan(&name)
		}
		rows.Close()
		out = append(out, hostLabel(report.Host{ID: id, Name: name}))
	}
	return out, nil
}
