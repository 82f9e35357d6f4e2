package neighbour

import (
	"net/netip"
	"slices"
	"testing"
)

func TestGatewayAndLAN(t *testing.T) {
	gw := netip.MustParseAddr("192.0.2.1")
	es := []Entry{
		{netip.MustParseAddr("192.0.2.9"), "02:00:00:00:00:09"},
		{gw, "02:00:00:00:00:01"},
		{netip.MustParseAddr("2001:db8::1"), "02:00:00:00:00:01"}, // the gateway again over IPv6
	}
	mac, macs := GatewayAndLAN(es, gw)
	if mac != "02:00:00:00:00:01" || !slices.Equal(macs, []string{"02:00:00:00:00:01", "02:00:00:00:00:09"}) {
		t.Fatalf("gateway %q, LAN %v", mac, macs)
	}
	if mac, macs := GatewayAndLAN(nil, gw); mac != "" || macs != nil {
		t.Fatalf("empty table: %q %v", mac, macs)
	}
}
