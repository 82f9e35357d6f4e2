// Package config loads the farmwatch collector's configuration: defaults,
// then a strict YAML file (an unknown key is an error naming its line), then
// environment variables and command-line flags, and validates the result.
// See docs/collector.md for every key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/farmwatch/farmwatch/internal/collector/inventory"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/rfc5424"
)

// Defaults.
const (
	DefaultListen            = "127.0.0.1:8443"
	DefaultDataDir           = "./farmwatch-data"
	DefaultMaxBodyBytes      = 4 << 20
	DefaultMaxInflight       = 32
	DefaultSilenceHeartbeats = 3
	DefaultSessionTTL        = 12 * time.Hour
	DatabaseFile             = "farmwatch.db"
)

// Config is the whole collector configuration.
type Config struct {
	Path     string `yaml:"-"`
	Listen   string `yaml:"listen"`
	DataDir  string `yaml:"data_dir"`
	Database string `yaml:"database"` // "" = SQLite in DataDir; postgres://... = PostgreSQL
	// HTTP serves plain HTTP, for running behind a TLS-terminating proxy.
	HTTP              bool     `yaml:"http"`
	TLS               TLS      `yaml:"tls"`
	EnrollSecrets     []string `yaml:"enroll_secrets"`
	MaxBodyBytes      int64    `yaml:"max_body_bytes"`
	MaxInflight       int      `yaml:"max_inflight"`
	SilenceHeartbeats int      `yaml:"silence_heartbeats"`
	// SilenceCheckEvery is how often silent hosts are looked for (default 30 s).
	SilenceCheckEvery Duration `yaml:"silence_check_every"`
	Alerts            Alerts   `yaml:"alerts"`
	Web               Web      `yaml:"web"`
	// Colocation configures the co-location alert (docs/collector.md).
	Colocation Colocation `yaml:"colocation"`
	// Inventory maps MDM inventory exports to expected regions
	// (docs/inventory.md).
	Inventory Inventory `yaml:"inventory"`
	Log       Log       `yaml:"log"`
}

// Inventory configures the MDM inventory import: which columns carry the
// expected region (inventory.Mapping, inline) and which egress networks
// have a known country.
type Inventory struct {
	inventory.Mapping `yaml:",inline"`
	// EgressNetworks are public networks whose country is known (offices,
	// regional VPN gateways). No geolocation database is used: an agent
	// connecting from elsewhere has no egress country.
	EgressNetworks []EgressNetwork `yaml:"egress_networks"`
}

// EgressNetwork is a named set of prefixes in one country.
type EgressNetwork struct {
	Name     string   `yaml:"name"`
	Country  string   `yaml:"country"`
	Networks []string `yaml:"networks"`
}

// Colocation configures which shared networks are expected.
type Colocation struct {
	// OfficeNetworks are the company's own networks: hosts on them never
	// count as co-located.
	OfficeNetworks []OfficeNetwork `yaml:"office_networks"`
	// VPNEgress are the public addresses (IPs or prefixes) of the company
	// VPN and other known shared egresses: sharing them links nobody.
	VPNEgress []string `yaml:"vpn_egress"`
	// ClientIPHeader (X-Forwarded-For, X-Real-IP) names the header carrying
	// an agent's public address, trusted only from web.trusted_proxies;
	// otherwise the connection's remote address is the egress.
	ClientIPHeader string `yaml:"client_ip_header"`
	// EgressMinSpan: how long each host must have used one public address
	// before sharing it counts (default 48h).
	EgressMinSpan Duration `yaml:"egress_min_span"`
}

// OfficeNetwork is one office, by any of what identifies its network.
type OfficeNetwork struct {
	Name        string   `yaml:"name"`
	GatewayMACs []string `yaml:"gateway_macs"`
	BSSIDs      []string `yaml:"bssids"`
	SSIDs       []string `yaml:"ssids"`
	// Egress are the office's public addresses (IPs or prefixes).
	Egress []string `yaml:"egress"`
}

