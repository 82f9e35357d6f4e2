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

	"github.com/farmwatch/farmwatch/internal/collector/correlate"
	"github.com/farmwatch/farmwatch/internal/collector/risk"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Statements ingest runs per batch or per item; prepared once (warm).
const (
	qUpsertHost = `INSERT INTO hosts (id, name, first_seen, last_seen) VALUES (?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE hosts.name END, last_seen = excluded.last_seen`
	qInsertEvent = `INSERT INTO events (host_id, seq, kind, received_at, observed_at, finding_id, payload)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (host_id, seq) DO NOTHING`
	qInsertIndicator = `INSERT INTO indicators (kind, value, host_id, finding_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (kind, value, host_id) DO NOTHING`
	qRefreshIndicator = "UPDATE indicators SET last_seen = ?, finding_id = ? WHERE kind = ? AND value = ? AND host_id = ?"
	qRiskFindings     = "SELECT id, rule, category, severity, confidence FROM findings WHERE host_id = ? AND status <> 'closed' AND allowed = 0"
	qUpdateRisk       = "UPDATE hosts SET risk_score = ?, risk_explanation = ? WHERE id = ?"
	qUpsertFinding    = `INSERT INTO findings (host_id, id, detector, rule, category, tool, severity, confidence, allowed, summary, evidence, first_seen, last_seen, count, status, opened_at, ended_at, source)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)
ON CONFLICT (host_id, id) DO UPDATE SET
  count = findings.count + excluded.count,
  first_seen = CASE WHEN excluded.first_seen < findings.first_seen THEN excluded.first_seen ELSE findings.first_seen END,
  last_seen = CASE WHEN excluded.last_seen > findings.last_seen THEN excluded.last_seen ELSE findings.last_seen END,
  detector = excluded.detector, rule = excluded.rule, category = excluded.category, tool = excluded.tool,
  severity = excluded.severity, confidence = excluded.confidence, allowed = excluded.allowed,
  summary = excluded.summary, evidence = excluded.evidence, ended_at = excluded.ended_at,
  source = CASE WHEN excluded.source <> '' THEN excluded.source ELSE findings.source END,
  status = CASE WHEN findings.status = 'closed' THEN 'open' ELSE findings.status END,
  closed_at = CASE WHEN findings.status = 'closed' THEN 0 ELSE findings.closed_at END,
  closed_by = CASE WHEN findings.status = 'closed' THEN '' ELSE findings.closed_by END,
  opened_at = CASE WHEN findings.status = 'closed' THEN excluded.opened_at ELSE findings.opened_at END
RETURNING opened_at`
)

// qUpdateFinding is qUpsertFinding for an agent's update of a finding it
// already reported (still present, or ended): it moves count, last_seen and
// the ended state but never reopens a finding an analyst closed, so an
// ongoing session raises no second alert.
var qUpdateFinding = strings.Replace(qUpsertFinding, `
  status = CASE WHEN findings.status = 'closed' THEN 'open' ELSE findings.status END,
  closed_at = CASE WHEN findings.status = 'closed' THEN 0 ELSE findings.closed_at END,
  closed_by = CASE WHEN findings.status = 'closed' THEN '' ELSE findings.closed_by END,
  opened_at = CASE WHEN findings.status = 'closed' THEN excluded.opened_at ELSE findings.opened_at END`, `
  opened_at = findings.opened_at`, 1)

var hotQueries = []string{qUpsertHost, qInsertEvent, qInsertIndicator, qRefreshIndicator, qRiskFindings, qUpdateRisk, qUpsertFinding, qUpdateFinding}

