package winnet

import (
	"bufio"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The .bin fixtures are the SDK structures laid out by x86_64-w64-mingw32-gcc
// from testdata/fixtures.c (regenerate with testdata/fixtures.sh); the
// expected values below repeat that file's initializers.

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLayoutMatchesSDK compares the offsets used by the decoders with the
// values mingw-w64 computed (testdata/layout_windows_amd64.txt, written by
// testdata/layout.sh, whose _Static_asserts repeat the same constants).
func TestLayoutMatchesSDK(t *testing.T) {
	want := map[string]int{
		"MIB_IPFORWARD_TABLE2_Table": tableRows, "MIB_IPFORWARD_ROW2_size": ForwardRow2Size,
		"MIB_IPFORWARD_ROW2_InterfaceIndex": fwdIfIndex, "MIB_IPFORWARD_ROW2_DestinationPrefix": fwdDestPrefix,
		"MIB_IPFORWARD_ROW2_PrefixLength": fwdPrefixLength, "MIB_IPFORWARD_ROW2_NextHop": fwdNextHop,
		"MIB_IPFORWARD_ROW2_Metric": fwdMetric, "MIB_IPFORWARD_ROW2_Loopback": fwdLoopback,
		"MIB_IPNET_TABLE2_Table": tableRows, "MIB_IPNET_ROW2_size": IPNetRow2Size,
		"MIB_IPNET_ROW2_InterfaceIndex": netIfIndex, "MIB_IPNET_ROW2_PhysicalAddress": netPhysAddr,
		"MIB_IPNET_ROW2_PhysicalAddressLength": netPhysAddrLen, "MIB_IPNET_ROW2_State": netState,
		"SOCKADDR_INET_size": sockaddrInetSize, "AF_INET6_value": afInet6,
		"NlnsIncomplete_value": NeighborIncomplete, "NlnsReachable_value": NeighborReachable, "NlnsPermanent_value": NeighborPermanent,
		"WLAN_INTERFACE_INFO_LIST_InterfaceInfo": wlanListItems, "WLAN_INTERFACE_INFO_size": WlanInfoSize,
		"WLAN_INTERFACE_INFO_isState": wlanInfoState, "WLAN_CONNECTION_ATTRIBUTES_size": WlanConnSize,
		"WLAN_CONNECTION_ATTRIBUTES_uSSIDLength": wlanConnSSIDLen, "WLAN_CONNECTION_ATTRIBUTES_ucSSID": wlanConnSSID,
		"WLAN_CONNECTION_ATTRIBUTES_dot11Bssid": wlanConnBSSID, "wlan_interface_state_connected_value": WlanStateConnected,
		"wlan_intf_opcode_current_connection_value": OpcodeCurrentConnection,
	}
	f, err := os.Open(filepath.Join("testdata", "layout_windows_amd64.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("layout line %q", sc.Text())
		}
		got[k] = n
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: SDK %d (present %v), winnet %d", k, g, ok, w)
		}
	}
}

