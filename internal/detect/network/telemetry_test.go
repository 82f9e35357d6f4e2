package network

import (
	"net/netip"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestObserveClassifiesConnectionTable(t *testing.T) {
	own := []netip.Prefix{netip.MustParsePrefix("192.168.1.10/32")}
	e := New(Config{LocalNets: own})
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	rdp := Conn{Proto: "tcp", Local: ap("192.168.1.10:3389"), Remote: ap("203.0.113.5:50000"), Inbound: true,
		Owner: Owner{PID: 1100, Process: "svchost.exe"}, HasCounters: true}
	any := Conn{Proto: "tcp", Local: ap("192.168.1.10:50123"), Remote: ap("198.51.100.7:443"),
		Owner: Owner{PID: 2200, Process: `C:\Program Files (x86)\AnyDesk\AnyDesk.exe`, RTTms: 21}, HasCounters: true}
	web := Conn{Proto: "tcp", Local: ap("192.168.1.10:50200"), Remote: ap("198.51.100.9:443"),
		Owner: Owner{PID: 3300, Process: "chrome.exe"}, HasCounters: true}
	for i := 0; i < 5; i++ {
		ts := t0.Add(time.Duration(i) * 5 * time.Second)
		rdp.BytesReceived += 400
		rdp.BytesSent += 90000
		rdp.SegsReceived += 10
		rdp.SegsSent += 70
		any.BytesSent += 500
		any.BytesReceived += 50000
		web.BytesReceived += 1 << 20
		rows := []Conn{rdp, any, web}
		e.Observe(ts, rows)
	}
	// The RDP session ends (leaves the table); the others are finished at Close.
	e.Observe(t0.Add(30*time.Second), []Conn{any, web})
	fs := e.Close()
	r := find(fs, "network.rdp.session", "rdp")
	if r == nil {
		t.Fatalf("no inbound RDP from the connection table; got %s", summarize(fs))
	}
	if r.Severity != report.SeverityHigh || r.Evidence["direction"] != "inbound" || r.Evidence["source"] != "connection-table" {
		t.Errorf("rdp: severity %s evidence %v", r.Severity, r.Evidence)
	}
	if r.Evidence["client"] != "203.0.113.5:50000" || r.Evidence["bytes_s2c"] != uint64(450000) || r.Evidence["bytes_c2s"] != uint64(2000) {
		t.Errorf("rdp flow evidence %v", r.Evidence)
	}
	if r.Evidence["pid"] != int32(1100) || r.Evidence["duration_s"] != 20.0 {
		t.Errorf("rdp owner/duration evidence %v", r.Evidence)
	}
	a := find(fs, "network.anydesk.session", "anydesk")
	if a == nil {
		t.Fatalf("AnyDesk relay connection not named by its process; got %s", summarize(fs))
	}
	if a.Severity != report.SeverityMedium || a.Evidence["kernel_rtt_ms"] != 21.0 || a.Evidence["direction"] != "outbound" {
		t.Errorf("anydesk: %s %v", a.Severity, a.Evidence)
	}
	for _, f := range fs {
		if f.Severity > report.SeverityLow && f.Evidence["pid"] == int32(3300) {
			t.Errorf("browser connection reported: %+v", f)
		}
	}
}

func TestObserveFindsForwardingProcess(t *testing.T) {
	own := []netip.Prefix{netip.MustParsePrefix("10.0.0.2/32")}
	e := New(Config{LocalNets: own})
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	in := Conn{Proto: "tcp", Local: ap("10.0.0.2:4444"), Remote: ap("203.0.113.5:40000"), Inbound: true, Owner: Owner{PID: 77, Process: "socat"}, HasCounters: true}
	out := Conn{Proto: "tcp", Local: ap("10.0.0.2:51000"), Remote: ap("10.0.1.2:22"), Owner: Owner{PID: 77, Process: "socat"}, HasCounters: true}
	other := Conn{Proto: "tcp", Local: ap("10.0.0.2:51001"), Remote: ap("10.0.1.3:443"), Owner: Owner{PID: 78, Process: "curl"}, HasCounters: true}
	for i := 0; i < 4; i++ {
		in.BytesReceived += 3000
		out.BytesSent += 3000
		out.BytesReceived += 9000
		in.BytesSent += 9000
		other.BytesSent += 3000
		other.BytesReceived += 9000
		e.Observe(t0.Add(time.Duration(i)*time.Second), []Conn{in, out, other})
	}
	fs := e.Close()
	r := find(fs, "network.behavior.relay", "stepping-stone")
	if r == nil {
		t.Fatalf("no relay; got %s", summarize(fs))
	}
	if r.Evidence["process"] != "socat" || r.Severity != report.SeverityHigh {
		t.Errorf("relay evidence %v", r.Evidence)
	}
	if n := count(fs, "network.behavior.relay"); n != 1 {
		t.Errorf("%d relay findings, want 1 (the other process's matching volume is not a relay)", n)
	}
}

func TestObserveMismatchedVolumesAreNotARelay(t *testing.T) {
	e := New(Config{LocalNets: []netip.Prefix{netip.MustParsePrefix("10.0.0.2/32")}})
	in := Conn{Proto: "tcp", Local: ap("10.0.0.2:8080"), Remote: ap("203.0.113.5:40000"), Inbound: true, Owner: Owner{PID: 5, Process: "server"}, HasCounters: true,
		BytesReceived: 4000, BytesSent: 900000}
	out := Conn{Proto: "tcp", Local: ap("10.0.0.2:51000"), Remote: ap("10.0.1.2:5432"), Owner: Owner{PID: 5, Process: "server"}, HasCounters: true,
		BytesSent: 30000, BytesReceived: 4000}
	e.Observe(time.Unix(100, 0), []Conn{in, out})
	if fs := e.Close(); find(fs, "network.behavior.relay", "stepping-stone") != nil {
		t.Fatalf("a server querying its database reported as a relay: %s", summarize(fs))
	}
}

func count(fs []report.Finding, rule string) int {
	n := 0
	for _, f := range fs {
		if f.Rule == rule {
			n++
		}
	}
	return n
}

// BenchmarkObserve: one poll of a busy connection table (2,000 established
// connections, counters moving) — the Windows agent's steady-state cost.
func BenchmarkObserve(b *testing.B) {
	e := New(Config{LocalNets: []netip.Prefix{netip.MustParsePrefix("192.168.1.10/32")}})
	rows := make([]Conn, 2000)
	for i := range rows {
		rows[i] = Conn{Proto: "tcp", Local: netip.AddrPortFrom(netip.MustParseAddr("192.168.1.10"), uint16(20000+i)),
			Remote: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), 443), Owner: Owner{PID: int32(100 + i%50), Process: "chrome.exe"}, HasCounters: true}
	}
	t0 := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range rows {
			rows[i].BytesSent += 100
			rows[i].BytesReceived += 1000
		}
		e.Observe(t0.Add(time.Duration(n)*time.Second), rows)
	}
}

