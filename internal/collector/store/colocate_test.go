package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

func TestCoLocation(t *testing.T) {
	backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		key, err := s.FleetKey(ctx)
		if err != nil || len(key) != 32 {
			t.Fatalf("FleetKey = %x, %v", key, err)
		}
		if again, _ := s.FleetKey(ctx); string(again) != string(key) {
			t.Fatal("fleet key changed")
		}
		h := func(kind, v string) string { return report.HashNetwork(key, kind, v) }
		seq := int64(0)
		send := func(host string, n *report.NetworkIdentity, egress string, at time.Time) store.IngestResult {
			t.Helper()
			seq++
			hb := &store.Heartbeat{Time: at, IntervalSeconds: 60, Network: n}
			res, err := s.Ingest(ctx, store.Batch{Host: report.Host{ID: host, Name: host + "-name"}, Items: []store.Item{{Seq: seq, Kind: store.KindHeartbeat, Heartbeat: hb}}, Egress: egress}, at, testPolicy{min: report.SeverityHigh})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		colo := func() []store.Alert {
			as, err := s.Alerts(ctx, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			var out []store.Alert
			for _, a := range as {
				if a.Kind == store.AlertCoLocation {
					out = append(out, a)
				}
			}
			return out
		}
		// Same SSID ("Home") at two homes: nobody is linked.
		send("a", &report.NetworkIdentity{SSID: h(report.NetSSID, "Home"), Gateway: h(report.NetGateway, "00:11:22:00:00:01")}, "", t0)
		send("b", &report.NetworkIdentity{SSID: h(report.NetSSID, "Home"), Gateway: h(report.NetGateway, "00:11:22:00:00:02")}, "", t0)
		if a := colo(); len(a) != 0 {
			t.Fatalf("SSID alone linked hosts: %+v", a)
		}
		// c sits behind a's gateway; then d sees c's MAC on its LAN.
		res := send("c", &report.NetworkIdentity{Gateway: h(report.NetGateway, "00:11:22:00:00:01"), LAN: []string{h(report.NetLAN, "a4:00:00:00:00:0c")}}, "", t0.Add(time.Hour))
		if len(res.Alerts) != 1 || res.Alerts[0].Kind != store.AlertCoLocation {
			t.Fatalf("no co-location alert: %+v", res.Alerts)
		}
		send("d", &report.NetworkIdentity{Gateway: h(report.NetGateway, "00:11:22:00:00:09"), LAN: []string{h(report.NetLAN, "a4:00:00:00:00:0d"), h(report.NetLAN, "a4:00:00:00:00:0c")}}, "", t0.Add(2*time.Hour))
		a := colo()
		if len(a) != 1 || len(a[0].Hosts) != 3 || a[0].Hosts[0] != "a" || a[0].Hosts[2] != "d" {
			t.Fatalf("alert not widened to a, c, d: %+v", a)
		}
		if want := "Co-location: 3 laptops on one network since 2026-11-02 10:00 UTC"; a[0].Title != want {
			t.Fatalf("title %q, want %q", a[0].Title, want)
		}
		// One shared public address: only once both used it for two days.
		eg := h(report.NetEgress, "203.0.113.50")
		send("e", nil, eg, t0)
		send("f", nil, eg, t0)
		send("e", nil, eg, t0.Add(49*time.Hour))
		if len(colo()) != 1 {
			t.Fatal("egress linked hosts before each used it for the span")
		}
		res = send("f", nil, eg, t0.Add(50*time.Hour))
		if len(res.Alerts) != 1 || res.Alerts[0].Hosts[0] != "e" || res.Alerts[0].Hosts[1] != "f" {
			t.Fatalf("egress for days: %+v", res.Alerts)
		}
	})
}
