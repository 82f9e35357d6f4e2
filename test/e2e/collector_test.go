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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/store/storetest"
	"github.com/farmwatch/farmwatch/internal/testenv"
	"golang.org/x/net/websocket"
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
		testenv.Missing(t, "end-to-end: starts the collector binary")
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
			map[string]any{"seq": seq, "kind": "finding", "finding": e2eFinding(host, "kvm", "remote-access-hardware", "pikvm", "critical", map[string]any{"serial": "PIKVM-SHARED-42"})},
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

// TestCollectorScaleOutPostgres runs two collector processes on one
// PostgreSQL (as behind a load balancer): an agent enrolled through one is
// accepted by the other, the same batch sent to both at once is stored
// once, and either serves the REST API. Needs FARMWATCH_TEST_POSTGRES.
func TestCollectorScaleOutPostgres(t *testing.T) {
	if testing.Short() {
		testenv.Missing(t, "end-to-end: starts collector binaries")
	}
	dsn := storetest.PostgresDSN(t)
	bin := collector(t)
	const secret = "e2e-enroll-secret-0123456789"
	var clients [2]*collectorClient
	for i := range clients {
		port := freePort(t)
		startProc(t, bin, "--http", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", t.TempDir(), "--database", dsn, "--enroll-secret", secret)
		waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))
		clients[i] = &collectorClient{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), c: &http.Client{Timeout: 20 * time.Second}}
	}
	var enr struct {
		Credential string `json:"credential"`
	}
	if code := clients[0].call("POST", "/api/v1/enroll", "", map[string]any{"enroll_secret": secret, "host": map[string]string{"name": "lap-z", "id": "lap-z"}}, false, &enr); code != 200 {
		t.Fatalf("enroll: %d", code)
	}
	var items []any
	for i := 0; i < 50; i++ {
		items = append(items, map[string]any{"seq": i, "kind": "finding", "finding": e2eFinding("lap-z", fmt.Sprint("s", i%5), "remote-access", "anydesk", "high", nil)})
	}
	body := map[string]any{"host": map[string]string{"name": "lap-z", "id": "lap-z"}, "batch": items}
	type res struct{ Accepted, Duplicates, code int }
	out := make(chan res, 6)
	for r := 0; r < 3; r++ {
		for _, c := range clients {
			go func(c *collectorClient) {
				var v struct {
					Accepted   int `json:"accepted"`
					Duplicates int `json:"duplicates"`
				}
				code := c.call("POST", "/api/v1/ingest", enr.Credential, body, true, &v)
				out <- res{v.Accepted, v.Duplicates, code}
			}(c)
		}
	}
	accepted := 0
	for i := 0; i < 6; i++ {
		r := <-out
		if r.code != 200 || r.Accepted+r.Duplicates != 50 {
			t.Fatalf("ingest: %+v", r)
		}
		accepted += r.Accepted
	}
	if accepted != 50 {
		t.Fatalf("accepted %d over both collectors, want 50", accepted)
	}
	tok, err := exec.Command(bin, "token", "add", "e2e", "--database", dsn, "--data-dir", t.TempDir()).Output()
	if err != nil {
		t.Fatalf("token add: %v", err)
	}
	var fs struct {
		Findings []struct {
			Count int `json:"count"`
		} `json:"findings"`
	}
	if code := clients[1].call("GET", "/api/v1/hosts/lap-z/findings", strings.TrimSpace(string(tok)), nil, false, &fs); code != 200 || len(fs.Findings) != 5 {
		t.Fatalf("findings via collector 2: %d %+v", code, fs)
	}
	for _, f := range fs.Findings {
		if f.Count != 10 {
			t.Fatalf("finding count %d, want 10", f.Count)
		}
	}
}

// cdp is a minimal Chrome DevTools Protocol client for one page.
type cdp struct {
	t  *testing.T
	ws *websocket.Conn
	id int
}

