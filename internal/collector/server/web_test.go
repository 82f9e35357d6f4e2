package server

import (
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t *testing.T
	c *http.Client
	e *env
}

func newBrowser(e *env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.e.http.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(path string, form url.Values, header map[string]string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.e.http.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", html)
	}
	return m[1]
}

func (b *browser) login(user, pw string) *http.Response {
	b.t.Helper()
	_, page := b.get("/login")
	resp, _ := b.post("/login", url.Values{"csrf": {csrfOf(b.t, page)}, "username": {user}, "password": {pw}, "next": {"/"}}, nil)
	return resp
}

// farmHost ingests a remote-access-hardware + remote-control + VPN host.
func farmHost(e *env, id string) {
	e.t.Helper()
	cred := e.enroll(id)
	req := batchOf(id, 1,
		mkFinding(id, "kvm", report.CategoryRemoteAccessHardware, "pikvm", report.SeverityCritical, map[string]any{report.EvSerial: "KVM-0001"}),
		mkFinding(id, "anydesk", report.CategoryRemoteAccess, "anydesk", report.SeverityHigh, nil),
		mkFinding(id, "wg", report.CategoryVPN, "wireguard", report.SeverityMedium, nil))
	var r IngestResponse
	if resp := e.do("POST", "/api/v1/ingest", cred, req, true, &r); resp.StatusCode != 200 || r.Accepted != 3 {
		e.t.Fatalf("ingest farm host: %d %+v", resp.StatusCode, r)
	}
}

func addUser(t *testing.T, e *env, name, pw string) {
	t.Helper()
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.AddUser(t.Context(), name, h, t0); err != nil {
		t.Fatal(err)
	}
}

