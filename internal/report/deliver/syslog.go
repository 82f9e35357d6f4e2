package deliver

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/cef"
)

// SyslogConfig configures RFC 5424 syslog delivery to a SIEM.
type SyslogConfig struct {
	// Address is host:port of the syslog receiver.
	Address string `yaml:"address"`
	// TLS enables RFC 5425 syslog over TLS; CAFile trusts a private CA.
	TLS    bool   `yaml:"tls"`
	CAFile string `yaml:"ca_file"`
}

// Syslog sends each item as one RFC 5424 message framed by octet counting
// (RFC 6587) over TCP or TLS, with a CEF payload.
type Syslog struct {
	cfg      SyslogConfig
	hostname string
	version  string
	tls      *tls.Config

	mu   sync.Mutex
	conn net.Conn
}

var _ Transport = (*Syslog)(nil)

// NewSyslog builds the transport.
func NewSyslog(cfg SyslogConfig, hostname, agentVersion string) (*Syslog, error) {
	if _, _, err := net.SplitHostPort(cfg.Address); err != nil {
		return nil, fmt.Errorf("syslog: address %q: %w", cfg.Address, err)
	}
	s := &Syslog{cfg: cfg, hostname: sanitizeHeader(hostname), version: agentVersion}
	if cfg.TLS {
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("syslog: read ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("syslog: ca_file %s holds no PEM certificate", cfg.CAFile)
			}
			s.tls.RootCAs = pool
		}
	}
	return s, nil
}

// Name implements Transport.
func (s *Syslog) Name() string { return "syslog" }

// Send implements Transport. A broken connection is dropped and redialled
// on the next attempt; the batch is resent whole (at-least-once).
func (s *Syslog) Send(ctx context.Context, items []report.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		d := &net.Dialer{Timeout: 10 * time.Second}
		var c net.Conn
		var err error
		if s.tls != nil {
			c, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, "tcp", s.cfg.Address)
		} else {
			c, err = d.DialContext(ctx, "tcp", s.cfg.Address)
		}
		if err != nil {
			return fmt.Errorf("syslog: dial %s: %w", s.cfg.Address, err)
		}
		s.conn = c
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	w := bufio.NewWriter(s.conn)
	for _, it := range items {
		msg := FormatRFC5424(it, s.hostname, s.version)
		if _, err := fmt.Fprintf(w, "%d %s", len(msg), msg); err != nil {
			s.reset()
			return fmt.Errorf("syslog: write: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		s.reset()
		return fmt.Errorf("syslog: write: %w", err)
	}
	return nil
}

func (s *Syslog) reset() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// FormatRFC5424 renders one item as an RFC 5424 message with a CEF body.
func FormatRFC5424(it report.Item, hostname, version string) string {
	sev, t, body := 6, time.Now(), ""
	switch {
	case it.Finding != nil:
		f := it.Finding
		sev, t, body = cef.SyslogSeverity(f.Severity), f.Time, FormatCEF(f, version)
	case it.Heartbeat != nil:
		t = it.Heartbeat.Time
		body = formatHeartbeatCEF(it.Heartbeat, version)
	}
	const facility = 13 // log audit
	msgID := it.Kind
	if msgID == "" {
		msgID = "-"
	}
	if hostname == "" {
		hostname = "-"
	}
	return fmt.Sprintf("<%d>1 %s %s farmwatch-agent %d %s [farmwatch@32473 seq=\"%d\"] %s",
		facility*8+sev, t.UTC().Format(time.RFC3339Nano), hostname, os.Getpid(), msgID, it.Seq, body)
}

// FormatCEF renders a finding as an ArcSight CEF line.
func FormatCEF(f *report.Finding, version string) string {
	ev, _ := json.Marshal(f.Evidence)
	if len(ev) > 2048 {
		ev = append(ev[:2045], "..."...)
	}
	ext := []string{
		"rt=" + strconv.FormatInt(f.Time.UnixMilli(), 10),
		"dvchost=" + cef.Value(f.Host.Name),
		"deviceExternalId=" + cef.Value(f.Host.ID),
		"cat=" + cef.Value(string(f.Category)),
		"cs1Label=tool", "cs1=" + cef.Value(f.Tool),
		"cs2Label=findingId", "cs2=" + cef.Value(f.ID),
		"cs3Label=evidence", "cs3=" + cef.Value(string(ev)),
		"cs4Label=detector", "cs4=" + cef.Value(f.Detector),
		"cfp1Label=confidence", "cfp1=" + strconv.FormatFloat(f.Confidence, 'f', 2, 64),
		"cn1Label=count", "cn1=" + strconv.Itoa(max(f.Count, 1)),
		"act=" + map[bool]string{true: "allowed", false: "alert"}[f.Allowed],
		"msg=" + cef.Value(f.Summary),
	}
	return fmt.Sprintf("CEF:0|farmwatch|farmwatch-agent|%s|%s|%s|%d|%s",
		cef.Header(version), cef.Header(f.Rule), cef.Header(f.Summary), cef.Severity(f.Severity), strings.Join(ext, " "))
}

func formatHeartbeatCEF(h *report.Heartbeat, version string) string {
	ext := []string{
		"rt=" + strconv.FormatInt(h.Time.UnixMilli(), 10),
		"cs1Label=event", "cs1=" + cef.Value(h.Event),
		"cn1Label=uptimeSeconds", "cn1=" + strconv.FormatInt(h.UptimeSeconds, 10),
		"cn2Label=spoolDropped", "cn2=" + strconv.FormatUint(h.SpoolDropped, 10),
	}
	return fmt.Sprintf("CEF:0|farmwatch|farmwatch-agent|%s|agent.heartbeat|farmwatch agent heartbeat|1|%s", cef.Header(version), strings.Join(ext, " "))
}

// sanitizeHeader makes a syslog HOSTNAME field: printable ASCII, no spaces.
func sanitizeHeader(s string) string {
	out := strings.Map(func(r rune) rune {
		if r <= 32 || r >= 127 {
			return -1
		}
		return r
	}, s)
	if len(out) > 255 {
		out = out[:255]
	}
	return out
}