// Enroll creates the host or rotates its credential. credHash is the hex
// SHA-256 of the credential; the credential itself is never stored.
func (s *Store) Enroll(ctx context.Context, host report.Host, agentVersion, credHash string, now time.Time) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO hosts (id, name, agent_version, credential_hash, enrolled_at, first_seen, last_seen)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, agent_version = excluded.agent_version,
  credential_hash = excluded.credential_hash, enrolled_at = excluded.enrolled_at, last_seen = excluded.last_seen`),
		host.ID, host.Name, agentVersion, credHash, ms(now), ms(now), ms(now))
	if err != nil {
		return fmt.Errorf("enroll host %s: %w", host.ID, busy(err))
	}
	return nil
}

// HostForCredential returns the id of the host holding the credential whose
// hex SHA-256 is credHash, or ErrNotFound.
func (s *Store) HostForCredential(ctx context.Context, credHash string) (string, error) {
	var id string
	err := s.r.QueryRowContext(ctx, s.q("SELECT id FROM hosts WHERE credential_hash = ?"), credHash).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("look up credential: %w", err)
	}
	return id, nil
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never returns an error (Go 1.24+)
	return hex.EncodeToString(b)
}

// Ingest stores a batch in one transaction. Items whose (host, seq) is
// already stored count as duplicates and change nothing, so a re-sent batch
// is harmless. A finding id seen again adds its count and moves last_seen
// forward on the host's single row for that finding (reopening it if it
// had been closed). Alerts the policy raises, fleet-correlation alerts and
// the host's risk score are written in the same transaction.
func (s *Store) Ingest(ctx context.Context, b Batch, now time.Time, pol Policy) (IngestResult, error) {
	res := IngestResult{AcceptedKinds: map[string]int{}, DuplicateKinds: map[string]int{}}
	tx, err := s.begin(ctx)
	if err != nil {
		return res, fmt.Errorf("ingest %s: begin: %w", b.Host.ID, busy(err))
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, s.q(qUpsertHost),
		b.Host.ID, b.Host.Name, ms(now), ms(now)); err != nil {
		return res, fmt.Errorf("ingest %s: upsert host: %w", b.Host.ID, busy(err))
	}
	insEvent := s.q(qInsertEvent)
	touched := map[correlate.Indicator]report.Finding{}
	findingsChanged := false
	for _, it := range b.Items {
		payload, observed, fid, err := itemPayload(it)
		if err != nil {
			return res, err
		}
		r, err := tx.ExecContext(ctx, insEvent, b.Host.ID, it.Seq, it.Kind, ms(now), ms(observed), fid, payload)
		if err != nil {
			return res, fmt.Errorf("ingest %s seq %d: insert event: %w", b.Host.ID, it.Seq, busy(err))
		}
		n, err := r.RowsAffected()
		if err != nil {
			return res, fmt.Errorf("ingest %s seq %d: rows affected: %w", b.Host.ID, it.Seq, err)
		}
		if n == 0 {
			res.Duplicates++
			res.DuplicateKinds[it.Kind]++
			continue
		}
		res.Accepted++
		res.AcceptedKinds[it.Kind]++
		switch it.Kind {
		case KindFinding:
			findingsChanged = true
			fresh, err := s.upsertFinding(ctx, tx, b.Host.ID, *it.Finding, now)
			if err != nil {
				return res, err
			}
			if fresh && pol != nil {
				if a := pol.FindingAlert(b.Host, *it.Finding); a != nil {
					if err := s.raise(ctx, tx, a, now, pol, &res); err != nil {
						return res, err
					}
				}
			}
			for _, ind := range correlate.Indicators(*it.Finding) {
				touched[ind] = *it.Finding
			}
		case KindHeartbeat:
			if err := s.heartbeat(ctx, tx, b.Host, it, now, pol, &res); err != nil {
				return res, err
			}
			if err := s.colocate(ctx, tx, b.Host, it.Heartbeat.Network, b.Egress, now, pol, &res); err != nil {
				return res, err
			}
			findingsChanged = findingsChanged || it.Heartbeat.Serial != "" // the inventory match may change
		}
	}
	if len(touched) > 0 {
		if err := s.correlate(ctx, tx, b.Host.ID, touched, now, pol, &res); err != nil {
			return res, err
		}
	}
	baseChanged := false
	if findingsChanged || res.SilenceResolved {
		if baseChanged, err = s.rescore(ctx, tx, b.Host.ID); err != nil {
			return res, err
		}
	}
	if err := s.rescoreFleet(ctx, tx, b.Host.ID, baseChanged, &res); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return IngestResult{}, fmt.Errorf("ingest %s: commit: %w", b.Host.ID, busy(err))
	}
	return res, nil
}

func itemPayload(it Item) (payload string, observed time.Time, findingID string, err error) {
	var v any
	switch it.Kind {
	case KindFinding:
		v, observed, findingID = it.Finding, it.Finding.Time, it.Finding.ID
		if it.Finding.LastSeen != nil {
			observed = *it.Finding.LastSeen
		}
	case KindHeartbeat:
		v, observed = it.Heartbeat, it.Heartbeat.Time
	default:
		return "", time.Time{}, "", fmt.Errorf("item seq %d: unknown kind %q", it.Seq, it.Kind)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", time.Time{}, "", fmt.Errorf("item seq %d: encode: %w", it.Seq, err)
	}
	return string(b), observed, findingID, nil
}

// upsertFinding reports whether the finding is new on this host or was
// closed and is seen again.
func (s *Store) upsertFinding(ctx context.Context, tx *wtx, hostID string, f report.Finding, now time.Time) (bool, error) {
	ev, err := json.Marshal(f.Evidence)
	if err != nil {
		return false, fmt.Errorf("ingest %s finding %s: encode evidence: %w", hostID, f.ID, err)
	}
	if f.Evidence == nil {
		ev = []byte("{}")
	}
	count := int64(f.Count)
	if count < 1 && !f.Update {
		count = 1 // an update may carry 0 new sightings (an ended report)
	}
	if count < 0 {
		count = 0
	}
	first, last := f.Time, f.Time
	if f.LastSeen != nil && f.LastSeen.After(last) {
		last = *f.LastSeen
	}
	if first.IsZero() {
		first, last = now, now
	}
	allowed := 0
	if f.Allowed {
		allowed = 1
	}
	var ended int64
	if f.Ended {
		ended = ms(last)
	}
	var src string
	if f.Source != nil {
		b, err := json.Marshal(f.Source)
		if err != nil {
			return false, fmt.Errorf("ingest %s finding %s: encode source: %w", hostID, f.ID, err)
		}
		src = string(b)
	}
	query := qUpsertFinding
	if f.Update {
		query = qUpdateFinding
	}
	// opened_at is set on insert and on reopening a closed finding, so it
	// equals now exactly when the finding is new or reopened.
	rows, err := tx.QueryContext(ctx, s.q(query),
		hostID, f.ID, f.Detector, f.Rule, string(f.Category), f.Tool, int(f.Severity), f.Confidence, allowed, f.Summary, string(ev), ms(first), ms(last), count, ms(now), ended, src)
	if err != nil {
		return false, fmt.Errorf("ingest %s finding %s: upsert: %w", hostID, f.ID, busy(err))
	}
	defer rows.Close()
	var opened int64
	if !rows.Next() {
		return false, fmt.Errorf("ingest %s finding %s: upsert returned no row: %w", hostID, f.ID, busy(rows.Err()))
	}
	if err := rows.Scan(&opened); err != nil {
		return false, fmt.Errorf("ingest %s finding %s: upsert: %w", hostID, f.ID, err)
	}
	return opened == ms(now), rows.Close()
}

func (s *Store) heartbeat(ctx context.Context, tx *wtx, host report.Host, it Item, now time.Time, pol Policy, res *IngestResult) error {
	hb := it.Heartbeat
	doc, err := json.Marshal(hb)
	if err != nil {
		return fmt.Errorf("ingest %s heartbeat %d: encode: %w", host.ID, it.Seq, err)
	}
	// Only the newest heartbeat (by seq) sets the host's state, so a spool
	// flushed late cannot make an awake host look asleep.
	r, err := tx.ExecContext(ctx, s.q(`UPDATE hosts SET last_heartbeat = ?, last_heartbeat_seq = ?, heartbeat_interval = ?, last_event = ?, heartbeat = ?,
  agent_version = CASE WHEN ? <> '' THEN ? ELSE agent_version END
