package deliver

import (
	"context"
	"reflect"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// TestWithNetworkRedacted: what the OS withheld reaches the heartbeat in
// clear, and nothing is hashed for it.
func TestWithNetworkRedacted(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	c := &Collector{fleetKey: key, Network: func(context.Context) (source.Network, error) {
		return source.Network{GatewayMAC: "f4:92:bf:01:02:03", SelfMAC: "a4:b1:c1:00:00:07",
			Redacted: []string{source.RedactedBSSID, source.RedactedSSID}}, nil
	}}
	items := []report.Item{{Kind: report.KindHeartbeat, Heartbeat: &report.Heartbeat{}}}
	out := c.withNetwork(context.Background(), items)
	n := out[0].Heartbeat.Network
	if n == nil {
		t.Fatal("no network identity")
	}
	want := &report.NetworkIdentity{
		Gateway:  report.HashNetwork(key, report.NetGateway, "f4:92:bf:01:02:03"),
		LAN:      []string{report.HashNetwork(key, report.NetLAN, "a4:b1:c1:00:00:07")},
		Redacted: []string{report.NetBSSID, report.NetSSID},
	}
	if !reflect.DeepEqual(n, want) {
		t.Fatalf("network = %+v\nwant %+v", n, want)
	}
	if items[0].Heartbeat.Network != nil {
		t.Fatal("the caller's heartbeat was modified")
	}
}
