package deliver

import (
	"bufio"
	"context"
	"crypto/tls"
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
	"github.com/farmwatch/farmwatch/internal/report/rfc5424"
)

// SyslogConfig configures RFC 5424 syslog delivery to a SIEM.
type SyslogConfig struct {
	// Address is host:port of the syslog receiver.
	Address string `yaml:"address"`
	// TLS enables RFC 5425 syslog over TLS; CAFile trusts a private CA.
	TLS    bool   `yaml:"tls"`
	CAFile string `yaml:"ca_file"`
	// EnterpriseID is your organisation's IANA private enterprise number:
	// when set, messages also carry [farmwatch@<it> seq=… kind=…].
	EnterpriseID string `yaml:"enterprise_id"`
}

// Syslog sends each item as one RFC 5424 message (internal/report/rfc5424)
// framed by octet counting over TCP or TLS, with a CEF payload.
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
	if err := rfc5424.ValidateEnterpriseID(cfg.EnterpriseID); err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	s := &Syslog{cfg: cfg, hostname: hostname, version: agentVersion}
	if cfg.TLS {
		c, err := rfc5424.TLSConfig(cfg.CAFile)
		if err != nil {
			return nil, err
		}
		s.tls = c
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
		c, err := rfc5424.Dial(ctx, s.cfg.Address, s.tls)
		if err != nil {
			return err
		}
		s.conn = c
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	w := bufio.NewWriter(s.conn)
	for _, it := range items {
		if err := rfc5424.Frame(w, FormatRFC5424(it, s.hostname, s.version, s.cfg.EnterpriseID)); err != nil {
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

// FormatRFC5424 renders one item as an RFC 5424 message with a CEF body;
// the spool sequence number is meta sequenceId. enterpriseID ("" for none)
// adds the private element farmwatch@<enterpriseID>.
func FormatRFC5424(it report.Item, hostname, version, enterpriseID string) string {
	m := rfc5424.Message{Severity: 6, Time: time.Now(), Hostname: hostname, AppName: "farmwatch-agent",
		ProcID: strconv.Itoa(os.Getpid()), MsgID: it.Kind, Software: "farmwatch-agent", Version: version,
		Sequence: it.Seq, EnterpriseID: enterpriseID,
		Private: []rfc5424.Param{{Name: "seq", Value: strconv.FormatUint(it.Seq, 10)}, {Name: "kind", Value: it.Kind}}}
	switch {
	case it.Finding != nil:
		f := it.Finding
		m.Severity, m.Time, m.Body = cef.SyslogSeverity(f.Severity), f.Time, FormatCEF(f, version)
	case it.Heartbeat != nil:
		m.Time, m.Body = it.Heartbeat.Time, formatHeartbeatCEF(it.Heartbeat, version)
	}
	return m.String()
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
