package server

import (
	"strings"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

// hostile is what a farm operator controls: a hostname and evidence
// strings. Rendered, none of it may become markup.
const hostile = `"><script>alert(1)</script><img src=x onerror=alert(2)>`

// fleetFarm ingests three hosts that share one KVM serial (the hardware
// detector's serial key) and one gateway hash, and a fourth alone.
func fleetFarm(t *testing.T, e *env) map[string]string {
	t.Helper()
	creds := map[string]string{}
	kvmSerial := "kvm-" + hostile
	gw := report.HashNetwork([]byte("k"), report.NetGateway, "f4:92:bf:01:02:03")
	for i, id := range []string{"farm-a", "farm-b", "farm-c", "alone"} {
		cred := e.enroll(id)
		creds[id] = cred
		name := id + "-lap"
		if id == "farm-b" {
			name = "<b>" + hostile + "</b>"
		}
		req := IngestRequest{Host: report.Host{Name: name, ID: id}}
		if id != "alone" {
			f := mkFinding(id, "kvm", report.CategoryRemoteAccessHardware, "jetkvm", report.SeverityCritical, map[string]any{report.EvSerial: kvmSerial})
			f.Host.Name, f.Summary = name, "IP-KVM "+hostile
			req.Batch = append(req.Batch, store.Item{Seq: 1, Kind: store.KindFinding, Finding: f})
			req.Batch = append(req.Batch, store.Item{Seq: 2, Kind: store.KindHeartbeat, Heartbeat: &store.Heartbeat{
				Time: t0, AgentVersion: "1.2." + hostile, IntervalSeconds: 60, Network: &report.NetworkIdentity{Gateway: gw},
				SpoolPending: 7, Capture: []report.CaptureStats{{Interface: "wlan0", KernelDrops: 12}}}})
		} else {
			req.Batch = append(req.Batch, store.Item{Seq: 1, Kind: store.KindFinding, Finding: mkFinding(id, "wg", report.CategoryVPN, "wireguard", report.SeverityMedium, nil)})
		}
		var r IngestResponse
		if resp := e.do("POST", "/api/v1/ingest", cred, req, true, &r); resp.StatusCode != 200 {
			t.Fatalf("ingest %s: %d %+v", id, resp.StatusCode, r)
		}
		e.clock.t = t0.Add(time.Duration(i+1) * time.Minute)
	}
	return creds
}

func noMarkup(t *testing.T, page, body string) {
	t.Helper()
	for _, bad := range []string{"<script>alert", "<img src=x", "<b>\"", "onerror=alert(2)>"} {
		if strings.Contains(body, bad) {
			t.Errorf("%s: hostile input rendered as markup (%q):\n%s", page, bad, body)
		}
	}
}

// TestFleetPagesShowFarmsHostsAndLinksEscaped: the fleet view groups the
// hosts of the shared-KVM and co-location alerts into one farm with each
// host's risk, agent state and reasons and what links them; the host list
// shows reasons, agent state and links; the alerts page names hosts;
// hostile hostnames and evidence are escaped everywhere.
func TestFleetPagesShowFarmsHostsAndLinksEscaped(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		fleetFarm(t, e)
		addUser(t, e, "alice", "pw-0123456789")
		b := newBrowser(e)
		b.login("alice", "pw-0123456789")

		resp, page := b.get("/fleet")
		if resp.StatusCode != 200 {
			t.Fatalf("fleet: %d\n%s", resp.StatusCode, page)
		}
		noMarkup(t, "fleet", page)
		if n := strings.Count(page, `<section class="farm"`); n != 1 {
			t.Fatalf("fleet: %d farms, want 1:\n%s", n, page)
		}
		for _, want := range []string{"Farm 1: 3 hosts linked by", "shared KVM", "co-location",
			`data-host="farm-a"`, `data-host="farm-b"`, `data-host="farm-c"`, "farm-a-lap",
			"&lt;b&gt;&#34;&gt;&lt;script&gt;",             // farm-b's hostile name, as text
			`USB serial &#34;kvm-\&#34;&gt;&lt;script&gt;`, // the serial, escaped by %q then HTML
			"default gateway (MAC hash", `class="why"`, "reporting", "7 record(s) pending", "wlan0: 12 kernel drops", "1 farm(s) found · 3 of 4 host(s) in a farm"} {
			if !strings.Contains(page, want) {
				t.Errorf("fleet page lacks %q", want)
			}
		}
		if strings.Contains(page, `data-host="alone"`) {
			t.Error("fleet page lists a host that shares nothing")
		}

		_, page = b.get("/")
		noMarkup(t, "hosts", page)
		rows := strings.Split(page, `<tr class="host"`)[1:]
		if len(rows) != 4 {
			t.Fatalf("host list: %d rows", len(rows))
		}
		for _, r := range rows {
			id := r[strings.Index(r, `data-host="`)+11:]
			id = id[:strings.Index(id, `"`)]
			shares := r[strings.Index(r, `class="shares"`):]
			switch id {
			case "farm-a":
				for _, want := range []string{`href="/hosts/farm-b"`, `href="/hosts/farm-c"`, "USB serial", "gateway", `href="/fleet#farm-1"`, "+", "heartbeat "} {
					if !strings.Contains(r, want) {
						t.Errorf("host row farm-a lacks %q:\n%s", want, r)
					}
				}
				if strings.Contains(shares, `href="/hosts/farm-a"`) || strings.Contains(shares, "alone") {
					t.Errorf("farm-a shares with itself or an unrelated host:\n%s", shares)
				}
			case "alone":
				if !strings.Contains(shares, "—") || strings.Contains(r, "farm 1") {
					t.Errorf("unrelated host row links to the farm:\n%s", r)
				}
			}
		}

		_, page = b.get("/hosts/farm-a")
		noMarkup(t, "host", page)
		for _, want := range []string{`id="shares"`, `href="/hosts/farm-c"`, `href="/fleet#farm-1"`, "reporting"} {
			if !strings.Contains(page, want) {
				t.Errorf("host page lacks %q", want)
			}
		}

		var fleet struct {
			Farms []struct {
				Kinds []string `json:"kinds"`
				Links []struct {
					Kind  string   `json:"kind"`
					Hosts []string `json:"hosts"`
				} `json:"links"`
				Hosts []struct {
					ID     string `json:"id"`
					Shares []struct {
						Host string `json:"host"`
					} `json:"shares"`
				} `json:"hosts"`
			} `json:"farms"`
		}
		tok := addToken(t, e)
		if resp := e.do("GET", "/api/v1/fleet", tok, nil, false, &fleet); resp.StatusCode != 200 || len(fleet.Farms) != 1 {
			t.Fatalf("GET /api/v1/fleet: %d %+v", resp.StatusCode, fleet)
		}
		if f := fleet.Farms[0]; len(f.Hosts) != 3 || len(f.Links) != 2 || f.Links[0].Kind != "usb_serial" || f.Links[1].Kind != "gateway" || len(f.Hosts[0].Shares) != 2 {
			t.Errorf("fleet API: %+v", f)
		}

		_, page = b.get("/alerts")
		noMarkup(t, "alerts", page)
		for _, want := range []string{"shared KVM", "co-location", "<b>3</b> host(s):", `farm-a-lap</a>`, `farm-c-lap</a>`, "since 2026-11-02"} {
			if !strings.Contains(page, want) {
				t.Errorf("alerts page lacks %q", want)
			}
		}
		if strings.Contains(page, `">farm-a</a>`) {
			t.Error("alerts page shows a host id where its name is known")
		}
	})
}