func TestWebLoginSeeRiskyHostAcknowledgeAlert(t *testing.T) {
	e := newEnv(t, nil)
	addUser(t, e, "alice", "correct horse battery")
	farmHost(e, "lap-7")
	e.do("POST", "/api/v1/ingest", e.enroll("quiet"), IngestRequest{Host: report.Host{ID: "quiet", Name: "quiet-lap"}, Batch: []store.Item{{Seq: 1, Kind: "heartbeat", Heartbeat: &store.Heartbeat{Time: t0, IntervalSeconds: 60}}}}, false, nil)
	b := newBrowser(e)

	// Not logged in: pages redirect to the login page, the API says 401.
	if resp, _ := b.get("/"); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous /: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.get("/api/v1/hosts"); resp.StatusCode != 401 {
		t.Fatalf("anonymous API: %d", resp.StatusCode)
	}
	if resp := b.login("alice", "wrong password"); resp.StatusCode != 401 {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	if resp := b.login("mallory", "correct horse battery"); resp.StatusCode != 401 {
		t.Fatalf("unknown user: %d", resp.StatusCode)
	}
	resp := b.login("alice", "correct horse battery")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie = %+v", sc)
	}

	resp, page := b.get("/")
	if resp.StatusCode != 200 {
		t.Fatalf("hosts page: %d", resp.StatusCode)
	}
	first := strings.Index(page, `data-host="lap-7"`)
	quiet := strings.Index(page, `data-host="quiet"`)
	if first < 0 || quiet < 0 || first > quiet || !strings.Contains(page, "100 critical") {
		t.Fatalf("hosts page does not list lap-7 first with critical risk:\n%s", page)
	}
	resp, page = b.get("/hosts/lap-7")
	if resp.StatusCode != 200 {
		t.Fatalf("host page: %d", resp.StatusCode)
	}
	for _, want := range []string{"risk 100 (critical)", "combination: remote-access hardware + remote-control session + VPN", "saw kvm", `id="timeline"`, "KVM-0001"} {
		if !strings.Contains(html.UnescapeString(page), want) {
			t.Errorf("host page lacks %q", want)
		}
	}
	if resp, _ := b.get("/hosts/nope"); resp.StatusCode != 404 {
		t.Fatalf("missing host page: %d", resp.StatusCode)
	}

	_, page = b.get("/alerts")
	as, _ := e.st.Alerts(t.Context(), "", 10)
	if len(as) != 2 { // critical kvm + high anydesk
		t.Fatalf("open alerts = %d", len(as))
	}
	if !strings.Contains(page, as[0].Title) {
		t.Fatalf("alerts page lacks %q", as[0].Title)
	}
	csrf := csrfOf(t, page)
	// POST without the CSRF token is refused.
	if resp, _ := b.post("/alerts/"+as[0].ID+"/ack", url.Values{"next": {"/alerts"}}, nil); resp.StatusCode != 403 {
		t.Fatalf("ack without csrf: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/alerts/"+as[0].ID+"/ack", url.Values{"csrf": {csrf}, "next": {"/alerts"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("ack: %d", resp.StatusCode)
	}
	got, _ := e.st.Alert(t.Context(), as[0].ID)
	if got.Status != store.StatusAcked || got.AckedBy != "alice" {
		t.Fatalf("alert after ack = %+v", got)
	}
	if resp, _ := b.post("/alerts/"+as[1].ID+"/close", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != 303 {
		t.Fatalf("close: %d", resp.StatusCode)
	}
	// The same session works for the REST API; POSTs need X-CSRF-Token.
	resp, body := b.get("/api/v1/alerts?status=all")
	var list struct{ Alerts []store.Alert }
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.Alerts) != 2 {
		t.Fatalf("REST alerts: %d %s", resp.StatusCode, body)
	}
	if resp, _ := b.post("/api/v1/alerts/"+as[0].ID+"/close", nil, nil); resp.StatusCode != 403 {
		t.Fatalf("REST POST without CSRF header: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/api/v1/alerts/"+as[0].ID+"/close", nil, map[string]string{csrfHeader: csrf}); resp.StatusCode != 200 {
		t.Fatalf("REST close with CSRF header: %d", resp.StatusCode)
	}
	// Close a finding from the host page: risk drops.
	fs, _ := e.st.Findings(t.Context(), "lap-7", true)
	if resp, _ := b.post("/hosts/lap-7/findings/"+fs[0].ID+"/close", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != 303 {
		t.Fatalf("close finding: %d", resp.StatusCode)
	}
	if h, _ := e.st.Host(t.Context(), "lap-7"); h.Risk.Score >= 100 {
		t.Fatalf("risk after closing the KVM finding = %d", h.Risk.Score)
	}
	// Log out: the session no longer works.
	b.post("/logout", url.Values{"csrf": {csrf}}, nil)
	if resp, _ := b.get("/"); resp.StatusCode != 303 {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}

func TestLoginCSRFAndOpenRedirect(t *testing.T) {
	e := newEnv(t, nil)
	addUser(t, e, "alice", "correct horse battery")
	b := newBrowser(e)
	// Without the login form's token the login is refused.
	if resp, _ := b.post("/login", url.Values{"username": {"alice"}, "password": {"correct horse battery"}}, nil); resp.StatusCode != 403 {
		t.Fatalf("login without csrf: %d", resp.StatusCode)
	}
	_, page := b.get("/login")
	resp, _ := b.post("/login", url.Values{"csrf": {csrfOf(t, page)}, "username": {"alice"}, "password": {"correct horse battery"}, "next": {"//evil.example/"}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
		t.Fatalf("open redirect: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestRESTWithAPIToken(t *testing.T) {
	e := newEnv(t, nil)
	farmHost(e, "lap-7")
	if err := e.st.AddAPIToken(t.Context(), "soar", HashToken("tok-123"), t0); err != nil {
		t.Fatal(err)
	}
	var hosts struct{ Hosts []store.Host }
	if resp := e.do("GET", "/api/v1/hosts", "tok-123", nil, false, &hosts); resp.StatusCode != 200 || len(hosts.Hosts) != 1 || hosts.Hosts[0].Risk.Score != 100 || len(hosts.Hosts[0].Risk.Contributions) != 4 {
		t.Fatalf("hosts: %d %+v", resp.StatusCode, hosts)
	}
	var fs struct{ Findings []store.Finding }
	if resp := e.do("GET", "/api/v1/hosts/lap-7/findings", "tok-123", nil, false, &fs); resp.StatusCode != 200 || len(fs.Findings) != 3 || fs.Findings[0].Severity != report.SeverityCritical {
		t.Fatalf("findings: %d %+v", resp.StatusCode, fs)
	}
	if resp := e.do("GET", "/api/v1/hosts/nope/findings", "tok-123", nil, false, nil); resp.StatusCode != 404 {
		t.Fatalf("missing host findings: %d", resp.StatusCode)
	}
	var tl struct{ Events []store.Event }
	if resp := e.do("GET", "/api/v1/hosts/lap-7/timeline", "tok-123", nil, false, &tl); resp.StatusCode != 200 || len(tl.Events) != 3 {
		t.Fatalf("timeline: %d %+v", resp.StatusCode, tl)
	}
	var as struct{ Alerts []store.Alert }
	e.do("GET", "/api/v1/alerts", "tok-123", nil, false, &as)
	if len(as.Alerts) != 2 {
		t.Fatalf("alerts = %+v", as)
	}
	var a store.Alert
	if resp := e.do("POST", "/api/v1/alerts/"+as.Alerts[0].ID+"/ack", "tok-123", nil, false, &a); resp.StatusCode != 200 || a.Status != store.StatusAcked || a.AckedBy != "token:soar" {
		t.Fatalf("ack: %d %+v", resp.StatusCode, a)
	}
	if resp := e.do("POST", "/api/v1/alerts/"+as.Alerts[0].ID+"/close", "tok-123", nil, false, &a); resp.StatusCode != 200 || a.Status != store.StatusClosed {
		t.Fatalf("close: %d %+v", resp.StatusCode, a)
	}
	if resp := e.do("POST", "/api/v1/alerts/nope/ack", "tok-123", nil, false, nil); resp.StatusCode != 404 {
		t.Fatalf("ack missing: %d", resp.StatusCode)
	}
	if resp := e.do("GET", "/api/v1/alerts", "wrong", nil, false, nil); resp.StatusCode != 401 {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
	// An agent credential is not an API token.
	if resp := e.do("GET", "/api/v1/hosts", e.enroll("x"), nil, false, nil); resp.StatusCode != 401 {
		t.Fatalf("agent credential on REST: %d", resp.StatusCode)
	}
}

func TestProxyHeaderAuth(t *testing.T) {
	_, lo, _ := net.ParseCIDR("127.0.0.0/8")
	_, other, _ := net.ParseCIDR("10.0.0.0/8")
	e := newEnv(t, func(o *Options) { o.AuthHeader = "X-Forwarded-User"; o.TrustedProxies = []*net.IPNet{lo} })
	b := newBrowser(e)
	req, _ := http.NewRequest("GET", e.http.URL+"/alerts", nil)
	req.Header.Set("X-Forwarded-User", "bob")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "bob") {
		t.Fatalf("trusted proxy header: %d", resp.StatusCode)
	}
	secure := false
	for _, c := range resp.Cookies() {
		secure = secure || (c.Name == sessionCookie && c.Secure && c.HttpOnly)
	}
	if !secure {
		t.Fatalf("session cookie behind an HTTPS proxy is not Secure: %v", resp.Header["Set-Cookie"])
	}
	e2 := newEnv(t, func(o *Options) { o.AuthHeader = "X-Forwarded-User"; o.TrustedProxies = []*net.IPNet{other} })
	req, _ = http.NewRequest("GET", e2.http.URL+"/alerts", nil)
	req.Header.Set("X-Forwarded-User", "bob")
	resp, err = newBrowser(e2).c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 {
		t.Fatalf("header from an untrusted address accepted: %d", resp.StatusCode)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, nil)
	farmHost(e, "h1")
	e.do("POST", "/api/v1/ingest", "", IngestRequest{}, false, nil) // 401
	resp, err := http.Get(e.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`farmwatch_ingest_requests_total{code="200"} 1`,
		`farmwatch_ingest_requests_total{code="401"} 1`,
		`farmwatch_ingest_items_total{kind="finding",result="accepted"} 3`,
		`farmwatch_ingest_duration_seconds_count 2`,
		`farmwatch_alerts_raised_total{kind="finding"} 2`,
		`farmwatch_enroll_requests_total{result="ok"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if resp, err := http.Get(e.http.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
}

// TestInventoryOnThePages imports the Intune Devices export fixture through
// the REST API and reads the pages as an analyst: each host says whom it is
// issued to (hosts list, farm, host page), and the inventory page lists
// the hosts the export does not name and its devices with no agent.
func TestInventoryOnThePages(t *testing.T) {
	e := newEnv(t, nil)
	addUser(t, e, "alice", "correct horse battery")
	if err := e.st.AddAPIToken(t.Context(), "mdm", HashToken("mdm-tok"), t0); err != nil {
		t.Fatal(err)
	}
	beat := func(id, name, serial string) {
		cred := e.enroll(id)
		req := IngestRequest{Host: report.Host{ID: id, Name: name}, Batch: []store.Item{{Seq: 100, Kind: "heartbeat", Heartbeat: &store.Heartbeat{Time: t0, IntervalSeconds: 60, Serial: serial}}}}
		if resp := e.do("POST", "/api/v1/ingest", cred, req, false, nil); resp.StatusCode != 200 {
			t.Fatalf("heartbeat of %s: %d", id, resp.StatusCode)
		}
	}
	farmHost(e, "lap-1")
	beat("lap-1", "LAP-0001", "PF3ABC01")
	farmHost(e, "lap-9")
	beat("lap-9", "LAP-0009", "PF3NOTLISTED")
	export, err := os.ReadFile(filepath.Join("..", "inventory", "testdata", "intune-devices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", e.http.URL+"/api/v1/inventory", strings.NewReader(string(export)))
	req.Header.Set("Authorization", "Bearer mdm-tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT /api/v1/inventory: %v %v", resp, err)
	}
	resp.Body.Close()

	b := newBrowser(e)
	if resp := b.login("alice", "correct horse battery"); resp.StatusCode != 303 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	ada := "issued to Ada Lovelace &lt;ada@example.com&gt;"
	for _, path := range []string{"/", "/fleet", "/hosts/lap-1"} {
		resp, page := b.get(path)
		if resp.StatusCode != 200 || !strings.Contains(page, ada) || !strings.Contains(page, "expected in") || !strings.Contains(page, "not in the inventory") && path != "/hosts/lap-1" {
			t.Errorf("%s: %d; want lap-1 %q with its expected region and lap-9 not in the inventory:\n%s", path, resp.StatusCode, ada, page)
		}
	}
	resp, page := b.get("/inventory")
	if resp.StatusCode != 200 {
		t.Fatalf("/inventory: %d", resp.StatusCode)
	}
	section := func(id string) string {
		i := strings.Index(page, `id="`+id+`"`)
		if i < 0 {
			t.Fatalf("/inventory has no #%s:\n%s", id, page)
		}
		j := strings.Index(page[i:], "</table>")
		return page[i : i+j]
	}
	if s := section("unmatched-hosts"); !strings.Contains(s, `data-host="lap-9"`) || strings.Contains(s, "lap-1") {
		t.Errorf("hosts the inventory does not list: want lap-9 only:\n%s", s)
	}
	if s := section("unmatched-records"); !strings.Contains(s, "LAP-0002") || !strings.Contains(s, "Hopper, Grace &lt;grace@example.com&gt;") || strings.Contains(s, "PF3ABC01") {
		t.Errorf("devices with no agent: want LAP-0002 (Grace Hopper), not LAP-0001:\n%s", s)
	}
	if s := section("matched"); !strings.Contains(s, `data-host="lap-1"`) || !strings.Contains(s, "<td>serial</td>") {
		t.Errorf("matched: want lap-1 by serial:\n%s", s)
	}
	if want := "device(s) imported (intune export, "; !strings.Contains(page, want) || !strings.Contains(page, "1 matched to a host") || !strings.Contains(page, "1 host(s) the inventory does not list") {
		t.Errorf("/inventory summary: want %q, 1 matched, 1 host not listed:\n%s", want, page)
	}
}
