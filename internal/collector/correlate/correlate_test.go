package correlate

import (
	"reflect"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
)

// The evidence below has the shapes the detectors emit (package report's
// vocabulary, after a JSON round trip); the real detectors' output goes
// through the collector in store's TestCorrelationOnRealAgentOutput.
func TestIndicators(t *testing.T) {
	kvm := report.Finding{Category: report.CategoryRemoteAccessHardware, Tool: "jetkvm", Evidence: map[string]any{
		report.EvSerial: " 3&1A2B3C4&0&1 ", report.EvVIDPID: "046d:c52b",
	}}
	edid := report.Finding{Category: report.CategoryRemoteAccessHardware, Tool: "ip-kvm", Evidence: map[string]any{
		report.EvEDIDSerialText: "", report.EvEDIDSerial32: "5a17c0de",
	}}
	vnc := report.Finding{Category: report.CategoryRemoteAccess, Tool: "vnc", Evidence: map[string]any{
		report.EvInboundConnections:  []any{"tcp/5900 from 198.51.100.23:40022", "tcp/5900 from 127.0.0.1:41000", "tcp/5900 from 192.168.1.77:5000"},
		report.EvOutboundConnections: []any{"tcp to 203.0.113.80:443"},
	}}
	mesh := report.Finding{Category: report.CategoryRemoteAccess, Tool: "meshcentral", Evidence: map[string]any{
		report.EvRelay: "Mesh.Farm.Example:443", report.EvRemoteID: "0xABCDEF01",
	}}
	driven := report.Finding{Category: report.CategoryRemoteAccess, Tool: "vnc", Evidence: map[string]any{
		report.EvClient: "10.0.0.5:5500", report.EvServer: "203.0.113.9:5900",
		report.EvControlled: "10.0.0.5:5500", report.EvControllerSide: "203.0.113.9:5900", report.EvHostRole: report.HostRoleControlled,
	}}
	viewer := report.Finding{Category: report.CategoryRemoteAccess, Tool: "vnc", Evidence: map[string]any{
		report.EvControlled: "203.0.113.9:5900", report.EvControllerSide: "10.0.0.5:5500", report.EvHostRole: report.HostRoleViewer,
	}}
	frp := report.Finding{Category: report.CategoryTunnel, Tool: "frpc", Evidence: map[string]any{report.EvConnectedTo: []any{"[2001:db8::7]:7000"}}}
	ngrok := report.Finding{Category: report.CategoryTunnel, Tool: "ngrok", Evidence: map[string]any{report.EvConnectedTo: []any{"3.125.1.2:443"}}}
	socks := report.Finding{Category: report.CategoryProxy, Tool: "socks", Evidence: map[string]any{report.EvClient: "10.1.1.1:4000", report.EvServer: "198.51.100.4:1080"}}
	vpn := report.Finding{Category: report.CategoryVPN, Tool: "wireguard", Evidence: map[string]any{report.EvClient: "10.1.1.1:4000", report.EvServer: "198.51.100.5:51820"}}
	pikvm := report.Finding{Category: report.CategoryRemoteAccessHardware, Tool: "pikvm", Evidence: map[string]any{
		report.EvSerial: "CAFEBABE", report.EvSerialDefault: true,
	}}
	for _, c := range []struct {
		name string
		f    report.Finding
		want []Indicator
	}{
		{"kvm", kvm, []Indicator{{KindUSBSerial, "3&1a2b3c4&0&1"}}},
		{"edid", edid, []Indicator{{KindEDIDSerial, "5a17c0de"}}},
		{"vnc", vnc, []Indicator{{KindPeer, "198.51.100.23"}}},
		{"mesh", mesh, []Indicator{{KindRelay, "mesh.farm.example"}, {KindRemoteID, "meshcentral:0xabcdef01"}}},
		{"driven", driven, []Indicator{{KindPeer, "203.0.113.9"}}},
		{"viewer", viewer, []Indicator{}},
		{"frp", frp, []Indicator{{KindPeer, "2001:db8::7"}}},
		{"ngrok", ngrok, []Indicator{}},
		{"socks", socks, []Indicator{{KindRelay, "198.51.100.4"}}},
		{"vpn", vpn, []Indicator{}},
		{"pikvm default serial", pikvm, []Indicator{}},
	} {
		if got := Indicators(c.f); !reflect.DeepEqual(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%s: Indicators = %v, want %v", c.name, got, c.want)
		}
	}
	kvm.Allowed = true
	if Indicators(kvm) != nil {
		t.Fatal("allowlisted finding yields indicators")
	}
}

