package collector

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/collector/config"
)

func mkCert(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

// TestRunTLSMutualAuthAndShutdown starts the collector on a free port with
// its self-signed certificate and a client CA, authenticates one agent by
// client certificate and one by bearer credential, then stops it.
func TestRunTLSMutualAuthAndShutdown(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, caPEM, _ := mkCert(t, "farm CA", nil, nil)
	_, _, clientPEM, clientKey := mkCert(t, "host-mtls", ca, caKey)
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, caPEM, 0o600)
	cfg := config.Default()
	cfg.DataDir, cfg.Listen = filepath.Join(dir, "data"), "127.0.0.1:0"
	cfg.TLS.ClientCA = caFile
	cfg.EnrollSecrets = []string{"0123456789abcdef-secret"}

	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, zap.NewNop(), func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	serverPEM, err := os.ReadFile(filepath.Join(cfg.DataDir, SelfSignedCert))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(serverPEM)
	kp, err := tls.X509KeyPair(clientPEM, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	mtls := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{kp}}}}
	plain := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	post := func(c *http.Client, path, bearer string, body any) int {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", "https://"+addr+path, bytes.NewReader(b))
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		if path == "/api/v1/enroll" && resp.StatusCode == 200 {
			var r struct{ Credential string }
			json.NewDecoder(resp.Body).Decode(&r)
			enrolled = r.Credential
		}
		return resp.StatusCode
	}
	hb := func(id string) map[string]any {
		return map[string]any{"host": map[string]string{"id": id, "name": id}, "batch": []any{map[string]any{"seq": 1, "kind": "heartbeat", "heartbeat": map[string]any{"time": time.Now(), "interval_seconds": 60}}}}
	}
	if code := post(mtls, "/api/v1/ingest", "", hb("host-mtls")); code != 200 {
		t.Fatalf("mTLS ingest: %d", code)
	}
	if code := post(mtls, "/api/v1/ingest", "", hb("someone-else")); code != 403 {
		t.Fatalf("mTLS ingest for another host: %d", code)
	}
	if code := post(plain, "/api/v1/ingest", "", hb("host-mtls")); code != 401 {
		t.Fatalf("no certificate, no credential: %d", code)
	}
	if code := post(plain, "/api/v1/enroll", "", map[string]any{"enroll_secret": "0123456789abcdef-secret", "host": map[string]string{"id": "h2"}}); code != 200 {
		t.Fatalf("enroll: %d", code)
	}
	if code := post(plain, "/api/v1/ingest", enrolled, hb("h2")); code != 200 {
		t.Fatalf("bearer ingest over TLS: %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("collector did not stop")
	}
	// The same certificate is reused on the next start.
	_, _, created, err := EnsureSelfSigned(cfg.DataDir, cfg.Listen, time.Now())
	if err != nil || created {
		t.Fatalf("self-signed certificate recreated: %v %v", created, err)
	}
}

var enrolled string

func TestRunRejectsInvalidConfig(t *testing.T) {
	cfg := config.Default()
	cfg.Listen = "nonsense"
	if err := Run(context.Background(), cfg, zap.NewNop(), nil); err == nil {
		t.Fatal("invalid config accepted")
	}
}

// TestRunDeliversAlertsToWebhook wires a config file's webhook rule through
// the running collector: an agent's "uninstall" heartbeat and a KVM serial
// shared by two hosts reach the webhook in Slack format.
func TestRunDeliversAlertsToWebhook(t *testing.T) {
	got := make(chan string, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		json.NewDecoder(r.Body).Decode(&m)
		got <- m["text"]
	}))
	defer hook.Close()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "collector.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`
listen: 127.0.0.1:0
http: true
data_dir: %s
enroll_secrets: ["0123456789abcdef-secret"]
alerts:
  webhooks: [{name: chat, url: %q, format: slack}]
  rules: [{name: fleet, kinds: [shared_infrastructure, agent_stopped], webhooks: [chat]}]
`, filepath.Join(dir, "data"), hook.URL)), 0o600)
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, zap.NewNop(), func(a string) { addrc <- a }) }()
	addr := <-addrc
	post := func(path, bearer string, body any) map[string]any {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", "http://"+addr+path, bytes.NewReader(b))
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, m)
		}
		return m
	}
	for i, h := range []string{"h1", "h2"} {
		cred := post("/api/v1/enroll", "", map[string]any{"enroll_secret": "0123456789abcdef-secret", "host": map[string]string{"id": h}})["credential"].(string)
		f := map[string]any{"id": fmt.Sprintf("%024d", i), "time": time.Now(), "host": map[string]string{"id": h}, "detector": "hardware", "rule": "hardware.kvm",
			"category": "remote-access-hardware", "tool": "pikvm", "severity": "medium", "confidence": 0.8, "allowed": false, "summary": "PiKVM attached",
			"evidence": map[string]any{"serial": "PIKVM-77"}}
		items := []any{map[string]any{"seq": 1, "kind": "finding", "finding": f}}
		if h == "h2" {
			items = append(items, map[string]any{"seq": 2, "kind": "heartbeat", "heartbeat": map[string]any{"time": time.Now(), "interval_seconds": 60, "event": "uninstall"}})
		}
		post("/api/v1/ingest", cred, map[string]any{"host": map[string]string{"id": h}, "batch": items})
	}
	var texts []string
	timeout := time.After(10 * time.Second)
	for len(texts) < 2 {
		select {
		case s := <-got:
			texts = append(texts, s)
		case <-timeout:
			t.Fatalf("webhook got %d messages: %q", len(texts), texts)
		}
	}
	all := strings.Join(texts, "\n")
	if !strings.Contains(all, "Shared farm infrastructure") || !strings.Contains(all, "h1, h2") || !strings.Contains(all, "uninstalled on h2") {
		t.Fatalf("webhook messages: %q", texts)
	}
	select {
	case s := <-got:
		t.Fatalf("unrouted alert delivered: %q", s)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
