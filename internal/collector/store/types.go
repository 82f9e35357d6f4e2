package store

import (
	"errors"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/risk"
	"github.com/farmwatch/farmwatch/internal/report"
)

// ErrNotFound is returned when a host, alert, user or session does not exist.
var ErrNotFound = errors.New("not found")

// Item kinds of an ingest batch.
const (
	KindFinding   = "finding"
	KindHeartbeat = "heartbeat"
)

// Heartbeat events.
const (
	EventNone      = ""
	EventSleep     = "sleep"
	EventWake      = "wake"
	EventStop      = "stop"
	EventUninstall = "uninstall"
)

// Alert kinds.
const (
	AlertFinding      = "finding"
	AlertHostSilent   = "host_silent"
	AlertAgentStopped = "agent_stopped"
	AlertSharedInfra  = "shared_infrastructure"
)

// Alert statuses.
const (
	StatusOpen   = "open"
	StatusAcked  = "acknowledged"
	StatusClosed = "closed"
)

// Delivery states of an alert.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	DeliveryNone      = "none" // no sink matched
)

// DetectorHealth is one detector's state in a heartbeat.
type DetectorHealth struct {
	OK      bool      `json:"ok"`
	LastRun time.Time `json:"last_run"`
	Error   string    `json:"error"`
}

// Heartbeat is the agent's periodic liveness report (API contract v1).
type Heartbeat struct {
	Time            time.Time                 `json:"time"`
	AgentVersion    string                    `json:"agent_version"`
	UptimeSeconds   float64                   `json:"uptime_seconds"`
	IntervalSeconds int64                     `json:"interval_seconds"`
	Detectors       map[string]DetectorHealth `json:"detectors"`
	SpoolBytes      int64                     `json:"spool_bytes"`
	// SpoolPending and SpoolPendingBytes are the agent's undelivered
	// backlog (spool_bytes also counts delivered records on disk).
	SpoolPending      int64   `json:"spool_pending"`
	SpoolPendingBytes int64   `json:"spool_pending_bytes"`
	SpoolDropped      int64   `json:"spool_dropped"`
	Event             string  `json:"event"`
	CPUPercent        float64 `json:"cpu_percent"`
	RSSBytes          int64   `json:"rss_bytes"`
	// Capture has each live capture's counters (packets, kernel drops and
	// freezes, budget pauses).
	Capture []report.CaptureStats `json:"capture,omitempty"`
	// Network is where the host is, hashed with the fleet key.
	Network *report.NetworkIdentity `json:"network,omitempty"`
	// Serial is the machine serial number (inventory matching).
	Serial string `json:"serial,omitempty"`
}

// Item is one element of an ingest batch.
type Item struct {
	Seq       int64           `json:"seq"`
	Kind      string          `json:"kind"`
	Finding   *report.Finding `json:"finding,omitempty"`
	Heartbeat *Heartbeat      `json:"heartbeat,omitempty"`
}

// Batch is a validated ingest request from one host.
type Batch struct {
	Host  report.Host
	Items []Item
	// Egress is the public address the batch came from, or "" when it is
	// an office or known VPN egress (the server decides).
	Egress string
}

// IngestResult counts what a batch stored.
type IngestResult struct {
	Accepted   int
	Duplicates int
	// AcceptedKinds and DuplicateKinds split the counts by item kind.
	AcceptedKinds  map[string]int
	DuplicateKinds map[string]int
	Alerts         []Alert // alerts raised by this batch
	// Widened are open alerts this batch added hosts to; they are
	// delivered again (the farm grew).
	Widened []Alert
	// SilenceResolved is set when a heartbeat closed the host's silence
	// alert.
	SilenceResolved bool
}

// Host is a host's row.
type Host struct {
	ID                string      `json:"id"`
	Name              string      `json:"name"`
	AgentVersion      string      `json:"agent_version"`
	EnrolledAt        time.Time   `json:"enrolled_at"`
	FirstSeen         time.Time   `json:"first_seen"`
	LastSeen          time.Time   `json:"last_seen"`
	LastHeartbeat     time.Time   `json:"last_heartbeat"`
	HeartbeatInterval int64       `json:"heartbeat_interval_seconds"`
	LastEvent         string      `json:"last_event"`
	Heartbeat         *Heartbeat  `json:"heartbeat,omitempty"`
	Risk              risk.Result `json:"risk"`
	OpenFindings      int         `json:"open_findings"`
}

// Finding states: whether the agent still sees it.
const (
	FindingActive = "active"
	FindingEnded  = "ended"
)

// Finding is a stored finding with its collector-side state. Status is the
// analyst's (open, closed); State is the agent's: active while it keeps
// being re-reported, ended once the agent reported it no longer seen.
type Finding struct {
	report.Finding
	FirstSeen time.Time `json:"first_seen"`
	Status    string    `json:"status"`
	ClosedAt  time.Time `json:"closed_at,omitempty"`
	ClosedBy  string    `json:"closed_by,omitempty"`
	State     string    `json:"state"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// DurationSeconds is last_seen − first_seen.
	DurationSeconds float64 `json:"duration_seconds"`
}

// Event is one timeline entry (one ingested item).
type Event struct {
	HostID     string    `json:"host_id"`
	Seq        int64     `json:"seq"`
	Kind       string    `json:"kind"`
	ReceivedAt time.Time `json:"received_at"`
	ObservedAt time.Time `json:"observed_at"`
	FindingID  string    `json:"finding_id,omitempty"`
	Payload    string    `json:"payload"`
}

// Alert is something the security team should look at.
type Alert struct {
	ID          string          `json:"id"`
	DedupKey    string          `json:"dedup_key"`
	Kind        string          `json:"kind"`
	Severity    report.Severity `json:"severity"`
	Category    string          `json:"category,omitempty"`
	Tool        string          `json:"tool,omitempty"`
	Title       string          `json:"title"`
	Detail      string          `json:"detail"`
	Hosts       []string        `json:"hosts"`
	Status      string          `json:"status"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	AckedBy     string          `json:"acked_by,omitempty"`
	ClosedBy    string          `json:"closed_by,omitempty"`
	Delivery    string          `json:"delivery"`
	Attempts    int             `json:"delivery_attempts"`
	NextAttempt time.Time       `json:"-"`
	LastError   string          `json:"delivery_error,omitempty"`
}

// Policy decides which ingested items raise alerts. The store calls it inside
// the ingest transaction so an alert is stored exactly when its cause is.
type Policy interface {
	// FindingAlert returns an alert for a finding that is new or reopened
	// on this host, or nil.
	FindingAlert(host report.Host, f report.Finding) *Alert
	// Routed reports whether any delivery sink wants the alert; when none
	// does it is stored with delivery "none".
	Routed(a Alert) bool
}

// User is a local web account.
type User struct {
	Name         string
	PasswordHash string
	CreatedAt    time.Time
}

// Session is a logged-in web session.
type Session struct {
	User      string
	CSRF      string
	ExpiresAt time.Time
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