func TestDescribe(t *testing.T) {
	if got := Describe(KindRemoteID, "42", "anydesk"); got != "anydesk id 42" {
		t.Fatal(got)
	}
	if got := Describe(KindUSBSerial, "x", ""); got != `USB serial "x"` {
		t.Fatal(got)
	}
}

// TestVendorCloudLinksNobody: the server of a flow to a vendor's cloud (by
// its name in the catalog's vendor domains, or a flow this host opened to a
// vendor-brokered product) becomes neither relay nor peer; the operator's
// own servers and direct peers still link.
func TestVendorCloudLinksNobody(t *testing.T) {
	flow := func(tool string, cat report.Category, ev map[string]any) report.Finding {
		return report.Finding{Rule: "network.behavior.far-controller", Category: cat, Tool: tool, Evidence: ev}
	}
	for _, c := range []struct {
		name string
		f    report.Finding
		want []Indicator
	}{
		{"teamviewer router, outbound", flow("teamviewer", report.CategoryRelay, map[string]any{
			report.EvClient: "10.0.2.15:35732", report.EvServer: "162.250.2.170:5938", report.EvDirection: report.DirectionOutbound}), nil},
		{"anydesk relay driving this host", flow("anydesk", report.CategoryRelay, map[string]any{
			report.EvClient: "10.0.2.15:50000", report.EvServer: "195.181.174.5:443", report.EvDirection: report.DirectionOutbound,
			report.EvControlled: "10.0.2.15:50000", report.EvControllerSide: "195.181.174.5:443", report.EvHostRole: report.HostRoleControlled}), nil},
		{"stepping stone to a vendor name (DNS)", flow("stepping-stone", report.CategoryRelay, map[string]any{
			report.EvClient: "10.0.2.15:4000", report.EvServer: "37.252.227.80:443", report.EvServerName: "Router15.TeamViewer.com."}), nil},
		{"proxy to a vendor name (SNI, wildcard)", flow("unknown", report.CategoryProxy, map[string]any{
			report.EvClient: "10.0.2.15:4000", report.EvServer: "185.229.191.39:443", report.EvTLSSNI: "relay-9b1c.net.anydesk.com"}), nil},
		// Controls: these still link.
		{"anydesk peer connecting in directly", flow("anydesk", report.CategoryRelay, map[string]any{
			report.EvClient: "198.51.100.23:40022", report.EvServer: "10.0.2.15:7070", report.EvDirection: "inbound",
			report.EvControlled: "10.0.2.15:7070", report.EvControllerSide: "198.51.100.23:40022", report.EvHostRole: report.HostRoleControlled}),
			[]Indicator{{KindPeer, "198.51.100.23"}}},
		{"self-hosted rustdesk relay", flow("rustdesk", report.CategoryRelay, map[string]any{
			report.EvClient: "10.0.2.15:4000", report.EvServer: "203.0.113.7:21117", report.EvDirection: report.DirectionOutbound}),
			[]Indicator{{KindRelay, "203.0.113.7"}}},
		{"a name that only ends like a vendor's", flow("unknown", report.CategoryProxy, map[string]any{
			report.EvClient: "10.0.2.15:4000", report.EvServer: "203.0.113.8:443", report.EvTLSSNI: "notanydesk.com"}),
			[]Indicator{{KindRelay, "203.0.113.8"}}},
	} {
		if got := Indicators(c.f); !(len(got) == 0 && len(c.want) == 0) && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Indicators = %v, want %v", c.name, got, c.want)
		}
	}
}
