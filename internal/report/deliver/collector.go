package deliver

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// CollectorConfig configures delivery to a farmwatch collector.
type CollectorConfig struct {
	// URL is the collector's base URL (https://collector.example:8443).
	URL string `yaml:"url"`
	// EnrollSecret is exchanged once for a per-host credential.
	EnrollSecret string `yaml:"enroll_secret"`
	// CredentialFile stores the credential (mode 0600).
	CredentialFile string `yaml:"credential_file"`
	// CAFile is a PEM bundle of CAs to trust instead of the system roots.
	CAFile string `yaml:"ca_file"`
	// ClientCert and ClientKey enable mutual TLS instead of enrollment.
	ClientCert string        `yaml:"client_cert"`
	ClientKey  string        `yaml:"client_key"`
	Timeout    time.Duration `yaml:"timeout"`
}

// Collector is the HTTPS transport to the collector's v1 ingest API.
type Collector struct {
	cfg     CollectorConfig
	host    report.Host
	version string
	client  *http.Client
	mtls    bool

	// Network reads the network this host is attached to; when set, the
	// last heartbeat of each batch carries it as keyed hashes
	// (report.NetworkIdentity) once the collector has handed out the fleet
	// key. The clear values are never stored or sent.
	Network func(ctx context.Context) (source.Network, error)

	mu         sync.Mutex
	credential string
	fleetKey   []byte
}

var _ Transport = (*Collector)(nil)

// checkCollectorURL refuses plain http except to loopback.
func checkCollectorURL(u string) error {
	if u == "" {
		return errors.New("collector: url is required")
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://127.0.0.1") && !strings.HasPrefix(u, "http://localhost") {
		return fmt.Errorf("collector: url %q must be https:// (plain http only to loopback)", u)
	}
	return nil
}