// TestObserveCounterDriven: from connection counters alone, an unknown
// process's outbound connection on which this host sends bulky, varying
// data while the remote end sends small segments alongside is reported as
// a possibly controlled host (medium); a steady upload with the peer's
// small window updates, and a download, are not.
func TestObserveCounterDriven(t *testing.T) {
	own := []netip.Prefix{netip.MustParsePrefix("192.168.1.10/32")}
	e := New(Config{LocalNets: own})
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	screen := Conn{Proto: "tcp", Local: ap("192.168.1.10:50500"), Remote: ap("198.51.100.20:443"),
		Owner: Owner{PID: 4400, Process: "svc-helper"}, HasCounters: true}
	upload := Conn{Proto: "tcp", Local: ap("192.168.1.10:50600"), Remote: ap("198.51.100.21:443"),
		Owner: Owner{PID: 4500, Process: "backup"}, HasCounters: true}
	download := Conn{Proto: "tcp", Local: ap("192.168.1.10:50700"), Remote: ap("198.51.100.22:443"),
		Owner: Owner{PID: 4600, Process: "browser"}, HasCounters: true}
	// Screen updates per 5 s poll: bursts of varying size answering input.
	out := []uint64{30000, 4000, 82000, 12000, 2500, 51000, 20000, 64000, 7000, 40000}
	in := []uint64{640, 220, 910, 300, 180, 700, 420, 800, 260, 560}
	for i := range out {
		ts := t0.Add(time.Duration(i) * 5 * time.Second)
		screen.BytesSent += out[i]
		screen.SegsSent += out[i]/1200 + 1
		screen.BytesReceived += in[i]
		screen.SegsReceived += in[i]/40 + 1
		upload.BytesSent += 1 << 20
		upload.SegsSent += (1 << 20) / 1400
		upload.BytesReceived += 80
		upload.SegsReceived += 2
		download.BytesReceived += 900000
		download.SegsReceived += 900000 / 1400
		download.BytesSent += 300
		download.SegsSent += 4
		e.Observe(ts, []Conn{screen, upload, download})
	}
	fs := e.Close()
	f := find(fs, "network.behavior.controlled", "unknown")
	if f == nil {
		t.Fatalf("no controlled finding from counters; got %s", summarize(fs))
	}
	if f.Severity != report.SeverityMedium || f.Evidence["pid"] != int32(4400) || f.Evidence["controlled"] != "192.168.1.10:50500" {
		t.Errorf("controlled: %s %v", f.Severity, f.Evidence)
	}
	for _, f := range fs {
		if f.Rule == "network.behavior.controlled" && f.Evidence["pid"] != int32(4400) {
			t.Errorf("not a controlled host: %s %v", f.Summary, f.Evidence["pid"])
		}
	}
}

// TestObserveServerDialsOut: a VNC server process that dialled out to a
// listening viewer (x11vnc -connect; a renamed TightVNC server named by its
// PE original filename) is this host being controlled: high, whichever side
// opened the connection. A viewer's outbound session is not.
func TestObserveServerDialsOut(t *testing.T) {
	own := []netip.Prefix{netip.MustParsePrefix("192.168.1.10/32")}
	e := New(Config{LocalNets: own})
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	rows := []Conn{
		{Proto: "tcp", Local: ap("192.168.1.10:50800"), Remote: ap("203.0.113.9:5500"), Owner: Owner{PID: 5100, Process: "x11vnc"}},
		{Proto: "tcp", Local: ap("192.168.1.10:50801"), Remote: ap("203.0.113.10:5500"),
			Owner: Owner{PID: 5200, Process: "svchelper.exe", Identity: map[string]string{"original_filename": "tvnserver.exe", "product": "TightVNC"}}},
		{Proto: "tcp", Local: ap("192.168.1.10:50802"), Remote: ap("203.0.113.11:5900"), Owner: Owner{PID: 5300, Process: "vncviewer"}},
	}
	e.Observe(t0, rows)
	e.Observe(t0.Add(5*time.Second), rows)
	fs := e.Close()
	high := map[any]bool{}
	for _, f := range fs {
		if f.Rule == "network.vnc.session" && f.Severity == report.SeverityHigh {
			high[f.Evidence["pid"]] = true
		}
	}
	if !high[int32(5100)] || !high[int32(5200)] {
		t.Errorf("dialled-out VNC servers not high; got %s", summarize(fs))
	}
	if high[int32(5300)] {
		t.Errorf("a viewer's outbound session rated as this host controlled: %s", summarize(fs))
	}
}
