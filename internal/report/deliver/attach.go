package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// AttachConfig says where to attach an offline capture analysis: the
// collector, the fleet host, and an API token of the collector (`token
// add`; agent credentials are not API tokens).
type AttachConfig struct {
	URL     string
	HostID  string
	Token   string
	CAFile  string
	Timeout time.Duration
}

// AttachResult is the collector's answer.
type AttachResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// AttachPcap posts the JSON Lines output of `farmwatch-agent pcap --format
// json` to the collector's POST /api/v1/hosts/{id}/pcap, which stores the
// findings on that host like live ones. Attaching the same capture again
// is a no-op there (Duplicates).
func AttachPcap(ctx context.Context, cfg AttachConfig, jsonLines []byte) (AttachResult, error) {
	var res AttachResult
	if err := checkCollectorURL(cfg.URL); err != nil {
		return res, err
	}
	if cfg.HostID == "" {
		return res, errors.New("attach: no host id")
	}
	if strings.TrimSpace(cfg.Token) == "" {
		return res, errors.New("attach: no API token")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	tc, err := collectorTLS(cfg.CAFile)
	if err != nil {
		return res, err
	}
	client := &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment}}
	defer client.CloseIdleConnections()
	u := strings.TrimRight(cfg.URL, "/") + "/api/v1/hosts/" + url.PathEscape(cfg.HostID) + "/pcap"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(jsonLines))
	if err != nil {
		return res, fmt.Errorf("attach to %s: %w", u, err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(cfg.Token))
	resp, err := client.Do(req)
	if err != nil {
		return res, fmt.Errorf("attach to %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return res, fmt.Errorf("attach to host %s: collector answered %s: %s", cfg.HostID, resp.Status, msg)
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return res, fmt.Errorf("attach to host %s: collector's answer is not JSON: %w", cfg.HostID, err)
	}
	return res, nil
}