// TLS names the server certificate and, for mutual TLS, the client CA.
type TLS struct {
	Cert     string `yaml:"cert"`
	Key      string `yaml:"key"`
	ClientCA string `yaml:"client_ca"`
}

// Alerts configures which alerts exist and where they are delivered.
type Alerts struct {
	// MinSeverity: findings at or above it raise an alert (default high).
	MinSeverity string    `yaml:"min_severity"`
	Rules       []Rule    `yaml:"rules"`
	Webhooks    []Webhook `yaml:"webhooks"`
	Syslog      *Syslog   `yaml:"syslog"`
}

// Rule routes matching alerts to sinks. Empty lists match everything.
type Rule struct {
	Name        string   `yaml:"name"`
	Kinds       []string `yaml:"kinds"` // finding, host_silent, agent_stopped, shared_infrastructure, co_location
	MinSeverity string   `yaml:"min_severity"`
	Categories  []string `yaml:"categories"`
	Tools       []string `yaml:"tools"`
	Webhooks    []string `yaml:"webhooks"`
	Syslog      bool     `yaml:"syslog"`
}

// Webhook is an HTTP endpoint receiving alerts.
type Webhook struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Format: json (default), slack, ocsf (OCSF Detection Finding), splunk_hec (Splunk HTTP Event
	// Collector) or elasticsearch (Elasticsearch/OpenSearch _bulk, ECS).
	Format string `yaml:"format"`
	// For splunk_hec: Token (HEC token). For elasticsearch: APIKey, or
	// Username and Password (basic). Index for both (optional).
	Token    string `yaml:"token"`
	APIKey   string `yaml:"api_key"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Index    string `yaml:"index"`
	// CA is a PEM bundle to verify the receiver's TLS certificate.
	CA string `yaml:"ca"`
}

// Syslog forwards alerts as RFC 5424 messages with a CEF payload.
type Syslog struct {
	Address  string `yaml:"address"`  // host:port
	Protocol string `yaml:"protocol"` // tcp (default) or tls
	CA       string `yaml:"ca"`       // PEM bundle to verify a TLS syslog server
	// EnterpriseID is your organisation's IANA private enterprise number:
	// when set, messages also carry [farmwatch@<it> alert_id=… kind=…].
	EnterpriseID string `yaml:"enterprise_id"`
}

// Web configures the security team's web page and REST API.
type Web struct {
	// AuthHeader, when set, names a header (X-Forwarded-User) carrying the
	// user name, trusted only from TrustedProxies.
	AuthHeader     string    `yaml:"auth_header"`
	TrustedProxies []string  `yaml:"trusted_proxies"`
	Users          []WebUser `yaml:"users"`
	SessionTTL     Duration  `yaml:"session_ttl"`
}

// WebUser is a local account given in the file as a bcrypt hash.
type WebUser struct {
	Name         string `yaml:"name"`
	PasswordHash string `yaml:"password_hash"`
}

// Log configures logging.
type Log struct {
	Level string `yaml:"level"`
}

// Duration is a time.Duration written as "90s", "12h".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// Default returns the configuration of `farmwatch-collector` with no flags.
func Default() Config {
	return Config{
		Listen: DefaultListen, DataDir: DefaultDataDir, MaxBodyBytes: DefaultMaxBodyBytes,
		MaxInflight: DefaultMaxInflight, SilenceHeartbeats: DefaultSilenceHeartbeats,
		Alerts: Alerts{MinSeverity: "high"}, Web: Web{SessionTTL: Duration(DefaultSessionTTL)},
		Log: Log{Level: "info"},
	}
}

// Load reads path over the defaults. path "" returns the defaults.
func Load(path string) (Config, error) {
	c := Default()
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	if err := Parse(bytes.NewReader(b), &c); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse decodes YAML strictly into c (which holds the defaults).
func Parse(r io.Reader, c *Config) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// ApplyEnv applies FARMWATCH_DATA_DIR, FARMWATCH_DATABASE, FARMWATCH_LISTEN
// and FARMWATCH_ENROLL_SECRET (comma-separated) when set.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if v := getenv("FARMWATCH_DATA_DIR"); v != "" {
		c.DataDir = v
	}
	if v := getenv("FARMWATCH_DATABASE"); v != "" {
		c.Database = v
	}
	if v := getenv("FARMWATCH_LISTEN"); v != "" {
		c.Listen = v
	}
	if v := getenv("FARMWATCH_ENROLL_SECRET"); v != "" {
		c.EnrollSecrets = append(c.EnrollSecrets, strings.Split(v, ",")...)
	}
}

// DatabaseDSN returns the database to open: the configured one or the SQLite
// file in the data directory.
func (c *Config) DatabaseDSN() string {
	if c.Database != "" {
		return c.Database
	}
	return filepath.Join(c.DataDir, DatabaseFile)
}

// AlertKinds lists valid rule kinds.
var AlertKinds = []string{"finding", "host_silent", "agent_stopped", "shared_infrastructure", "co_location"}

// Validate checks values and cross-references.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen %q: %v", c.Listen, err)
	}
	if c.DataDir == "" {
		bad("data_dir is empty")
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") && !strings.HasPrefix(c.Database, "sqlite:") {
		bad("database %q: want postgres://... or sqlite:PATH", c.Database)
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		bad("tls: cert and key go together")
	}
	if c.HTTP && c.TLS.ClientCA != "" {
		bad("tls.client_ca needs TLS; it cannot be used with http")
	}
	for i, s := range c.EnrollSecrets {
		if len(s) < 16 {
			bad("enroll_secrets[%d]: shorter than 16 characters", i)
		}
	}
	if c.MaxBodyBytes < 1024 {
		bad("max_body_bytes %d: at least 1024", c.MaxBodyBytes)
	}
	if c.MaxInflight < 1 {
		bad("max_inflight %d: at least 1", c.MaxInflight)
	}
	if c.SilenceCheckEvery < 0 {
		bad("silence_check_every must not be negative")
	}
	if c.SilenceHeartbeats < 1 {
		bad("silence_heartbeats %d: at least 1", c.SilenceHeartbeats)
	}
	if _, err := report.ParseSeverity(c.Alerts.MinSeverity); err != nil {
		bad("alerts.min_severity: %v", err)
	}
	hooks := map[string]bool{}
	for i, w := range c.Alerts.Webhooks {
		if w.Name == "" || hooks[w.Name] {
			bad("alerts.webhooks[%d]: name empty or repeated", i)
		}
		hooks[w.Name] = true
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("alerts.webhooks[%d] %s: url %q is not http(s)", i, w.Name, w.URL)
		}
		switch w.Format {
		case "", "json", "slack", "ocsf":
			if w.Token != "" || w.APIKey != "" || w.Username != "" || w.Index != "" {
				bad("alerts.webhooks[%d] %s: token/api_key/username/index are for splunk_hec or elasticsearch", i, w.Name)
			}
		case "splunk_hec":
			if w.Token == "" {
				bad("alerts.webhooks[%d] %s: splunk_hec needs token", i, w.Name)
			}
		case "elasticsearch":
			if w.APIKey != "" && w.Username != "" {
				bad("alerts.webhooks[%d] %s: api_key and username are exclusive", i, w.Name)
			}
		default:
			bad("alerts.webhooks[%d] %s: format %q (want json, slack, ocsf, splunk_hec or elasticsearch)", i, w.Name, w.Format)
		}
	}
	if s := c.Alerts.Syslog; s != nil {
		if _, _, err := net.SplitHostPort(s.Address); err != nil {
			bad("alerts.syslog.address %q: %v", s.Address, err)
		}
		if s.Protocol != "" && s.Protocol != "tcp" && s.Protocol != "tls" {
			bad("alerts.syslog.protocol %q (want tcp or tls)", s.Protocol)
		}
		if err := rfc5424.ValidateEnterpriseID(s.EnterpriseID); err != nil {
			bad("alerts.syslog.%v", err)
		}
	}
	for i, r := range c.Alerts.Rules {
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		if r.MinSeverity != "" {
			if _, err := report.ParseSeverity(r.MinSeverity); err != nil {
				bad("alerts.rules %s: %v", name, err)
			}
		}
		for _, k := range r.Kinds {
			if !contains(AlertKinds, k) {
				bad("alerts.rules %s: kind %q (want one of %s)", name, k, strings.Join(AlertKinds, ", "))
			}
		}
		for _, cat := range r.Categories {
			if !report.Category(cat).Valid() {
				bad("alerts.rules %s: unknown category %q", name, cat)
			}
		}
		for _, h := range r.Webhooks {
			if !hooks[h] {
				bad("alerts.rules %s: unknown webhook %q", name, h)
			}
		}
		if r.Syslog && c.Alerts.Syslog == nil {
			bad("alerts.rules %s: syslog: true but alerts.syslog is not configured", name)
		}
		if len(r.Webhooks) == 0 && !r.Syslog {
			bad("alerts.rules %s: no webhooks and no syslog", name)
		}
	}
	if c.Web.AuthHeader != "" && len(c.Web.TrustedProxies) == 0 {
		bad("web.auth_header needs web.trusted_proxies")
	}
	for _, p := range c.Web.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			bad("web.trusted_proxies: %v", err)
		}
	}
	for i, u := range c.Web.Users {
		if u.Name == "" || !strings.HasPrefix(u.PasswordHash, "$2") {
			bad("web.users[%d]: needs name and a bcrypt password_hash", i)
		}
	}
	if c.Web.SessionTTL <= 0 {
		bad("web.session_ttl must be positive")
	}
	for i, o := range c.Colocation.OfficeNetworks {
		for _, m := range append(append([]string{}, o.GatewayMACs...), o.BSSIDs...) {
			if hw, err := net.ParseMAC(m); err != nil || len(hw) != 6 {
				bad("colocation.office_networks[%d] %s: %q is not a MAC address", i, o.Name, m)
			}
		}
		for _, p := range o.Egress {
			if _, err := ParsePrefix(p); err != nil {
				bad("colocation.office_networks[%d] %s: egress: %v", i, o.Name, err)
			}
		}
		if len(o.GatewayMACs)+len(o.BSSIDs)+len(o.SSIDs)+len(o.Egress) == 0 {
			bad("colocation.office_networks[%d] %s: names no gateway_macs, bssids, ssids or egress", i, o.Name)
		}
	}
	for _, p := range c.Colocation.VPNEgress {
		if _, err := ParsePrefix(p); err != nil {
			bad("colocation.vpn_egress: %v", err)
		}
	}
	if c.Colocation.ClientIPHeader != "" && len(c.Web.TrustedProxies) == 0 {
		bad("colocation.client_ip_header needs web.trusted_proxies")
	}
	if c.Colocation.EgressMinSpan < 0 {
		bad("colocation.egress_min_span must not be negative")
	}
	if err := c.Inventory.Mapping.Validate(); err != nil {
		errs = append(errs, err)
	}
	for i, e := range c.Inventory.EgressNetworks {
		if len(e.Country) != 2 || len(e.Networks) == 0 {
			bad("inventory.egress_networks[%d] %s: needs a two-letter country and networks", i, e.Name)
		}
		for _, p := range e.Networks {
			if _, err := ParsePrefix(p); err != nil {
				bad("inventory.egress_networks[%d] %s: %v", i, e.Name, err)
			}
		}
	}
	return errors.Join(errs...)
}

// ParsePrefix accepts an address or a CIDR prefix.
func ParsePrefix(s string) (*net.IPNet, error) {
	if !strings.Contains(s, "/") {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("%q is not an IP address or prefix", s)
		}
		bits := 128
		if ip.To4() != nil {
			ip, bits = ip.To4(), 32
		}
		return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
	}
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	return n, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