func (c *cdp) call(method string, params map[string]any) map[string]any {
	c.t.Helper()
	c.id++
	id := c.id
	if err := websocket.JSON.Send(c.ws, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		c.t.Fatalf("cdp %s: %v", method, err)
	}
	c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var msg struct {
			ID     int             `json:"id"`
			Result map[string]any  `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := websocket.JSON.Receive(c.ws, &msg); err != nil {
			c.t.Fatalf("cdp %s: %v", method, err)
		}
		if msg.ID != id {
			continue // an event
		}
		if len(msg.Error) > 0 {
			c.t.Fatalf("cdp %s: %s", method, msg.Error)
		}
		return msg.Result
	}
}

// eval runs JavaScript in the page and returns its value as a string.
func (c *cdp) eval(js string) string {
	c.t.Helper()
	r := c.call("Runtime.evaluate", map[string]any{"expression": js, "returnByValue": true, "awaitPromise": true})
	res, _ := r["result"].(map[string]any)
	return fmt.Sprint(res["value"])
}

// waitFor polls a JavaScript condition until it is "true".
func (c *cdp) waitFor(js string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c.eval(js) == "true" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("timed out waiting for %s; page: %s", js, c.eval("location.href + ' ' + document.body.innerText"))
}

// startChromium starts headless Chromium and connects to its first page.
func startChromium(t *testing.T) *cdp {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		requireE2E(t, "chromium") // fails under make test: chromium is in .ci/debian-packages.txt
		t.Skip("Chromium is not installed (Debian package chromium)")
	}
	prof := t.TempDir()
	startProc(t, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--ignore-certificate-errors",
		"--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", "--user-data-dir="+prof,
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "about:blank")
	var port int
	deadline := time.Now().Add(30 * time.Second)
	for port == 0 && time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(prof, "DevToolsActivePort")); err == nil {
			port, _ = strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if port == 0 {
		t.Fatal("Chromium did not open its DevTools port")
	}
	var wsURL string
	for wsURL == "" && time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/json/list", port))
		if err == nil {
			var targets []struct{ Type, WebSocketDebuggerURL string }
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			json.Unmarshal(b, &targets)
			for _, tg := range targets {
				if tg.Type == "page" {
					wsURL = tg.WebSocketDebuggerURL
					break
				}
			}
		}
		if wsURL == "" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if wsURL == "" {
		t.Fatal("no Chromium page target")
	}
	ws, err := websocket.Dial(wsURL, "", fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatalf("connect to Chromium: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &cdp{t: t, ws: ws}
	c.call("Page.enable", nil)
	c.call("Runtime.enable", nil)
	return c
}

// TestCollectorWebInChromium drives the collector's web page in headless
// Chromium: log in, see a host with a high-risk finding at the top, open
// it, acknowledge its alert.
func TestCollectorWebInChromium(t *testing.T) {
	if testing.Short() {
		testenv.Missing(t, "end-to-end: starts the collector and Chromium")
	}
	browser := startChromium(t)
	bin := collector(t)
	data := t.TempDir()
	port := freePort(t)
	const secret = "e2e-enroll-secret-0123456789"
	startProc(t, bin, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", data, "--enroll-secret", secret)
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	cc := &collectorClient{t: t, base: base, c: trustingClient(t, data)}

	var enr struct {
		Credential string `json:"credential"`
	}
	cc.call("POST", "/api/v1/enroll", "", map[string]any{"enroll_secret": secret, "host": map[string]string{"name": "lap-farm", "id": "lap-farm"}}, false, &enr)
	cc.call("POST", "/api/v1/enroll", "", map[string]any{"enroll_secret": secret, "host": map[string]string{"name": "lap-clean", "id": "lap-clean"}}, false, nil)
	body := map[string]any{"host": map[string]string{"name": "lap-farm", "id": "lap-farm"}, "batch": []any{
		map[string]any{"seq": 1, "kind": "finding", "finding": e2eFinding("lap-farm", "kvm", "remote-access-hardware", "pikvm", "critical", map[string]any{"serial": "K1"})},
		map[string]any{"seq": 2, "kind": "finding", "finding": e2eFinding("lap-farm", "anydesk", "remote-access", "anydesk", "high", nil)},
		map[string]any{"seq": 3, "kind": "finding", "finding": e2eFinding("lap-farm", "wg", "vpn", "wireguard", "medium", nil)},
	}}
	if code := cc.call("POST", "/api/v1/ingest", enr.Credential, body, true, nil); code != 200 {
		t.Fatalf("ingest: %d", code)
	}
	add := exec.Command(bin, "user", "add", "alice", "--data-dir", data)
	add.Stdin = strings.NewReader("browser-password-1\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}

	browser.call("Page.navigate", map[string]any{"url": base + "/"})
	browser.waitFor(`location.pathname === "/login" && document.readyState === "complete" && !!document.getElementById("login")`)
	browser.eval(`document.getElementById("username").value = "alice"; document.getElementById("password").value = "browser-password-1"; document.getElementById("login").click(); true`)
	browser.waitFor(`location.pathname === "/" && document.readyState === "complete" && !!document.getElementById("hosts")`)
	first := browser.eval(`document.querySelector("#hosts tr.host").dataset.host + " " + document.querySelector("#hosts tr.host .badge").innerText`)
	if !strings.HasPrefix(first, "lap-farm ") || !strings.Contains(first, "critical") {
		t.Fatalf("first host row = %q, want lap-farm with critical risk", first)
	}
	if c := browser.eval(`document.cookie`); strings.Contains(c, "fw_session") {
		t.Fatalf("session cookie visible to JavaScript: %q", c)
	}
	browser.eval(`document.querySelector('#hosts tr.host a').click(); true`)
	browser.waitFor(`location.pathname === "/hosts/lap-farm" && document.readyState === "complete" && !!document.getElementById("risk")`)
	if txt := browser.eval(`document.getElementById("risk-explanation").innerText`); !strings.Contains(txt, "combination") {
		t.Fatalf("risk explanation = %q", txt)
	}
	browser.call("Page.navigate", map[string]any{"url": base + "/alerts"})
	browser.waitFor(`location.pathname === "/alerts" && document.readyState === "complete" && document.querySelectorAll("#alerts tr.alert").length === 2`)
	alertID := browser.eval(`document.querySelector("#alerts tr.alert").dataset.alert`)
	browser.eval(`document.querySelector("#alerts tr.alert button.ack").click(); true`)
	row := `document.querySelector('#alerts tr.alert[data-alert="` + alertID + `"]')`
	browser.waitFor(`document.readyState === "complete" && !!` + row + ` && ` + row + `.innerText.includes("acknowledged by alice") && !` + row + `.querySelector("button.ack")`)
	var a struct {
		Status  string `json:"status"`
		AckedBy string `json:"acked_by"`
	}
	tok, err := exec.Command(bin, "token", "add", "e2e", "--data-dir", data).Output()
	if err != nil {
		t.Fatalf("token add: %v", err)
	}
	if code := cc.call("GET", "/api/v1/alerts/"+alertID, strings.TrimSpace(string(tok)), nil, false, &a); code != 200 || a.Status != "acknowledged" || a.AckedBy != "alice" {
		t.Fatalf("alert after acknowledging in the browser: %d %+v", code, a)
	}
}

// trustingClient trusts the collector's self-signed certificate in dataDir.
func trustingClient(t *testing.T, dataDir string) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(dataDir, "tls", "collector.crt"))
	if err != nil {
		t.Fatalf("self-signed certificate: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
}