// collectorTLS is the TLS client configuration for the collector: TLS 1.2+,
// trusting the PEM CAs of caFile instead of the system roots when given.
func collectorTLS(caFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("collector: read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("collector: ca_file %s holds no PEM certificate", caFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// NewCollector builds the transport; it reads a stored credential if any.
func NewCollector(cfg CollectorConfig, host report.Host, agentVersion string) (*Collector, error) {
	if err := checkCollectorURL(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	tc, err := collectorTLS(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	c := &Collector{cfg: cfg, host: host, version: agentVersion}
	if cfg.ClientCert != "" || cfg.ClientKey != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCert, cfg.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("collector: load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
		c.mtls = true
	} else if cfg.EnrollSecret == "" && cfg.CredentialFile == "" {
		return nil, errors.New("collector: set enroll_secret (or credential_file, or client_cert/client_key for mutual TLS)")
	}
	c.client = &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment, MaxIdleConns: 2, IdleConnTimeout: 90 * time.Second}}
	if cfg.CredentialFile != "" {
		if b, err := os.ReadFile(cfg.CredentialFile); err == nil {
			c.credential = strings.TrimSpace(string(b))
		}
		if b, err := os.ReadFile(fleetKeyFile(cfg.CredentialFile)); err == nil {
			c.fleetKey, _ = hex.DecodeString(strings.TrimSpace(string(b)))
		}
	}
	return c, nil
}

// fleetKeyFile is where the fleet key is kept, beside the credential.
func fleetKeyFile(credentialFile string) string { return credentialFile + ".fleet-key" }

// setFleetKey keeps the fleet key handed out by the collector (hex).
func (c *Collector) setFleetKey(h string) error {
	key, err := hex.DecodeString(h)
	if err != nil || len(key) < 16 {
		return fmt.Errorf("collector: bad fleet key")
	}
	c.mu.Lock()
	c.fleetKey = key
	c.mu.Unlock()
	if c.cfg.CredentialFile != "" {
		return writePrivate(fleetKeyFile(c.cfg.CredentialFile), []byte(h+"\n"))
	}
	return nil
}

// ensureFleetKey fetches the fleet key when this agent enrolled before the
// collector handed one out, or uses mutual TLS.
func (c *Collector) ensureFleetKey(ctx context.Context) error {
	c.mu.Lock()
	have := len(c.fleetKey) > 0
	c.mu.Unlock()
	if have {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.cfg.URL, "/")+"/api/v1/fleet-key", nil)
	if err != nil {
		return fmt.Errorf("collector: %w", err)
	}
	req.Header.Set("User-Agent", "farmwatch-agent/"+c.version)
	c.mu.Lock()
	if c.credential != "" {
		req.Header.Set("Authorization", "Bearer "+c.credential)
	}
	c.mu.Unlock()
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("collector: fleet key: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("collector: fleet key: %s", resp.Status)
	}
	var out struct {
		FleetKey string `json:"fleet_key"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&out); err != nil {
		return fmt.Errorf("collector: fleet key: %w", err)
	}
	return c.setFleetKey(out.FleetKey)
}

// withNetwork returns items with the network identity on the last
// heartbeat (earlier ones were spooled while elsewhere, perhaps).
func (c *Collector) withNetwork(ctx context.Context, items []report.Item) []report.Item {
	last := -1
	for i, it := range items {
		if it.Kind == report.KindHeartbeat && it.Heartbeat != nil {
			last = i
		}
	}
	if c.Network == nil || last < 0 || items[last].Heartbeat.Network != nil {
		return items
	}
	if err := c.ensureFleetKey(ctx); err != nil {
		return items // sent without; the next heartbeat tries again
	}
	n, _ := c.Network(ctx) // partial tables still identify the network
	if n.Empty() {
		return items
	}
	c.mu.Lock()
	key := c.fleetKey
	c.mu.Unlock()
	id := &report.NetworkIdentity{
		Gateway: report.HashNetwork(key, report.NetGateway, n.GatewayMAC),
		BSSID:   report.HashNetwork(key, report.NetBSSID, n.BSSID),
		SSID:    report.HashNetwork(key, report.NetSSID, n.SSID),
		// source.RedactedBSSID/SSID are spelled as report.NetBSSID/NetSSID.
		Redacted: slices.Clone(n.Redacted),
	}
	for _, m := range append([]string{n.SelfMAC}, n.Neighbours...) {
		if h := report.HashNetwork(key, report.NetLAN, m); h != "" {
			id.LAN = append(id.LAN, h)
		}
	}
	out := slices.Clone(items)
	hb := *out[last].Heartbeat
	hb.Network = id
	out[last].Heartbeat = &hb
	return out
}

// Name implements Transport.
func (c *Collector) Name() string { return "collector" }

// Send implements Transport: enroll if needed, POST the batch gzip'd.
func (c *Collector) Send(ctx context.Context, items []report.Item) error {
	if !c.mtls {
		if err := c.ensureCredential(ctx); err != nil {
			return err
		}
	}
	items = c.withNetwork(ctx, items)
	body, err := json.Marshal(report.Batch{Host: c.host, Batch: items})
	if err != nil {
		return &RejectedError{fmt.Errorf("encode batch: %w", err)}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(body)
	_ = zw.Close()
	resp, err := c.post(ctx, "/api/v1/ingest", gz.Bytes(), true)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusUnauthorized && !c.mtls && c.cfg.EnrollSecret != "":
		// The credential was revoked or the collector's database reset:
		// enroll again on the next attempt.
		c.mu.Lock()
		c.credential = ""
		c.mu.Unlock()
		return fmt.Errorf("collector: credential refused (401), re-enrolling")
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		return &RetryAfterError{After: retryAfter(resp.Header.Get("Retry-After")), Err: fmt.Errorf("collector: %s", resp.Status)}
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge:
		return &RejectedError{fmt.Errorf("collector: %s: %s", resp.Status, bytes.TrimSpace(msg))}
	default:
		return fmt.Errorf("collector: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
}

func (c *Collector) post(ctx context.Context, path string, body []byte, gzipped bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.cfg.URL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "farmwatch-agent/"+c.version)
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	c.mu.Lock()
	if c.credential != "" {
		req.Header.Set("Authorization", "Bearer "+c.credential)
	}
	c.mu.Unlock()
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	return resp, nil
}

// ensureCredential enrolls with the secret when no credential is held and
// stores the credential with owner-only permissions.
func (c *Collector) ensureCredential(ctx context.Context) error {
	c.mu.Lock()
	have := c.credential != ""
	c.mu.Unlock()
	if have {
		return nil
	}
	if c.cfg.EnrollSecret == "" {
		return errors.New("collector: no credential and no enroll_secret")
	}
	body, _ := json.Marshal(map[string]any{"enroll_secret": c.cfg.EnrollSecret, "host": c.host, "agent_version": c.version})
	resp, err := c.post(ctx, "/api/v1/enroll", body, false)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		return &RetryAfterError{After: retryAfter(resp.Header.Get("Retry-After")), Err: fmt.Errorf("collector enroll: %s", resp.Status)}
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("collector enroll: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	var out struct {
		Credential string `json:"credential"`
		FleetKey   string `json:"fleet_key"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil || out.Credential == "" {
		return fmt.Errorf("collector enroll: bad response: %v", err)
	}
	if out.FleetKey != "" {
		if err := c.setFleetKey(out.FleetKey); err != nil {
			return err
		}
	}
	if c.cfg.CredentialFile != "" {
		if err := writePrivate(c.cfg.CredentialFile, []byte(out.Credential+"\n")); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.credential = out.Credential
	c.mu.Unlock()
	return nil
}

// writePrivate writes a file readable by its owner only, atomically.
func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store credential: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("store credential: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("store credential: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("store credential: %w", err)
	}
	return nil
}

// retryAfter parses Retry-After seconds or an HTTP date (default 30 s).
func retryAfter(v string) time.Duration {
	if v == "" {
		return 30 * time.Second
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(min(n, 3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 && d < time.Hour {
			return d
		}
	}
	return 30 * time.Second
}
