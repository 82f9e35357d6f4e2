package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/config"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

// SIEM posts alerts to Splunk's HTTP Event Collector (format "splunk_hec":
// POST /services/collector/event, `Authorization: Splunk <token>`, success
// is {"code":0}) or to an Elasticsearch/OpenSearch bulk endpoint (format
// "elasticsearch": POST /_bulk NDJSON, ECS field names, per-item errors).
// A busy receiver (503, 429) or a failed bulk item is an error: the
// dispatcher retries the alert with its backoff.
type SIEM struct {
	cfg    config.Webhook
	Client *http.Client
}

// NewSIEM returns a HEC or bulk sink for a webhook entry with such a format.
func NewSIEM(c config.Webhook) (*SIEM, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CA != "" {
		pem, err := os.ReadFile(c.CA)
		if err != nil {
			return nil, fmt.Errorf("webhook %s: ca: %w", c.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("webhook %s: ca %s holds no PEM certificate", c.Name, c.CA)
		}
		tc.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	return &SIEM{cfg: c, Client: &http.Client{Timeout: 15 * time.Second, Transport: tr}}, nil
}

// Name returns "webhook:NAME".
func (s *SIEM) Name() string { return "webhook:" + s.cfg.Name }

// HECEvent is the Splunk HEC event envelope.
type HECEvent struct {
	Time       float64 `json:"time"`
	Host       string  `json:"host,omitempty"`
	Source     string  `json:"source"`
	Sourcetype string  `json:"sourcetype"`
	Index      string  `json:"index,omitempty"`
	Event      any     `json:"event"`
}

// ECS renders an alert with Elastic Common Schema field names.
func ECS(a store.Alert) map[string]any {
	sev := map[report.Severity]int{report.SeverityInfo: 21, report.SeverityLow: 21, report.SeverityMedium: 47, report.SeverityHigh: 73, report.SeverityCritical: 99}[a.Severity]
	doc := map[string]any{
		"@timestamp": a.CreatedAt.UTC().Format(time.RFC3339Nano),
		"message":    a.Title,
		"event": map[string]any{
			"kind": "alert", "category": []string{"intrusion_detection"}, "type": []string{"indicator"},
			"severity": sev, "id": a.ID, "action": a.Kind, "reason": a.Detail, "dataset": "farmwatch.alert",
			"created": a.CreatedAt.UTC().Format(time.RFC3339Nano),
		},
		"rule":     map[string]any{"id": a.Kind, "name": a.Title, "category": a.Category},
		"observer": map[string]any{"vendor": "farmwatch", "product": "farmwatch-collector", "type": "ids"},
		"labels":   map[string]any{"farmwatch_status": a.Status},
	}
	if len(a.Hosts) == 1 {
		doc["host"] = map[string]any{"id": a.Hosts[0], "name": a.Hosts[0]}
	} else if len(a.Hosts) > 1 {
		doc["related"] = map[string]any{"hosts": a.Hosts}
	}
	if a.Tool != "" {
		doc["process"] = map[string]any{"name": a.Tool}
	}
	return doc
}

// Body renders the request body for one alert.
func (s *SIEM) Body(a store.Alert) ([]byte, error) {
	if s.cfg.Format == "splunk_hec" {
		return json.Marshal(HECEvent{Time: float64(a.CreatedAt.UnixMilli()) / 1000, Source: "farmwatch-collector",
			Sourcetype: "farmwatch:alert", Index: s.cfg.Index, Event: a})
	}
	index := s.cfg.Index
	if index == "" {
		index = "farmwatch-alerts"
	}
	var b bytes.Buffer
	for _, v := range []any{map[string]any{"create": map[string]any{"_index": index, "_id": a.ID + "-" + a.UpdatedAt.UTC().Format("20060102T150405.000")}}, ECS(a)} {
		line, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// Deliver posts the alert and checks the receiver's answer.
func (s *SIEM) Deliver(ctx context.Context, a store.Alert) error {
	body, err := s.Body(a)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	u := strings.TrimRight(s.cfg.URL, "/")
	ctype := "application/json"
	if s.cfg.Format == "splunk_hec" {
		u += "/services/collector/event"
	} else {
		u += "/_bulk"
		ctype = "application/x-ndjson"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s request: %w", s.cfg.Format, err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "farmwatch-collector")
	switch {
	case s.cfg.Format == "splunk_hec":
		req.Header.Set("Authorization", "Splunk "+s.cfg.Token)
	case s.cfg.APIKey != "":
		req.Header.Set("Authorization", "ApiKey "+s.cfg.APIKey)
	case s.cfg.Username != "":
		req.SetBasicAuth(s.cfg.Username, s.cfg.Password)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", s.cfg.Format, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s: %s", s.cfg.Format, resp.Status, bytes.TrimSpace(rb[:min(len(rb), 300)]))
	}
	if s.cfg.Format == "splunk_hec" {
		var r struct {
			Code *int   `json:"code"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(rb, &r); err != nil || r.Code == nil || *r.Code != 0 {
			return fmt.Errorf("splunk_hec: unexpected answer %q", rb)
		}
		return nil
	}
	var r struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(rb, &r); err != nil {
		return fmt.Errorf("elasticsearch: bulk answer: %w", err)
	}
	for _, it := range r.Items {
		for _, res := range it {
			// 409: this alert version is already indexed (a retry after a
			// lost answer) — delivered.
			if res.Status/100 != 2 && res.Status != 409 {
				return fmt.Errorf("elasticsearch: bulk item failed (%d): %s", res.Status, res.Error)
			}
		}
	}
	if len(r.Items) == 0 {
		return fmt.Errorf("elasticsearch: bulk answer has no items")
	}
	return nil
}
