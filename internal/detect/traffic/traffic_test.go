package traffic

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// TestConnectionTelemetryWindowsSnapshot runs the detector in connection
// mode on a recorded-format Windows snapshot (connections with the
// extended TCP statistics the agent reads there): an inbound RDP session,
// AnyDesk on a relay over 443, a portproxy forwarding inbound 8443 to an
// internal RDP host, and a browser.
func TestConnectionTelemetryWindowsSnapshot(t *testing.T) {
	src, err := source.OpenSnapshot("../../../testdata/traffic/windows-farm")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Settings{Mode: ModeConnections, PollEvery: 500 * time.Millisecond, ReportEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	var mu sync.Mutex
	var last []report.Finding
	env := detect.Env{Source: src, Host: report.Host{Name: "LAPTOP-FARM7", ID: "laptop-farm7-id"}, Logger: zap.NewNop(), Now: time.Now()}
	if err := d.Stream(ctx, env, func(fs []report.Finding) { mu.Lock(); last = fs; mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	get := func(rule, tool string) *report.Finding {
		for i := range last {
			if last[i].Rule == rule && last[i].Tool == tool {
				return &last[i]
			}
		}
		t.Fatalf("no %s/%s in %d findings: %v", rule, tool, len(last), last)
		return nil
	}
	rdp := get("network.rdp.session", "rdp")
	if rdp.Severity != report.SeverityHigh || rdp.Evidence["direction"] != "inbound" || rdp.Evidence["pid"] != int32(1100) ||
		rdp.Evidence["kernel_rtt_ms"] != 182.0 || rdp.Evidence["bytes_s2c"] != uint64(4500000) || rdp.Evidence["client"] != "203.0.113.50:51234" {
		t.Errorf("inbound RDP: %s %v", rdp.Severity, rdp.Evidence)
	}
	ad := get("network.anydesk.session", "anydesk")
	if ad.Severity != report.SeverityMedium || ad.Evidence["process"] != "AnyDesk.exe" || ad.Evidence["server"] != "192.0.2.77:443" {
		t.Errorf("AnyDesk: %s %v", ad.Severity, ad.Evidence)
	}
	relay := get("network.behavior.relay", "stepping-stone")
	if relay.Severity != report.SeverityHigh || relay.Evidence["pid"] != int32(1500) {
		t.Errorf("portproxy relay: %s %v", relay.Severity, relay.Evidence)
	}
	for _, f := range last {
		if f.Evidence["pid"] == int32(2200) {
			t.Errorf("browser connection reported: %+v", f)
		}
	}
}

func TestSettingsValidation(t *testing.T) {
	for _, s := range []Settings{{Mode: "pcap"}, {PollEvery: time.Millisecond}, {CPUBudget: 2}} {
		if _, err := New(s); err == nil {
			t.Errorf("settings %+v accepted", s)
		}
	}
}
