package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
)

const hostCols = `h.id, h.name, h.agent_version, h.enrolled_at, h.first_seen, h.last_seen, h.last_heartbeat, h.heartbeat_interval, h.last_event, h.heartbeat, h.risk_explanation,
 (SELECT COUNT(*) FROM findings f WHERE f.host_id = h.id AND f.status <> 'closed' AND f.allowed = 0)`

func scanHost(sc interface{ Scan(...any) error }) (Host, error) {
	var h Host
	var enrolled, first, last, hb int64
	var hbDoc, riskDoc string
	if err := sc.Scan(&h.ID, &h.Name, &h.AgentVersion, &enrolled, &first, &last, &hb, &h.HeartbeatInterval, &h.LastEvent, &hbDoc, &riskDoc, &h.OpenFindings); err != nil {
		return h, err
	}
	h.EnrolledAt, h.FirstSeen, h.LastSeen, h.LastHeartbeat = fromMS(enrolled), fromMS(first), fromMS(last), fromMS(hb)
	if hbDoc != "" {
		h.Heartbeat = &Heartbeat{}
		if err := json.Unmarshal([]byte(hbDoc), h.Heartbeat); err != nil {
			return h, fmt.Errorf("host %s: decode heartbeat: %w", h.ID, err)
		}
	}
	if riskDoc != "" {
		if err := json.Unmarshal([]byte(riskDoc), &h.Risk); err != nil {
			return h, fmt.Errorf("host %s: decode risk: %w", h.ID, err)
		}
	} else {
		h.Risk.Level = "none"
	}
	return h, nil
}