WHERE id = ? AND last_heartbeat_seq < ?`),
		ms(now), it.Seq, hb.IntervalSeconds, hb.Event, string(doc), hb.AgentVersion, hb.AgentVersion, host.ID, it.Seq)
	if err != nil {
		return fmt.Errorf("ingest %s heartbeat %d: update host: %w", host.ID, it.Seq, busy(err))
	}
	if n, _ := r.RowsAffected(); n > 0 {
		// The host is alive again: a silence alert resolves itself.
		r, err := tx.ExecContext(ctx, s.q(`UPDATE alerts SET status = 'closed', closed_by = 'system (heartbeat resumed)', updated_at = ? WHERE dedup_key = ? AND status <> 'closed'`),
			ms(now), "silent:"+host.ID)
		if err != nil {
			return fmt.Errorf("ingest %s heartbeat %d: resolve silence: %w", host.ID, it.Seq, busy(err))
		}
		if n, _ := r.RowsAffected(); n > 0 {
			res.SilenceResolved = true
		}
	}
	if hb.Event == EventStop || hb.Event == EventUninstall {
		sev := report.SeverityMedium
		verb := "stopped"
		if hb.Event == EventUninstall {
			sev, verb = report.SeverityHigh, "uninstalled"
		}
		a := &Alert{
			DedupKey: fmt.Sprintf("%s:%s:%d", hb.Event, host.ID, it.Seq),
			Kind:     AlertAgentStopped, Severity: sev, Category: string(report.CategoryAgent), Tool: "farmwatch",
			Title:  fmt.Sprintf("farmwatch agent %s on %s", verb, hostLabel(host)),
			Detail: fmt.Sprintf("The agent on host %s reported event %q at %s (agent %s, uptime %.0fs).", hostLabel(host), hb.Event, hb.Time.UTC().Format(time.RFC3339), hb.AgentVersion, hb.UptimeSeconds),
			Hosts:  []string{host.ID},
		}
		if err := s.raise(ctx, tx, a, now, pol, res); err != nil {
			return err
		}
	}
	return nil
}

func hostLabel(h report.Host) string {
	if h.Name != "" && h.Name != h.ID {
		return h.Name + " (" + h.ID + ")"
	}
	return h.ID
}

// raise inserts an alert unless an open one with the same dedup key exists.
func (s *Store) raise(ctx context.Context, tx *wtx, a *Alert, now time.Time, pol Policy, res *IngestResult) error {
	inserted, err := s.insertAlert(ctx, tx, a, now, pol)
	if err != nil {
		return err
	}
	if inserted && res != nil {
		res.Alerts = append(res.Alerts, *a)
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) insertAlert(ctx context.Context, ex execer, a *Alert, now time.Time, pol Policy) (bool, error) {
	if a.ID == "" {
		a.ID = newID()
	}
	a.Status, a.CreatedAt, a.UpdatedAt = StatusOpen, now.UTC().Truncate(time.Millisecond), now.UTC().Truncate(time.Millisecond)
	a.Delivery = DeliveryPending
	if pol == nil || !pol.Routed(*a) {
		a.Delivery = DeliveryNone
	}
	if a.Hosts == nil {
		a.Hosts = []string{}
	}
	hosts := hostsJSON(a.Hosts)
	r, err := ex.ExecContext(ctx, s.q(`INSERT INTO alerts (id, dedup_key, kind, severity, category, tool, title, detail, hosts, status, created_at, updated_at, delivery, next_attempt)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)
