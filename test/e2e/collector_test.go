//go:build linux

package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var collectorBin string

// collector returns the farmwatch-collector binary: $FARMWATCH_COLLECTOR_BIN
// or one built now.
func collector(t *testing.T) string {
	t.Helper()
	if collectorBin != "" {
		return collectorBin
	}
	if b := os.Getenv("FARMWATCH_COLLECTOR_BIN"); b != "" {
		collectorBin = b
		return b
	}
	out := filepath.Join(os.TempDir(), fmt.Sprintf("farmwatch-collector-e2e-%d", os.Getpid()))
	cmd := exec.Command("go", "build", "-o", out, "github.com/farmwatch/farmwatch/cmd/collector")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build collector: %v\n%s", err, b)
	}
	collectorBin = out
	return out
}

type collectorClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (cc *collectorClient) call(method, path, bearer string, body any, gz bool, out any) int {
	cc.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			cc.t.Fatal(err)
		}
		if gz {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(b)
			zw.Close()
			b = buf.Bytes()
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, cc.base+path, rd)
	if err != nil {
		cc.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := cc.c.Do(req)
	if err != nil {
		cc.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(data, out); err != nil {
			cc.t.Fatalf("%s %s: bad JSON %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

func e2eFinding(host, subject, category, tool, severity string, evidence map[string]any) map[string]any {
	// id: 24 hex digits, stable per host and subject (the agent derives it the same way).
	id := fmt.Sprintf("%024x", []byte(host+"/"+subject))
	if len(id) > 24 {
		id = id[len(id)-24:]
	}
	return map[string]any{"id": id, "time": time.Now().UTC().Format(time.RFC3339), "host": map[string]string{"name": host, "id": host},
		"detector": "e2e", "rule": "e2e." + subject, "category": category, "tool": tool, "severity": severity, "confidence": 0.9,
		"allowed": false, "summary": subject + " seen", "evidence": evidence}
}

// TestCollectorEndToEnd runs the real farmwatch-collector over TLS with its
// self-signed certificate: enrollment, idempotent gzip ingest, 401/403,
// fleet correlation, REST with an API token, the web login, and a graceful
// SIGTERM shutdown.
func TestCollectorEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the collector binary")
	}
	bin := collector(t)
	data := t.TempDir()
	port := freePort(t)
	const secret = "e2e-enroll-secret-0123456789"
	cmd := startProc(t, bin, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", data, "--enroll-secret", secret, "--silence-heartbeats", "3")
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))

	pemBytes, err := os.ReadFile(filepath.Join(data, "tls", "collector.crt"))
	if err != nil {
		t.Fatalf("self-signed certificate not in data dir: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatal("bad certificate PEM")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	cc := &collectorClient{t: t, base: fmt.Sprintf("https://127.0.0.1:%d", port), c: &http.Client{Transport: tr, Timeout: 20 * time.Second}}

	// Plain HTTP to the TLS port does not work; unverified TLS is refused by the client.
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(cc.base + "/healthz"); err == nil {
		t.Fatal("untrusted certificate accepted by a default client")
	}

	type enrollResp = struct {
		HostID     string `json:"host_id"`
		Credential string `json:"credential"`
	}
	if code := cc.call("POST", "/api/v1/enroll", "", map[string]any{"enroll_secret": "wrong", "host": map[string]string{"id": "lap-a"}}, false, nil); code != 401 {
		t.Fatalf("enroll with wrong secret: %d", code)
	}
	creds := map[string]string{}
	for _, h := range []string{"lap-a", "lap-b"} {
		var r enrollResp
		if code := cc.call("POST", "/api/v1/enroll", "", map[string]any{"enroll_secret": secret, "host": map[string]string{"name": h, "id": h}, "agent_version": "e2e"}, false, &r); code != 200 || r.HostID != h || r.Credential == "" {
			t.Fatalf("enroll %s: %d %+v", h, code, r)
		}
		creds[h] = r.Credential
	}

	batch := func(host string, seq int) map[string]any {
		return map[string]any{"host": map[string]string{"name": host, "id": host}, "batch": []any{
			map[string]any{"seq": seq, "kind": "finding", "finding": e2eFinding(host, "kvm", "remote-access-hardware", "pikvm", "critical", map[string]any{"usb_serial": "PIKVM-SHARED-42"})},
			map[string]any{"seq": seq + 1, "kind": "finding", "finding": e2eFinding(host, "anydesk", "remote-access", "anydesk", "high", map[string]any{"remote_id": "111222333" + host[len(host)-1:]})},
			map[string]any{"seq": seq + 2, "kind": "finding", "finding": e2eFinding(host, "wg", "vpn", "wireguard", "medium", nil)},
			map[string]any{"seq": seq + 3, "kind": "heartbeat", "heartbeat": map[string]any{"time": time.Now().UTC(), "agent_version": "e2e", "uptime_seconds": 12, "interval_seconds": 60,
				"detectors": map[string]any{"remoteaccess": map[string]any{"ok": true, "last_run": time.Now().UTC(), "error": ""}}, "spool_bytes": 0, "spool_dropped": 0, "event": "", "cpu_percent": 0.1, "rss_bytes": 12345}},
		}}
	}
	type ingestResp = struct {
		Accepted   int `json:"accepted"`
		Duplicates int `json:"duplicates"`
	}
	for _, h := range []string{"lap-a", "lap-b"} {
		var r ingestResp
		if code := cc.call("POST", "/api/v1/ingest", creds[h], batch(h, 17), true, &r); code != 200 || r.Accepted != 4 || r.Duplicates != 0 {
			t.Fatalf("ingest %s: %d %+v", h, code, r)
		}
		// Re-sent (as after an agent restart): stored once.
		r = ingestResp{}
		if code := cc.call("POST", "/api/v1/ingest", creds[h], batch(h, 17), false, &r); code != 200 || r.Accepted != 0 || r.Duplicates != 4 {
			t.Fatalf("re-send %s: %d %+v", h, code, r)
		}
	}
	if code := cc.call("POST", "/api/v1/ingest", "", batch("lap-a", 40), false, nil); code != 401 {
		t.Fatalf("no credential: %d", code)
	}
	if code := cc.call("POST", "/api/v1/ingest", creds["lap-a"], batch("lap-b", 40), false, nil); code != 403 {
		t.Fatalf("other host's credential: %d", code)
	}

	// A web user and an API token, created with the binary beside the running server.
	add := exec.Command(bin, "user", "add", "alice", "--data-dir", data)
	add.Stdin = strings.NewReader("e2e-password-123\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	tokOut, err := exec.Command(bin, "token", "add", "e2e", "--data-dir", data).Output()
	if err != nil {
		t.Fatalf("token add: %v", err)
	}
	token := strings.TrimSpace(string(tokOut))

	var hosts struct {
		Hosts []struct {
			ID   string `json:"id"`
			Risk struct {
				Score int    `json:"score"`
				Level string `json:"level"`
			} `json:"risk"`
		} `json:"hosts"`
	}
	if code := cc.call("GET", "/api/v1/hosts", token, nil, false, &hosts); code != 200 || len(hosts.Hosts) != 2 {
		t.Fatalf("hosts: %d %+v", code, hosts)
	}
	for _, h := range hosts.Hosts {
		if h.Risk.Level != "critical" {
			t.Errorf("host %s risk %+v, want critical", h.ID, h.Risk)
		}
	}
	var fs struct {
		Findings []struct {
			ID    string `json:"id"`
			Count int    `json:"count"`
		} `json:"findings"`
	}
	if code := cc.call("GET", "/api/v1/hosts/lap-a/findings", token, nil, false, &fs); code != 200 || len(fs.Findings) != 3 {
		t.Fatalf("findings: %d %+v", code, fs)
	}
	for _, f := range fs.Findings {
		if f.Count != 1 {
			t.Errorf("finding %s count %d after a re-sent batch, want 1", f.ID, f.Count)
		}
	}
	type alertT struct {
		ID     string   `json:"id"`
		Kind   string   `json:"kind"`
		Title  string   `json:"title"`
		Hosts  []string `json:"hosts"`
		Status string   `json:"status"`
	}
	var alerts struct {
		Alerts []alertT `json:"alerts"`
	}
	if code := cc.call("GET", "/api/v1/alerts", token, nil, false, &alerts); code != 200 {
		t.Fatalf("alerts: %d", code)
	}
	var shared *alertT
	for i, a := range alerts.Alerts {
		if a.Kind == "shared_infrastructure" {
			shared = &alerts.Alerts[i]
		}
	}
	if shared == nil || strings.Join(shared.Hosts, ",") != "lap-a,lap-b" || !strings.Contains(shared.Title, "PIKVM-SHARED-42") && !strings.Contains(shared.Title, "pikvm-shared-42") {
		t.Fatalf("no shared-infrastructure alert naming both hosts: %+v", alerts.Alerts)
	}

	// The web page: log in, see the host, acknowledge the shared alert.
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Transport: tr, Jar: jar, Timeout: 20 * time.Second}
	resp, err := web.Get(cc.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatalf("login page without csrf:\n%s", page)
	}
	resp, err = web.PostForm(cc.base+"/login", url.Values{"csrf": {string(csrf[1])}, "username": {"alice"}, "password": {"e2e-password-123"}, "next": {"/alerts"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `data-alert="`+shared.ID+`"`) {
		t.Fatalf("alerts page after login: %d\n%s", resp.StatusCode, page)
	}
	hasSession := false
	for _, c := range jar.Cookies(resp.Request.URL) {
		hasSession = hasSession || c.Name == "fw_session"
	}
	if !hasSession {
		t.Fatal("no session cookie")
	}
	csrf = regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	resp, err = web.PostForm(cc.base+"/alerts/"+shared.ID+"/ack", url.Values{"csrf": {string(csrf[1])}, "next": {"/alerts"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var a alertT
	if code := cc.call("GET", "/api/v1/alerts/"+shared.ID, token, nil, false, &a); code != 200 || a.Status != "acknowledged" {
		t.Fatalf("alert after web ack: %d %+v", code, a)
	}
	resp, err = web.Get(cc.base + "/hosts/lap-a")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`risk \d+ \(critical\)`).Match(page) {
		t.Fatalf("host page lacks the critical risk:\n%s", page)
	}

	// Metrics count what happened.
	resp, err = cc.c.Get(cc.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `farmwatch_ingest_requests_total{code="200"} 4`) {
		t.Errorf("metrics:\n%s", metrics)
	}

	// SIGTERM: graceful shutdown, exit 0.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("collector exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("collector did not stop on SIGTERM")
	}
}
