package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/config"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report/cef"
)

// Webhook posts alerts as JSON: the alert object (format "json") or
// {"text": "..."} for Slack-compatible incoming webhooks (format "slack").
type Webhook struct {
	name, url, format string
	Client            *http.Client
}

// NewWebhook returns a webhook sink.
func NewWebhook(name, url, format string) *Webhook {
	if format == "" {
		format = "json"
	}
	return &Webhook{name: name, url: url, format: format, Client: &http.Client{Timeout: 15 * time.Second}}
}

// Name returns "webhook:NAME".
func (w *Webhook) Name() string { return "webhook:" + w.name }

// WebhookPayload is the generic JSON body.
type WebhookPayload struct {
	Source string      `json:"source"`
	Alert  store.Alert `json:"alert"`
}

// Body renders the request body for an alert.
func (w *Webhook) Body(a store.Alert) ([]byte, error) {
	if w.format == "slack" {
		return json.Marshal(map[string]string{"text": SlackText(a)})
	}
	return json.Marshal(WebhookPayload{Source: "farmwatch-collector", Alert: a})
}

// SlackText is the one-message summary of an alert.
func SlackText(a store.Alert) string {
	return fmt.Sprintf("[farmwatch] %s %s: %s\nhosts: %s\n%s", strings.ToUpper(a.Severity.String()), a.Kind, a.Title, strings.Join(a.Hosts, ", "), a.Detail)
}

// Deliver posts the alert; any non-2xx answer is an error.
func (w *Webhook) Deliver(ctx context.Context, a store.Alert) error {
	body, err := w.Body(a)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "farmwatch-collector")
	resp, err := w.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// Syslog sends RFC 5424 messages, octet-counted over TCP or TLS (RFC 6587 /
// RFC 5425), each carrying a CEF event. It dials per delivery, so a
// restarted syslog server costs nothing but one retry.
type Syslog struct {
	addr, proto, version string
	tls                  *tls.Config
	Hostname             string
	Dial                 func(ctx context.Context, network, addr string) (net.Conn, error)
}

// NewSyslog returns a syslog sink.
func NewSyslog(c config.Syslog, version string) (*Syslog, error) {
	s := &Syslog{addr: c.Address, proto: c.Protocol, version: version}
	if s.proto == "" {
		s.proto = "tcp"
	}
	if s.proto == "tls" {
		host, _, _ := net.SplitHostPort(c.Address)
		s.tls = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if c.CA != "" {
			pem, err := os.ReadFile(c.CA)
			if err != nil {
				return nil, fmt.Errorf("syslog ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("syslog ca %s: no certificates", c.CA)
			}
			s.tls.RootCAs = pool
		}
	}
	s.Hostname, _ = os.Hostname()
	d := &net.Dialer{Timeout: 10 * time.Second}
	s.Dial = d.DialContext
	return s, nil
}

// Name returns "syslog".
func (s *Syslog) Name() string { return "syslog" }

// Deliver sends one message.
func (s *Syslog) Deliver(ctx context.Context, a store.Alert) error {
	conn, err := s.Dial(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("dial syslog %s: %w", s.addr, err)
	}
	if s.tls != nil {
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("syslog tls handshake: %w", err)
		}
		conn = tc
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl) //nolint:errcheck
	}
	msg := RFC5424(a, s.Hostname, time.Now(), CEF(a, s.version))
	if _, err := fmt.Fprintf(conn, "%d %s", len(msg), msg); err != nil {
		return fmt.Errorf("write syslog: %w", err)
	}
	return nil
}

// RFC5424 frames msg as an RFC 5424 syslog line (facility local4).
func RFC5424(a store.Alert, hostname string, now time.Time, msg string) string {
	if hostname == "" {
		hostname = "-"
	}
	pri := 20*8 + cef.SyslogSeverity(a.Severity)
	return fmt.Sprintf("<%d>1 %s %s farmwatch-collector - %s [farmwatch@53595 alert_id=\"%s\" kind=\"%s\"] %s",
		pri, now.UTC().Format("2006-01-02T15:04:05.000Z07:00"), sdSafe(hostname, 255), sdSafe(a.Kind, 32), sdParam(a.ID), sdParam(a.Kind), msg)
}

func sdSafe(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r <= 32 || r >= 127 {
			return '_'
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n]
	}
	if s == "" {
		return "-"
	}
	return s
}

func sdParam(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(s)
}

// CEF renders the alert as an ArcSight Common Event Format event.
func CEF(a store.Alert, version string) string {
	ext := []string{
		"rt=" + strconv.FormatInt(a.CreatedAt.UnixMilli(), 10),
		"cat=" + cef.Value(a.Kind),
		"dhost=" + cef.Value(strings.Join(a.Hosts, ",")),
		"msg=" + cef.Value(a.Detail),
		"cs1Label=alertId", "cs1=" + cef.Value(a.ID),
		"cs2Label=category", "cs2=" + cef.Value(a.Category),
		"cs3Label=tool", "cs3=" + cef.Value(a.Tool),
	}
	return fmt.Sprintf("CEF:0|farmwatch|farmwatch-collector|%s|%s|%s|%d|%s",
		cef.Header(version), cef.Header(a.Kind), cef.Header(a.Title), cef.Severity(a.Severity), strings.Join(ext, " "))
}