ON CONFLICT (dedup_key) WHERE status <> 'closed' DO NOTHING`),
		a.ID, a.DedupKey, a.Kind, int(a.Severity), a.Category, a.Tool, a.Title, a.Detail, hosts, ms(now), ms(now), a.Delivery, ms(now))
	if err != nil {
		return false, fmt.Errorf("insert alert %s: %w", a.DedupKey, busy(err))
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert alert %s: rows affected: %w", a.DedupKey, err)
	}
	return n > 0, nil
}

// correlate records the batch's indicators for the host and raises (or
// widens) a shared-infrastructure alert for each one now seen on two or more
// hosts.
func (s *Store) correlate(ctx context.Context, tx *wtx, hostID string, touched map[correlate.Indicator]report.Finding, now time.Time, pol Policy, res *IngestResult) error {
	keys := make([]correlate.Indicator, 0, len(touched))
	for k := range touched {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, ind := range keys {
		f := touched[ind]
		r, err := tx.ExecContext(ctx, s.q(qInsertIndicator), ind.Kind, ind.Value, hostID, f.ID, ms(now), ms(now))
		if err != nil {
			return fmt.Errorf("ingest %s: record indicator %s: %w", hostID, ind, busy(err))
		}
		if n, err := r.RowsAffected(); err != nil || n == 0 {
			// Known for this host: the set of hosts sharing it is unchanged.
			if _, err := tx.ExecContext(ctx, s.q(qRefreshIndicator),
				ms(now), f.ID, ind.Kind, ind.Value, hostID); err != nil {
				return fmt.Errorf("ingest %s: refresh indicator %s: %w", hostID, ind, busy(err))
			}
			continue
		}
		hosts, err := queryStrings(ctx, tx, s.q("SELECT host_id FROM indicators WHERE kind = ? AND value = ? ORDER BY host_id"), ind.Kind, ind.Value)
		if err != nil {
			return fmt.Errorf("ingest %s: hosts for indicator %s: %w", hostID, ind, busy(err))
		}
		if len(hosts) < 2 {
			continue
		}
		value := ind.Value
		if ind.Kind == correlate.KindRemoteID {
			if _, v, ok := strings.Cut(value, ":"); ok && f.Tool != "" {
				value = v
			}
		}
		what := correlate.Describe(ind.Kind, value, f.Tool)
		names, err := s.hostLabels(ctx, tx, hosts)
		if err != nil {
			return err
		}
		a := &Alert{
			DedupKey: "shared:" + ind.Kind + ":" + ind.Value,
			Kind:     AlertSharedInfra, Severity: report.SeverityCritical, Category: string(f.Category), Tool: f.Tool,
			Title:  fmt.Sprintf("Shared farm infrastructure: %s seen on %d hosts", what, len(hosts)),
			Detail: fmt.Sprintf("The same %s is reported by hosts %s. One device, peer or remote-desktop identity serving several corporate laptops points at a laptop farm.", what, strings.Join(names, ", ")),
			Hosts:  hosts,
		}
		inserted, err := s.insertAlert(ctx, tx, a, now, pol)
		if err != nil {
			return err
		}
		if inserted {
			res.Alerts = append(res.Alerts, *a)
			continue
		}
		// An open alert exists: widen its host list.
		if err := s.widen(ctx, tx, a, hostID, now, res); err != nil {
			return err
		}
	}
	return nil
}

// widen updates an open alert's hosts, title and detail when its host list
// changed, and queues it for delivery again so the people it was sent to
// learn that the farm grew.
func (s *Store) widen(ctx context.Context, tx *wtx, a *Alert, hostID string, now time.Time, res *IngestResult) error {
	hj := hostsJSON(a.Hosts)
	r, err := tx.ExecContext(ctx, s.q(`UPDATE alerts SET hosts = ?, title = ?, detail = ?, updated_at = ?,
  delivery = CASE WHEN delivery = 'none' THEN 'none' ELSE 'pending' END, attempts = 0, next_attempt = ?