// Hosts lists hosts, riskiest first.
func (s *Store) Hosts(ctx context.Context) ([]Host, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+hostCols+" FROM hosts h ORDER BY h.risk_score DESC, h.last_seen DESC, h.id")
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	defer rows.Close()
	out := []Host{}
	for rows.Next() {
		h, err := scanHost(rows)
		if err != nil {
			return nil, fmt.Errorf("list hosts: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Host returns one host or ErrNotFound.
func (s *Store) Host(ctx context.Context, id string) (Host, error) {
	h, err := scanHost(s.r.QueryRowContext(ctx, s.q("SELECT "+hostCols+" FROM hosts h WHERE h.id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNotFound
	}
	if err != nil {
		return h, fmt.Errorf("get host %s: %w", id, err)
	}
	return h, nil
}

// Findings returns a host's findings (all, or only open ones), most severe
// first.
func (s *Store) Findings(ctx context.Context, hostID string, openOnly bool) ([]Finding, error) {
	fs, err := s.findings(ctx, s.r, hostID, openOnly)
	if fs == nil && err == nil {
		fs = []Finding{}
	}
	return fs, err
}

// CloseFinding marks a host's finding closed (it no longer counts towards
// risk) until the agent reports it again.
func (s *Store) CloseFinding(ctx context.Context, hostID, findingID, by string, now time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("close finding: begin: %w", busy(err))
	}
	defer tx.Rollback() //nolint:errcheck
	r, err := tx.ExecContext(ctx, s.q("UPDATE findings SET status = 'closed', closed_at = ?, closed_by = ? WHERE host_id = ? AND id = ?"), ms(now), by, hostID, findingID)
	if err != nil {
		return fmt.Errorf("close finding %s/%s: %w", hostID, findingID, busy(err))
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	changed, err := s.rescore(ctx, tx, hostID)
	if err != nil {
		return err
	}
	if err := s.rescoreFleet(ctx, tx, hostID, changed, &IngestResult{}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("close finding: commit: %w", busy(err))
	}
	return nil
}

// Timeline returns a host's newest events first, at most limit.
func (s *Store) Timeline(ctx context.Context, hostID string, limit int) ([]Event, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT host_id, seq, kind, received_at, observed_at, finding_id, payload FROM events
WHERE host_id = ? ORDER BY observed_at DESC, seq DESC LIMIT ?`), hostID, limit)
	if err != nil {
		return nil, fmt.Errorf("timeline of %s: %w", hostID, err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var rec, obs int64
		if err := rows.Scan(&e.HostID, &e.Seq, &e.Kind, &rec, &obs, &e.FindingID, &e.Payload); err != nil {
			return nil, fmt.Errorf("timeline of %s: scan: %w", hostID, err)
		}
		e.ReceivedAt, e.ObservedAt = fromMS(rec), fromMS(obs)
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountEvents returns how many events a host has stored.
func (s *Store) CountEvents(ctx context.Context, hostID string) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM events WHERE host_id = ?"), hostID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events of %s: %w", hostID, err)
	}
	return n, nil
}

const alertCols = "id, dedup_key, kind, severity, category, tool, title, detail, hosts, status, created_at, updated_at, acked_by, closed_by, delivery, attempts, next_attempt, last_error"

func scanAlert(sc interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var sev int
	var hosts string
	var created, updated, next int64
	if err := sc.Scan(&a.ID, &a.DedupKey, &a.Kind, &sev, &a.Category, &a.Tool, &a.Title, &a.Detail, &hosts, &a.Status, &created, &updated, &a.AckedBy, &a.ClosedBy, &a.Delivery, &a.Attempts, &next, &a.LastError); err != nil {
		return a, err
	}
	a.Severity, a.CreatedAt, a.UpdatedAt, a.NextAttempt = report.Severity(sev), fromMS(created), fromMS(updated), fromMS(next)
	if err := json.Unmarshal([]byte(hosts), &a.Hosts); err != nil {
		return a, fmt.Errorf("alert %s: decode hosts: %w", a.ID, err)
	}
	return a, nil
}

func (s *Store) alerts(ctx context.Context, query string, args ...any) ([]Alert, error) {
	rows, err := s.r.QueryContext(ctx, s.q("SELECT "+alertCols+" FROM alerts "+query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Alerts lists alerts with the given status ("" for open and acknowledged,
// "all" for every alert), newest first, at most limit.
func (s *Store) Alerts(ctx context.Context, status string, limit int) ([]Alert, error) {
	var as []Alert
	var err error
	switch status {
	case "":
		as, err = s.alerts(ctx, "WHERE status <> 'closed' ORDER BY severity DESC, created_at DESC LIMIT ?", limit)
	case "all":
		as, err = s.alerts(ctx, "ORDER BY created_at DESC LIMIT ?", limit)
	default:
		as, err = s.alerts(ctx, "WHERE status = ? ORDER BY created_at DESC LIMIT ?", status, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return as, nil
}

// Alert returns one alert or ErrNotFound.
func (s *Store) Alert(ctx context.Context, id string) (Alert, error) {
	a, err := scanAlert(s.r.QueryRowContext(ctx, s.q("SELECT "+alertCols+" FROM alerts WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("get alert %s: %w", id, err)
	}
	return a, nil
}

// SetAlertStatus acknowledges or closes an alert on behalf of user.
func (s *Store) SetAlertStatus(ctx context.Context, id, status, user string, now time.Time) error {
	var query string
	switch status {
	case StatusAcked:
		query = "UPDATE alerts SET status = 'acknowledged', acked_by = ?, updated_at = ? WHERE id = ? AND status = 'open'"
	case StatusClosed:
		query = "UPDATE alerts SET status = 'closed', closed_by = ?, updated_at = ? WHERE id = ? AND status <> 'closed'"
	default:
		return fmt.Errorf("set alert status: invalid status %q", status)
	}
	r, err := s.w.ExecContext(ctx, s.q(query), user, ms(now), id)
	if err != nil {
		return fmt.Errorf("set alert %s %s: %w", id, status, busy(err))
	}
	if n, _ := r.RowsAffected(); n == 0 {
		if _, err := s.Alert(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// RaiseAlert stores an alert unless an open one with its dedup key exists,
// and reports whether it was stored.
func (s *Store) RaiseAlert(ctx context.Context, a *Alert, now time.Time, pol Policy) (bool, error) {
	return s.insertAlert(ctx, s.w, a, now, pol)
}

// CheckSilence raises a host_silent alert for every host whose last
// heartbeat is older than missed heartbeat intervals and whose last
// heartbeat event does not explain the silence (sleep, stop, uninstall).
func (s *Store) CheckSilence(ctx context.Context, now time.Time, missed int, pol Policy) ([]Alert, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, name, last_heartbeat, heartbeat_interval, last_event FROM hosts
WHERE last_heartbeat > 0 AND heartbeat_interval > 0 AND last_event NOT IN ('sleep', 'stop', 'uninstall')
  AND last_heartbeat + heartbeat_interval * 1000 * ? < ?`), missed, ms(now))
	if err != nil {
		return nil, fmt.Errorf("check silence: %w", err)
	}
	type silent struct {
		host     report.Host
		last     int64
		interval int64
		event    string
	}
	var hs []silent
	for rows.Next() {
		var h silent
		if err := rows.Scan(&h.host.ID, &h.host.Name, &h.last, &h.interval, &h.event); err != nil {
			rows.Close()
			return nil, fmt.Errorf("check silence: scan: %w", err)
		}
		hs = append(hs, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check silence: %w", err)
	}
	var raised []Alert
	for _, h := range hs {
		last := fromMS(h.last)
		a := &Alert{
			DedupKey: "silent:" + h.host.ID, Kind: AlertHostSilent, Severity: report.SeverityHigh,
			Category: string(report.CategoryAgent), Tool: "farmwatch",
			Title:  fmt.Sprintf("Host %s is silent", hostLabel(h.host)),
			Detail: fmt.Sprintf("No heartbeat from %s since %s (%s, more than %d intervals of %ds); its last heartbeat event was %q, not sleep.", hostLabel(h.host), last.Format(time.RFC3339), now.Sub(last).Round(time.Second), missed, h.interval, h.event),
			Hosts:  []string{h.host.ID},
		}
		ok, err := s.insertAlert(ctx, s.w, a, now, pol)
		if err != nil {
			return raised, fmt.Errorf("check silence: %w", err)
		}
		if ok {
			raised = append(raised, *a)
			// Silence is a fleet signal of the host's risk.
			if _, err := s.rescore(ctx, s.w, h.host.ID); err != nil {
				return raised, fmt.Errorf("check silence: %w", err)
			}
		}
	}
	return raised, nil
}

// DueDeliveries claims up to limit alerts whose delivery is pending and due,
// leasing each for lease so another collector on the same database does
// not deliver it at the same time.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Alert, error) {
	cands, err := s.alerts(ctx, "WHERE delivery = 'pending' AND next_attempt <= ? ORDER BY next_attempt LIMIT ?", ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	if s.dueSelected != nil {
		s.dueSelected()
	}
	var out []Alert
	for _, a := range cands {
		// The claim holds only for the version read: an alert widened
		// since (its host list changed, even within the same millisecond
		// as it was raised) is left for the next round, which reads the
		// new version; claiming it would send the old host list and push
		// the new one's delivery back by a whole lease.
		r, err := s.w.ExecContext(ctx, s.q("UPDATE alerts SET next_attempt = ? WHERE id = ? AND delivery = 'pending' AND next_attempt = ? AND hosts = ?"), ms(now.Add(lease)), a.ID, ms(a.NextAttempt), hostsJSON(a.Hosts))
		if err != nil {
			return out, fmt.Errorf("claim alert %s: %w", a.ID, busy(err))
		}
		if n, _ := r.RowsAffected(); n == 1 {
			out = append(out, a)
		}
	}
	return out, nil
}

// RecordDelivery stores the outcome of delivering the claimed alert a:
// delivered, or failed with the next attempt at next (final marks it
// failed for good). If the alert was widened while it was being delivered
// (its host list is no longer the one that was sent), the outcome is
// dropped: widening queued the new version for delivery, and marking it
// delivered would lose it.
func (s *Store) RecordDelivery(ctx context.Context, a Alert, attempts int, deliveryErr error, next time.Time, final bool) error {
	state, msg := DeliveryDelivered, ""
	if deliveryErr != nil {
		state, msg = DeliveryPending, deliveryErr.Error()
		if final {
			state = DeliveryFailed
		}
	}
	hj := hostsJSON(a.Hosts)
	r, err := s.w.ExecContext(ctx, s.q("UPDATE alerts SET delivery = ?, attempts = ?, next_attempt = ?, last_error = ? WHERE id = ? AND hosts = ?"), state, attempts, ms(next), msg, a.ID, hj)
	if err != nil {
		return fmt.Errorf("record delivery of %s: %w", a.ID, busy(err))
	}
	if n, _ := r.RowsAffected(); n == 1 {
		return nil
	}
	// Widened meanwhile: the new version is due at once, not when the
	// lease taken for the old one runs out.
	if _, err := s.w.ExecContext(ctx, s.q("UPDATE alerts SET next_attempt = ? WHERE id = ? AND delivery = 'pending' AND hosts <> ? AND next_attempt > ?"), ms(next), a.ID, hj, ms(next)); err != nil {
		return fmt.Errorf("record delivery of %s: make its widened version due: %w", a.ID, busy(err))
	}
	return nil
}

// hostsJSON is an alert's host list as the hosts column stores it (the
// encoding the read path decodes, so a list read back encodes to the same
// text).
func hostsJSON(hosts []string) string {
	b, _ := json.Marshal(hosts)
	return string(b)
}

// AddUser creates or replaces a local web account.
func (s *Store) AddUser(ctx context.Context, name, passwordHash string, now time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash`), name, passwordHash, ms(now)); err != nil {
		return fmt.Errorf("add user %s: %w", name, busy(err))
	}
	return nil
}

// User returns a local account or ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	u := User{Name: name}
	var created int64
	err := s.r.QueryRowContext(ctx, s.q("SELECT password_hash, created_at FROM users WHERE name = ?"), name).Scan(&u.PasswordHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("get user %s: %w", name, err)
	}
	u.CreatedAt = fromMS(created)
	return u, nil
}

// CreateSession stores a session under the hash of its token.
func (s *Store) CreateSession(ctx context.Context, tokenHash string, sess Session, now time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.q("INSERT INTO sessions (token_hash, user_name, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)"),
		tokenHash, sess.User, sess.CSRF, ms(now), ms(sess.ExpiresAt)); err != nil {
		return fmt.Errorf("create session: %w", busy(err))
	}
	if _, err := s.w.ExecContext(ctx, s.q("DELETE FROM sessions WHERE expires_at < ?"), ms(now)); err != nil {
		return fmt.Errorf("expire sessions: %w", busy(err))
	}
	return nil
}

// Session returns an unexpired session or ErrNotFound.
func (s *Store) Session(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	var sess Session
	var exp int64
	err := s.r.QueryRowContext(ctx, s.q("SELECT user_name, csrf, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?"), tokenHash, ms(now)).Scan(&sess.User, &sess.CSRF, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return sess, ErrNotFound
	}
	if err != nil {
		return sess, fmt.Errorf("get session: %w", err)
	}
	sess.ExpiresAt = fromMS(exp)
	return sess, nil
}

// DeleteSession logs a session out.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.w.ExecContext(ctx, s.q("DELETE FROM sessions WHERE token_hash = ?"), tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", busy(err))
	}
	return nil
}

// AddAPIToken stores (or replaces) the named REST API token's hash.
func (s *Store) AddAPIToken(ctx context.Context, name, tokenHash string, now time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO api_tokens (token_hash, name, created_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`), tokenHash, name, ms(now)); err != nil {
		return fmt.Errorf("add api token %s: %w", name, busy(err))
	}
	return nil
}

// APIToken returns the name of the token with this hash or ErrNotFound.
func (s *Store) APIToken(ctx context.Context, tokenHash string) (string, error) {
	var name string
	err := s.r.QueryRowContext(ctx, s.q("SELECT name FROM api_tokens WHERE token_hash = ?"), tokenHash).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("get api token: %w", err)
	}
	return name, nil
}