// TestFleetPageSilentHost: a host whose heartbeats stopped is marked
// silent in the fleet view and the host list.
func TestFleetPageSilentHost(t *testing.T) {
	e := newEnv(t, nil)
	fleetFarm(t, e)
	e.clock.t = t0.Add(time.Hour)
	if _, err := e.st.CheckSilence(t.Context(), e.clock.Now(), 3, e.srv.o.Policy); err != nil {
		t.Fatal(err)
	}
	addUser(t, e, "alice", "pw-0123456789")
	b := newBrowser(e)
	b.login("alice", "pw-0123456789")
	_, page := b.get("/fleet")
	if n := strings.Count(page, `badge state-silent`); n != 3 {
		t.Fatalf("fleet: %d silent hosts, want 3:\n%s", n, page)
	}
	_, page = b.get("/")
	if n := strings.Count(page, `badge state-silent`); n != 3 {
		t.Fatalf("hosts: %d silent hosts, want 3", n)
	}
}

func addToken(t *testing.T, e *env) string {
	t.Helper()
	if err := e.st.AddAPIToken(t.Context(), "fleet", HashToken("fleet-tok-1"), t0); err != nil {
		t.Fatal(err)
	}
	return "fleet-tok-1"
}

// TestAlertsPageLastSeenMoves: a shared-KVM alert's "last seen" is the
// newest sighting of the serial, not when the alert was raised.
func TestAlertsPageLastSeenMoves(t *testing.T) {
	e := newEnv(t, nil)
	creds := fleetFarm(t, e)
	e.clock.t = t0.Add(30 * time.Minute)
	f := mkFinding("farm-a", "kvm", report.CategoryRemoteAccessHardware, "jetkvm", report.SeverityCritical, map[string]any{report.EvSerial: "kvm-" + hostile})
	req := IngestRequest{Host: report.Host{Name: "farm-a-lap", ID: "farm-a"}, Batch: []store.Item{{Seq: 3, Kind: store.KindFinding, Finding: f}}}
	if resp := e.do("POST", "/api/v1/ingest", creds["farm-a"], req, false, nil); resp.StatusCode != 200 {
		t.Fatalf("re-report: %d", resp.StatusCode)
	}
	e.clock.t = t0.Add(31 * time.Minute)
	addUser(t, e, "alice", "pw-0123456789")
	b := newBrowser(e)
	b.login("alice", "pw-0123456789")
	_, page := b.get("/alerts")
	for _, row := range strings.Split(page, `<tr class="alert"`)[1:] {
		if strings.Contains(row, "shared KVM") {
			if !strings.Contains(row, "last seen 1m0s ago") || !strings.Contains(row, "since 2026-11-02 10:01:00Z") {
				t.Fatalf("shared KVM alert row: %s", row)
			}
			return
		}
	}
	t.Fatalf("no shared KVM alert:\n%s", page)
}
