package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/inventory"
	"github.com/farmwatch/farmwatch/internal/collector/risk"
	"github.com/farmwatch/farmwatch/internal/report"
)

// InventoryInfo describes the stored inventory.
type InventoryInfo struct {
	Format     string    `json:"format"`
	Devices    int       `json:"devices"`
	ImportedAt time.Time `json:"imported_at"`
}

// ReplaceInventory stores an imported inventory in place of the previous
// one and rescores every host against it.
func (s *Store) ReplaceInventory(ctx context.Context, imp *inventory.Import, now time.Time) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("import inventory: begin: %w", busy(err))
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, "DELETE FROM inventory"); err != nil {
		return fmt.Errorf("import inventory: clear: %w", busy(err))
	}
	for i, r := range imp.Records {
		doc, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("import inventory: encode row %d: %w", r.Line, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO inventory (line, format, serial_key, name_key, host_id, doc, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			i+1, imp.Format, inventory.SerialKey(r.Serial), inventory.NameKey(r.DeviceName), r.HostID, string(doc), ms(now)); err != nil {
			return fmt.Errorf("import inventory: row %d: %w", r.Line, busy(err))
		}
	}
	ids, err := queryStrings(ctx, tx, "SELECT id FROM hosts ORDER BY id")
	if err != nil {
		return fmt.Errorf("import inventory: hosts: %w", err)
	}
	// Twice: the second pass sees every host's new base score in the fleet
	// signals of the hosts it shares infrastructure with.
	for pass := 0; pass < 2; pass++ {
		for _, id := range ids {
			if _, err := s.rescore(ctx, tx, id); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("import inventory: commit: %w", busy(err))
	}
	return nil
}

// Inventory returns the stored rows (in import order) and what was
// imported when; Devices is 0 before any import.
func (s *Store) Inventory(ctx context.Context) ([]inventory.Record, InventoryInfo, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT format, doc, imported_at FROM inventory ORDER BY line")
	if err != nil {
		return nil, InventoryInfo{}, fmt.Errorf("read inventory: %w", err)
	}
	defer rows.Close()
	var out []inventory.Record
	var info InventoryInfo
	for rows.Next() {
		var doc string
		var at int64
		if err := rows.Scan(&info.Format, &doc, &at); err != nil {
			return nil, info, fmt.Errorf("read inventory: %w", err)
		}
		var r inventory.Record
		if err := json.Unmarshal([]byte(doc), &r); err != nil {
			return nil, info, fmt.Errorf("read inventory: decode: %w", err)
		}
		info.ImportedAt = fromMS(at)
		out = append(out, r)
	}
	info.Devices = len(out)
	return out, info, rows.Err()
}

// InventoryMatching matches the stored inventory with the known hosts.
func (s *Store) InventoryMatching(ctx context.Context) (inventory.Matching, InventoryInfo, error) {
	recs, info, err := s.Inventory(ctx)
	if err != nil {
		return inventory.Matching{}, info, err
	}
	hosts, err := s.Hosts(ctx)
	if err != nil {
		return inventory.Matching{}, info, err
	}
	hs := make([]inventory.Host, 0, len(hosts))
	for _, h := range hosts {
		hs = append(hs, invHost(h.ID, h.Name, h.Heartbeat))
	}
	return inventory.Match(recs, hs), info, nil
}

func invHost(id, name string, hb *Heartbeat) inventory.Host {
	h := inventory.Host{ID: id, Name: name}
	if hb != nil {
		h.Serial = hb.Serial
	}
	return h
}

// SetHostEgress records the configured network (with its country) a host's
// agent connected from; an empty country forgets it.
func (s *Store) SetHostEgress(ctx context.Context, hostID, network, country string, now time.Time) error {
	var err error
	if country == "" {
		_, err = s.w.ExecContext(ctx, s.q("DELETE FROM host_egress WHERE host_id = ?"), hostID)
	} else {
		_, err = s.w.ExecContext(ctx, s.q(`INSERT INTO host_egress (host_id, network, country, seen_at) VALUES (?, ?, ?, ?)
ON CONFLICT (host_id) DO UPDATE SET network = excluded.network, country = excluded.country, seen_at = excluded.seen_at`), hostID, network, country, ms(now))
	}
	if err != nil {
		return fmt.Errorf("record egress of %s: %w", hostID, busy(err))
	}
	return nil
}

// lookupAssignment finds a host's inventory row the way inventory.Index
// does: serial, then a hostname only one row has, then host id.
func (s *Store) lookupAssignment(ctx context.Context, q querier, h inventory.Host) (inventory.Record, string, bool, error) {
	try := func(by, query string, arg string, unique bool) (inventory.Record, bool, error) {
		if arg == "" {
			return inventory.Record{}, false, nil
		}
		docs, err := queryStrings(ctx, q, s.q(query), arg)
		if err != nil || len(docs) == 0 || (unique && len(docs) > 1) {
			return inventory.Record{}, false, err
		}
		var r inventory.Record
		if err := json.Unmarshal([]byte(docs[0]), &r); err != nil {
			return r, false, fmt.Errorf("inventory row: %w", err)
		}
		return r, true, nil
	}
	for _, t := range []struct {
		by, query, arg string
		unique         bool
	}{
		{inventory.BySerial, "SELECT doc FROM inventory WHERE serial_key = ? ORDER BY line LIMIT 1", inventory.SerialKey(h.Serial), false},
		{inventory.ByHostname, "SELECT doc FROM inventory WHERE name_key = ? ORDER BY line LIMIT 2", inventory.NameKey(h.Name), true},
		{inventory.ByHostID, "SELECT doc FROM inventory WHERE host_id = ? ORDER BY line LIMIT 1", h.ID, false},
	} {
		r, ok, err := try(t.by, t.query, t.arg, t.unique)
		if err != nil || ok {
			return r, t.by, ok, err
		}
	}
	return inventory.Record{}, "", false, nil
}

// withInventory applies the host's inventory assignment to its score; a
// host without an inventory (none imported) keeps the score it had.
func (s *Store) withInventory(ctx context.Context, q querier, hostID string, r risk.Result) (risk.Result, error) {
	have, err := queryStrings(ctx, q, "SELECT format FROM inventory LIMIT 1")
	if err != nil || len(have) == 0 {
		return r, err
	}
	rows, err := q.QueryContext(ctx, s.q("SELECT name, heartbeat FROM hosts WHERE id = ?"), hostID)
	if err != nil {
		return r, fmt.Errorf("inventory of %s: %w", hostID, busy(err))
	}
	var name, hbDoc string
	found := rows.Next()
	if found {
		err = rows.Scan(&name, &hbDoc)
	}
	rows.Close()
	if err != nil || !found {
		return r, err
	}
	var hb *Heartbeat
	if hbDoc != "" {
		hb = &Heartbeat{}
		if json.Unmarshal([]byte(hbDoc), hb) != nil {
			hb = nil
		}
	}
	rec, by, ok, err := s.lookupAssignment(ctx, q, invHost(hostID, name, hb))
	if err != nil {
		return r, err
	}
	if !ok {
		r.Contributions = append(r.Contributions, risk.Contribution{Kind: "inventory", Rule: "inventory.unmatched", Category: report.CategoryContext,
			Reason: "inventory: this host matches no inventory row (serial, hostname, host id) — no one is known to have it"})
		return r, nil
	}
	open, err := s.regionFindings(ctx, q, hostID)
	if err != nil {
		return r, err
	}
	var eg risk.Egress
	erows, err := q.QueryContext(ctx, s.q("SELECT network, country FROM host_egress WHERE host_id = ?"), hostID)
	if err != nil {
		return r, fmt.Errorf("egress of %s: %w", hostID, busy(err))
	}
	if erows.Next() {
		err = erows.Scan(&eg.Network, &eg.Country)
	}
	erows.Close()
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("egress of %s: %w", hostID, err)
	}
	a := risk.Assignment{Person: rec.Person(), Region: rec.Region, By: by, Source: rec.Format}
	return risk.WithInventory(r, a, risk.RegionFacts(open), eg), nil
}

// regionFindings are a host's open context findings that carry region facts.
func (s *Store) regionFindings(ctx context.Context, q querier, hostID string) ([]report.Finding, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT rule, evidence FROM findings WHERE host_id = ? AND status <> 'closed' AND allowed = 0 AND rule IN (?, ?, ?, ?, ?) ORDER BY id`),
		hostID, report.RuleRegionFacts, report.RuleTimeZoneUnexpected, report.RuleLocaleUnexpected, report.RuleForeignLayout, report.RuleForeignIME)
	if err != nil {
		return nil, fmt.Errorf("region findings of %s: %w", hostID, busy(err))
	}
	defer rows.Close()
	var out []report.Finding
	for rows.Next() {
		var f report.Finding
		var ev string
		if err := rows.Scan(&f.Rule, &ev); err != nil {
			return nil, fmt.Errorf("region findings of %s: %w", hostID, err)
		}
		if json.Unmarshal([]byte(ev), &f.Evidence) == nil {
			out = append(out, f)
		}
	}
	return out, rows.Err()
}
