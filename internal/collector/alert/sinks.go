package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/config"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/cef"
	"github.com/farmwatch/farmwatch/internal/report/ocsf"
	"github.com/farmwatch/farmwatch/internal/report/rfc5424"
	"github.com/farmwatch/farmwatch/internal/version"
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
	if w.format == "ocsf" {
		return json.Marshal(OCSF(a, version.Version))
	}
	return json.Marshal(WebhookPayload{Source: "farmwatch-collector", Alert: a})
}

// OCSF renders an alert as an OCSF Detection Finding (class 2004): its
// hosts become the device (one host) or resources (several).
func OCSF(a store.Alert, ver string) ocsf.Event {
	d := ocsf.Detection{UID: a.ID, Title: a.Title, Desc: a.Detail, Rule: "collector." + a.Kind, Severity: a.Severity,
		Time: a.CreatedAt, FirstSeen: a.CreatedAt, LastSeen: a.UpdatedAt, Confidence: -1, Category: a.Category,
		Closed: a.Status == store.StatusClosed}
	if d.Desc == "" {
		d.Desc = a.Title
	}
	d.Types = []string{a.Kind}
	if a.Category != "" {
		d.Types = append(d.Types, a.Category)
	}
	if a.Tool != "" {
		d.Types = append(d.Types, a.Tool)
	}
	for _, h := range a.Hosts {
		d.Hosts = append(d.Hosts, report.Host{ID: h})
	}
	return ocsf.Encode(d, ver)
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

// Syslog sends RFC 5424 messages (internal/report/rfc5424, shared with the
// agent), octet-counted over TCP or TLS, each carrying a CEF event. It dials
// per delivery, so a restarted syslog server costs nothing but one retry.
type Syslog struct {
	addr, version, pen string
	tls                *tls.Config
	Hostname           string
}

// NewSyslog returns a syslog sink.
func NewSyslog(c config.Syslog, version string) (*Syslog, error) {
	if err := rfc5424.ValidateEnterpriseID(c.EnterpriseID); err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	s := &Syslog{addr: c.Address, version: version, pen: c.EnterpriseID}
	if c.Protocol == "tls" {
		tc, err := rfc5424.TLSConfig(c.CA)
		if err != nil {
			return nil, err
		}
		s.tls = tc
	}
	s.Hostname, _ = os.Hostname()
	return s, nil
}

// Name returns "syslog".
func (s *Syslog) Name() string { return "syslog" }

// Deliver sends one message.
func (s *Syslog) Deliver(ctx context.Context, a store.Alert) error {
	conn, err := rfc5424.Dial(ctx, s.addr, s.tls)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if err := rfc5424.Frame(conn, RFC5424(a, s.Hostname, time.Now(), s.version, s.pen)); err != nil {
		return fmt.Errorf("write syslog: %w", err)
	}
	return nil
}

// RFC5424 renders the alert as an RFC 5424 message with a CEF body.
// enterpriseID ("" for none) adds the private element farmwatch@<it>.
func RFC5424(a store.Alert, hostname string, now time.Time, version, enterpriseID string) string {
	return rfc5424.Message{Severity: cef.SyslogSeverity(a.Severity), Time: now, Hostname: hostname,
		AppName: "farmwatch-collector", ProcID: strconv.Itoa(os.Getpid()), MsgID: a.Kind,
		Software: "farmwatch-collector", Version: version, EnterpriseID: enterpriseID,
		Private: []rfc5424.Param{{Name: "alert_id", Value: a.ID}, {Name: "kind", Value: a.Kind}},
		Body:    CEF(a, version)}.String()
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
