package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/farmwatch/farmwatch/internal/collector/risk"
)

type rowQuerier interface {
	querier
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rescoreFleet rescores the hosts named by fleet alerts the batch raised or
// widened (their links changed), and, when the host's own score changed,
// the hosts it shares infrastructure with (what they weigh changed), each
// once, the host itself excluded (already rescored).
func (s *Store) rescoreFleet(ctx context.Context, q interface {
	rowQuerier
	execer
}, hostID string, baseChanged bool, res *IngestResult) error {
	done := map[string]bool{hostID: true}
	var todo []string
	add := func(hs []string) {
		for _, h := range hs {
			if !done[h] {
				done[h] = true
				todo = append(todo, h)
			}
		}
	}
	for _, as := range [][]Alert{res.Alerts, res.Widened} {
		for _, a := range as {
			if a.Kind == AlertSharedInfra || a.Kind == AlertCoLocation {
				add(a.Hosts)
			}
		}
	}
	if baseChanged {
		peers, err := s.fleetPeers(ctx, q, hostID)
		if err != nil {
			return err
		}
		add(peers)
	}
	for _, h := range todo {
		if _, err := s.rescore(ctx, q, h); err != nil {
			return err
		}
	}
	return nil
}

// fleetSignals reads what the fleet says about a host for its risk score:
// the hosts it shares infrastructure with (open shared-infrastructure and
// co-location alerts naming it) with their own-findings scores, and whether
// it is silent (an open host_silent alert).
func (s *Store) fleetSignals(ctx context.Context, q rowQuerier, hostID string) (risk.Fleet, error) {
	var fl risk.Fleet
	needle, _ := json.Marshal(hostID)
	rows, err := q.QueryContext(ctx, s.q(`SELECT kind, dedup_key, title, hosts FROM alerts
WHERE status <> 'closed' AND (kind = ? OR kind = ? OR dedup_key = ?) AND hosts LIKE ?`),
		AlertSharedInfra, AlertCoLocation, "silent:"+hostID, "%"+string(needle)+"%")
	if err != nil {
		return fl, fmt.Errorf("fleet signals of %s: %w", hostID, busy(err))
	}
	peers := map[string]string{} // host → what it shares with this one
	for rows.Next() {
		var kind, key, title, hj string
		if err := rows.Scan(&kind, &key, &title, &hj); err != nil {
			rows.Close()
			return fl, fmt.Errorf("fleet signals of %s: scan: %w", hostID, err)
		}
		var hosts []string
		if json.Unmarshal([]byte(hj), &hosts) != nil {
			continue
		}
		if kind == AlertHostSilent {
			fl.Silent = true
			continue
		}
		if !contains(hosts, hostID) {
			continue
		}
		what := sharedWhat(kind, title)
		for _, h := range hosts {
			if h != hostID && peers[h] == "" {
				peers[h] = what
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fl, fmt.Errorf("fleet signals of %s: %w", hostID, busy(err))
	}
	if fl.Silent {
		var last int64
		if err := q.QueryRowContext(ctx, s.q("SELECT last_heartbeat FROM hosts WHERE id = ?"), hostID).Scan(&last); err == nil && last > 0 {
			fl.SilentSince = fromMS(last).Format("2006-01-02T15:04:05Z")
		}
	}
	ids := make([]string, 0, len(peers))
	for h := range peers {
		ids = append(ids, h)
	}
	sort.Strings(ids)
	for _, h := range ids {
		var doc string
		err := q.QueryRowContext(ctx, s.q("SELECT risk_explanation FROM hosts WHERE id = ?"), h).Scan(&doc)
		if err != nil {
			continue // not stored yet
		}
		var r risk.Result
		if json.Unmarshal([]byte(doc), &r) != nil {
			continue
		}
		fl.Links = append(fl.Links, risk.Link{What: peers[h], Host: h, Base: r.Base})
	}
	return fl, nil
}

// fleetPeers lists the hosts sharing an open fleet alert with hostID.
func (s *Store) fleetPeers(ctx context.Context, q rowQuerier, hostID string) ([]string, error) {
	fl, err := s.fleetSignals(ctx, q, hostID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range fl.Links {
		out = append(out, l.Host)
	}
	return out, nil
}

// sharedWhat is the short name of what a fleet alert says is shared.
func sharedWhat(kind, title string) string {
	if kind == AlertCoLocation {
		return "a network (co-location)"
	}
	if _, rest, ok := strings.Cut(title, ": "); ok {
		if i := strings.LastIndex(rest, " seen on "); i > 0 {
			return rest[:i]
		}
		return rest
	}
	return title
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