func TestForwardTableAndDefaultRoute(t *testing.T) {
	rs, err := DecodeForwardTable2(fixture(t, "forward_table2.bin"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{IfIndex: 12, Prefix: netip.MustParsePrefix("0.0.0.0/0"), NextHop: netip.MustParseAddr("10.8.0.1"), Metric: 256},
		{IfIndex: 7, Prefix: netip.MustParsePrefix("192.168.50.0/24"), NextHop: netip.MustParseAddr("0.0.0.0"), Metric: 256},
		{IfIndex: 7, Prefix: netip.MustParsePrefix("0.0.0.0/0"), NextHop: netip.MustParseAddr("192.168.50.1"), Metric: 0},
		{IfIndex: 1, Prefix: netip.MustParsePrefix("127.0.0.0/8"), NextHop: netip.MustParseAddr("0.0.0.0"), Metric: 256, Loopback: true},
	}
	if !reflect.DeepEqual(rs, want) {
		t.Fatalf("routes = %+v\nwant %+v", rs, want)
	}
	r, ok := DefaultRoute(rs, map[uint32]uint32{7: 35, 12: 5})
	if !ok || r.IfIndex != 7 || r.NextHop.String() != "192.168.50.1" {
		t.Fatalf("default route = %+v %v", r, ok)
	}
	// The interface metric counts: a Wi-Fi at 300 loses to the VPN's 256+5.
	if r, _ := DefaultRoute(rs, map[uint32]uint32{7: 300, 12: 5}); r.IfIndex != 12 {
		t.Fatalf("with interface metrics: %+v", r)
	}
	if _, ok := DefaultRoute(rs[1:2], nil); ok {
		t.Fatal("a subnet route taken as default")
	}
}

func TestIPNetTable(t *testing.T) {
	ns, err := DecodeIPNetTable2(fixture(t, "ipnet_table2.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 6 {
		t.Fatalf("%d rows", len(ns))
	}
	var usable []string
	for _, n := range ns {
		if n.Usable() {
			usable = append(usable, n.Addr.String()+"="+n.MAC.String())
		}
	}
	// Incomplete (no MAC), multicast and broadcast rows are left out.
	if want := []string{"192.168.50.1=f4:92:bf:01:02:03", "192.168.50.23=dc:a6:32:11:22:33", "10.8.0.5=02:00:00:00:00:05"}; !reflect.DeepEqual(usable, want) {
		t.Fatalf("usable = %v, want %v", usable, want)
	}
	gw, macs := GatewayAndNeighbours(ns, 7, netip.MustParseAddr("192.168.50.1"))
	if gw != "f4:92:bf:01:02:03" || !reflect.DeepEqual(macs, []string{"dc:a6:32:11:22:33", "f4:92:bf:01:02:03"}) {
		t.Fatalf("gateway %q neighbours %v", gw, macs)
	}
	if ns[2].State != NeighborIncomplete || len(ns[2].MAC) != 0 {
		t.Fatalf("incomplete row = %+v", ns[2])
	}
}

func TestWlan(t *testing.T) {
	ifs, err := DecodeWlanInterfaceList(fixture(t, "wlan_interface_list.bin"))
	if err != nil {
		t.Fatal(err)
	}
	guid := [16]byte{0x1b, 0x3c, 0x2a, 0x5f, 0x4e, 0x8d, 0x6f, 0x4a, 0x9b, 0x1c, 0x2d, 0x3e, 0x4f, 0x50, 0x61, 0x72}
	if want := []WlanInterface{{GUID: guid, Description: "Intel(R) Wi-Fi 6 AX201 160MHz", State: WlanStateConnected}}; !reflect.DeepEqual(ifs, want) {
		t.Fatalf("interfaces = %+v", ifs)
	}
	conn := fixture(t, "wlan_connection.bin")
	c, ok, err := DecodeWlanConnection(conn)
	if err != nil || !ok || c != (Connection{SSID: "Farm 5G", BSSID: "f4:92:bf:aa:00:01"}) {
		t.Fatalf("connection = %+v %v %v", c, ok, err)
	}
	conn[0] = 4 // wlan_interface_state_disconnected
	if _, ok, err := DecodeWlanConnection(conn); ok || err != nil {
		t.Fatalf("disconnected: %v %v", ok, err)
	}
}

func TestNetsh(t *testing.T) {
	got, err := ParseNetshInterfaces(fixture(t, "netsh_wlan_show_interfaces.txt"))
	if err != nil || !reflect.DeepEqual(got, []NetshInterface{{Name: "Wi-Fi", State: "connected", SSID: "Farm 5G", BSSID: "f4:92:bf:aa:00:01"}}) {
		t.Fatalf("win11 = %+v %v", got, err)
	}
	got, err = ParseNetshInterfaces(fixture(t, "netsh_wlan_show_interfaces_win10.txt"))
	want := []NetshInterface{{Name: "Wi-Fi", State: "connected", SSID: "Office Guest", BSSID: "00:3a:7d:10:20:30"}, {Name: "Wi-Fi 2", State: "disconnected"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("win10 = %+v %v", got, err)
	}
	if _, err := ParseNetshInterfaces(fixture(t, "netsh_wlan_location_denied.txt")); !errors.Is(err, ErrLocationPermission) {
		t.Fatalf("location denied: %v", err)
	}
}

func TestTruncated(t *testing.T) {
	b := fixture(t, "ipnet_table2.bin")
	if _, err := DecodeIPNetTable2(b[:100]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("ipnet: %v", err)
	}
	if _, err := DecodeForwardTable2(fixture(t, "forward_table2.bin")[:200]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("forward: %v", err)
	}
	if _, _, err := DecodeWlanConnection(make([]byte, 100)); !errors.Is(err, ErrTruncated) {
		t.Fatalf("wlan: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, n := range []string{"forward_table2.bin", "ipnet_table2.bin", "wlan_interface_list.bin", "wlan_connection.bin", "netsh_wlan_show_interfaces.txt"} {
		f.Add(fixture(f, n))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, _ := DecodeForwardTable2(b)
		DefaultRoute(rs, nil)
		ns, _ := DecodeIPNetTable2(b)
		gw, _ := GatewayAndNeighbours(ns, 7, netip.MustParseAddr("192.168.50.1"))
		if gw != "" && len(gw) != 17 {
			t.Fatalf("gateway MAC %q", gw)
		}
		_, _ = DecodeWlanInterfaceList(b)
		_, _, _ = DecodeWlanConnection(b)
		_, _ = ParseNetshInterfaces(b)
	})
}

// fixtureSources reads the recorded buffers.
func fixtureSources(t *testing.T, netshFile string) Sources {
	return Sources{
		ForwardTable:     func() ([]byte, error) { return fixture(t, "forward_table2.bin"), nil },
		InterfaceMetrics: func() (map[uint32]uint32, error) { return map[uint32]uint32{7: 35, 12: 5}, nil },
		NetTable:         func() ([]byte, error) { return fixture(t, "ipnet_table2.bin"), nil },
		Interface: func(i uint32) (string, string, error) {
			if i != 7 {
				t.Errorf("interface %d asked", i)
			}
			return "Wi-Fi", "a4:b1:c1:00:00:07", nil
		},
		Wlan: func(context.Context) ([]Connection, error) {
			c, ok, err := DecodeWlanConnection(fixture(t, "wlan_connection.bin"))
			if !ok {
				return nil, err
			}
			return []Connection{c}, err
		},
		Netsh: func(context.Context) ([]byte, error) { return fixture(t, netshFile), nil },
	}
}

func TestRead(t *testing.T) {
	ctx := context.Background()
	s := fixtureSources(t, "netsh_wlan_show_interfaces_win10.txt")
	got, err := Read(ctx, s)
	want := Result{Interface: "Wi-Fi", GatewayIP: "192.168.50.1", GatewayMAC: "f4:92:bf:01:02:03", SelfMAC: "a4:b1:c1:00:00:07",
		Neighbours: []string{"dc:a6:32:11:22:33", "f4:92:bf:01:02:03"}, SSID: "Farm 5G", BSSID: "f4:92:bf:aa:00:01", WiFiSource: "wlanapi"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Read = %+v, %v\nwant %+v", got, err, want)
	}
	// wlanapi unusable (no WLAN service): netsh answers, and that is no error.
	s.Wlan = func(context.Context) ([]Connection, error) {
		return nil, errors.New("WlanOpenHandle: service not active")
	}
	got, err = Read(ctx, s)
	if err != nil || got.SSID != "Office Guest" || got.BSSID != "00:3a:7d:10:20:30" || got.WiFiSource != "netsh" {
		t.Fatalf("netsh fallback = %+v, %v", got, err)
	}
	// Location permission withheld: redacted, not an error.
	s.Wlan = func(context.Context) ([]Connection, error) { return nil, ErrWlanAccessDenied }
	if got, err = Read(ctx, s); err != nil || !got.WiFiRedacted || got.SSID != "" {
		t.Fatalf("wlanapi denied = %+v, %v", got, err)
	}
	s = fixtureSources(t, "netsh_wlan_location_denied.txt")
	s.Wlan = nil
	if got, err = Read(ctx, s); err != nil || !got.WiFiRedacted || got.GatewayMAC != "f4:92:bf:01:02:03" {
		t.Fatalf("netsh denied = %+v, %v", got, err)
	}
	// A broken table is an error with what else was read.
	s.NetTable = func() ([]byte, error) { return []byte{9, 0, 0, 0}, nil }
	if got, err = Read(ctx, s); !errors.Is(err, ErrTruncated) || got.GatewayIP != "192.168.50.1" || got.GatewayMAC != "" {
		t.Fatalf("truncated neighbour table = %+v, %v", got, err)
	}
}