WHERE dedup_key = ? AND status <> 'closed' AND hosts <> ?`),
		hj, a.Title, a.Detail, ms(now), ms(now), a.DedupKey, hj)
	if err != nil {
		return fmt.Errorf("ingest %s: widen alert %s: %w", hostID, a.DedupKey, busy(err))
	}
	if n, _ := r.RowsAffected(); n > 0 && res != nil {
		res.Widened = append(res.Widened, *a)
	}
	return nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// rescore recomputes the host's risk from its open findings and its fleet
// signals, and reports whether its own-findings score (Base) changed.
func (s *Store) rescore(ctx context.Context, q interface {
	rowQuerier
	execer
}, hostID string) (bool, error) {
	rows, err := q.QueryContext(ctx, s.q(qRiskFindings), hostID)
	if err != nil {
		return false, fmt.Errorf("rescore %s: %w", hostID, busy(err))
	}
	var open []report.Finding
	for rows.Next() {
		var f report.Finding
		var cat string
		var sev int
		if err := rows.Scan(&f.ID, &f.Rule, &cat, &sev, &f.Confidence); err != nil {
			rows.Close()
			return false, fmt.Errorf("rescore %s: scan: %w", hostID, err)
		}
		f.Category, f.Severity = report.Category(cat), report.Severity(sev)
		open = append(open, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("rescore %s: %w", hostID, busy(err))
	}
	fl, err := s.fleetSignals(ctx, q, hostID)
	if err != nil {
		return false, err
	}
	var prev risk.Result
	var prevDoc string
	if err := q.QueryRowContext(ctx, s.q("SELECT risk_explanation FROM hosts WHERE id = ?"), hostID).Scan(&prevDoc); err == nil && prevDoc != "" {
		_ = json.Unmarshal([]byte(prevDoc), &prev)
	}
	r, err := s.withInventory(ctx, q, hostID, risk.ScoreFleet(open, fl))
	if err != nil {
		return false, err
	}
	doc, _ := json.Marshal(r)
	if _, err := q.ExecContext(ctx, s.q(qUpdateRisk), r.Score, string(doc), hostID); err != nil {
		return false, fmt.Errorf("rescore %s: update: %w", hostID, busy(err))
	}
	return prev.Base != r.Base, nil
}

const findingCols = "host_id, id, detector, rule, category, tool, severity, confidence, allowed, summary, evidence, first_seen, last_seen, count, status, closed_at, closed_by, ended_at, source"

func (s *Store) findings(ctx context.Context, q querier, hostID string, openOnly bool) ([]Finding, error) {
	query := "SELECT " + findingCols + " FROM findings WHERE host_id = ?"
	if openOnly {
		query += " AND status <> 'closed'"
	}
	query += " ORDER BY severity DESC, last_seen DESC, id"
	rows, err := q.QueryContext(ctx, s.q(query), hostID)
	if err != nil {
		return nil, fmt.Errorf("query findings of %s: %w", hostID, err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var sev, allowed int
		var ev, cat string
		var first, last, closed, ended int64
		var count int64
		var src string
		if err := rows.Scan(&f.Host.ID, &f.ID, &f.Detector, &f.Rule, &cat, &f.Tool, &sev, &f.Confidence, &allowed, &f.Summary, &ev, &first, &last, &count, &f.Status, &closed, &f.ClosedBy, &ended, &src); err != nil {
			return nil, fmt.Errorf("scan finding: %w", err)
		}
		f.Category, f.Severity, f.Allowed, f.Count = report.Category(cat), report.Severity(sev), allowed != 0, int(count)
		f.FirstSeen, f.Time = fromMS(first), fromMS(first)
		ls := fromMS(last)
		f.LastSeen = &ls
		f.ClosedAt = fromMS(closed)
		f.EndedAt, f.Ended = fromMS(ended), ended != 0
		f.State = FindingActive
		if f.Ended {
			f.State = FindingEnded
		}
		f.DurationSeconds = ls.Sub(f.FirstSeen).Seconds()
		if src != "" {
			f.Source = &report.FindingSource{}
			if err := json.Unmarshal([]byte(src), f.Source); err != nil {
				return nil, fmt.Errorf("finding %s: decode source: %w", f.ID, err)
			}
		}
		if err := json.Unmarshal([]byte(ev), &f.Evidence); err != nil {
			return nil, fmt.Errorf("finding %s: decode evidence: %w", f.ID, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
