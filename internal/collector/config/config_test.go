package config

import (
	"strings"
	"testing"
)

func TestParseStrictAndValidate(t *testing.T) {
	c := Default()
	err := Parse(strings.NewReader("listen: 127.0.0.1:9000\nbogus: 1\n"), &c)
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown key accepted: %v", err)
	}
	c = Default()
	y := `
listen: 0.0.0.0:8443
enroll_secrets: ["0123456789abcdef0123"]
silence_heartbeats: 5
alerts:
  min_severity: medium
  webhooks:
    - {name: soc, url: "https://hooks.example/x", format: slack}
  rules:
    - {name: crit, min_severity: critical, categories: [remote-access-hardware], webhooks: [soc]}
web:
  auth_header: X-Forwarded-User
  trusted_proxies: [127.0.0.1, 10.0.0.0/8]
  session_ttl: 1h
`
	if err := Parse(strings.NewReader(y), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	if c.SilenceHeartbeats != 5 || c.Alerts.Rules[0].Webhooks[0] != "soc" || c.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Fatalf("config = %+v", c)
	}
	c.Alerts.Rules[0].Webhooks = []string{"nope"}
	c.EnrollSecrets = []string{"short"}
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), `unknown webhook "nope"`) || !strings.Contains(err.Error(), "shorter than 16") {
		t.Fatalf("Validate = %v", err)
	}
}

func TestDefaultsValidAndEnv(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	env := map[string]string{"FARMWATCH_DATA_DIR": "/d", "FARMWATCH_ENROLL_SECRET": "aaaaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbbbb"}
	c.ApplyEnv(func(k string) string { return env[k] })
	if c.DataDir != "/d" || len(c.EnrollSecrets) != 2 || c.DatabaseDSN() != "/d/farmwatch.db" {
		t.Fatalf("env not applied: %+v", c)
	}
}

func TestSIEMWebhooksValidate(t *testing.T) {
	c := Default()
	c.EnrollSecrets = []string{"0123456789abcdef0123"}
	c.Alerts.Webhooks = []Webhook{
		{Name: "splunk", URL: "https://splunk:8088", Format: "splunk_hec", Token: "t"},
		{Name: "es", URL: "https://es:9200", Format: "elasticsearch", Username: "u", Password: "p", Index: "fw"},
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid SIEM webhooks rejected: %v", err)
	}
	c.Alerts.Webhooks = []Webhook{
		{Name: "a", URL: "https://splunk:8088", Format: "splunk_hec"},
		{Name: "b", URL: "https://es:9200", Format: "elasticsearch", Username: "u", APIKey: "k"},
		{Name: "c", URL: "https://x", Format: "json", Token: "t"},
		{Name: "d", URL: "https://x", Format: "kafka"},
	}
	err := c.Validate()
	for _, want := range []string{"splunk_hec needs token", "exclusive", "are for splunk_hec", `format "kafka"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want %q", err, want)
		}
	}
}
