package macnet

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The .bin fixtures are laid out by testdata/gen/gen.c from XNU's struct
// definitions (rebuild with testdata/gen/gen.sh); the values below repeat
// its initialisers.

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLayoutMatchesXNU(t *testing.T) {
	var got map[string]int
	if err := json.Unmarshal(fixture(t, "layout.json"), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"sizeof_rt_msghdr": RtMsghdrSize, "rtm_msglen": offMsglen, "rtm_version": offVersion, "rtm_type": offType,
		"rtm_index": offIndex, "rtm_flags": offFlags, "rtm_addrs": offAddrs, "rmx_expire": offExpire,
		"sdl_index": sdlIndex, "sdl_nlen": sdlNlen, "sdl_alen": sdlAlen, "sdl_data": sdlData,
		"RTM_VERSION": rtmVersion, "RTM_GET": rtmGet, "RTF_GATEWAY": RTFGateway, "RTF_LLINFO": RTFLLInfo,
		"RTF_BROADCAST": RTFBroadcast, "RTF_MULTICAST": RTFMulticast, "RTF_IFSCOPE": RTFIfScope,
		"AF_INET": afInet, "AF_LINK": afLink,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: XNU %d (present %v), macnet %d", k, g, ok, w)
		}
	}
}

func TestRouteDump(t *testing.T) {
	msgs, err := ParseMessages(fixture(t, "route_dump.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 4 {
		t.Fatalf("%d messages", len(msgs))
	}
	idx, gw, ok := DefaultGateway(msgs)
	if !ok || idx != 6 || gw != netip.MustParseAddr("192.168.50.1") {
		t.Fatalf("default gateway = %d %v %v", idx, gw, ok)
	}
	// Only the VPN's scoped default left: it is taken.
	if idx, gw, _ := DefaultGateway(msgs[1:]); idx != 20 || gw.String() != "10.8.0.1" {
		t.Fatalf("scoped default = %d %v", idx, gw)
	}
	// The subnet route: truncated netmask, AF_LINK gateway with the name.
	if m := msgs[2]; m.Addrs[RTAXNetmask].Zero() {
		t.Fatal("a /24 netmask read as zero")
	}
	if i, mac, ok := msgs[2].Addrs[4].Link(); !ok || i != 6 || mac.String() != "a4:b1:c1:00:00:07" {
		t.Fatalf("RTA_IFP = %d %v %v", i, mac, ok)
	}
	if _, _, ok := DefaultGateway(msgs[2:]); ok {
		t.Fatal("a default found without one")
	}
}

func TestARPDump(t *testing.T) {
	msgs, err := ParseMessages(fixture(t, "arp_dump.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ARP(msgs) {
		got = append(got, e.IP.String()+"="+e.MAC.String())
	}
	// Incomplete, broadcast and multicast entries are left out.
	if want := []string{"192.168.50.1=f4:92:bf:01:02:03", "192.168.50.23=dc:a6:32:11:22:33", "172.16.0.9=7c:10:c9:00:00:09"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ARP = %v, want %v", got, want)
	}
	gw, ns := GatewayAndNeighbours(ARP(msgs), 6, netip.MustParseAddr("192.168.50.1"))
	if gw != "f4:92:bf:01:02:03" || !reflect.DeepEqual(ns, []string{"dc:a6:32:11:22:33", "f4:92:bf:01:02:03"}) {
		t.Fatalf("gateway %q neighbours %v", gw, ns)
	}
	b := fixture(t, "arp_dump.bin")
	if ms, err := ParseMessages(b[:len(b)-10]); !errors.Is(err, ErrTruncated) || len(ms) != 5 {
		t.Fatalf("truncated: %d %v", len(ms), err)
	}
}

func TestSummary(t *testing.T) {
	s, err := ParseSummary(fixture(t, "ipconfig_getsummary_en0.txt"))
	if err != nil || s != (Summary{WiFi: true, SSID: "Farm 5G", BSSID: "f4:92:bf:aa:00:01"}) {
		t.Fatalf("summary = %+v %v", s, err)
	}
	s, err = ParseSummary(fixture(t, "ipconfig_getsummary_en0_redacted.txt"))
	if err != nil || s != (Summary{WiFi: true, SSIDRedacted: true, BSSIDRedacted: true}) {
		t.Fatalf("redacted = %+v %v", s, err)
	}
	s, err = ParseSummary(fixture(t, "ipconfig_getsummary_en7_ethernet.txt"))
	if err != nil || s != (Summary{}) {
		t.Fatalf("ethernet = %+v %v", s, err)
	}
}

func fixtureSources(t *testing.T, summary string) Sources {
	return Sources{
		RouteDump: func() ([]byte, error) { return fixture(t, "route_dump.bin"), nil },
		ARPDump:   func() ([]byte, error) { return fixture(t, "arp_dump.bin"), nil },
		Interface: func(i int) (string, string, error) {
			if i != 6 {
				t.Errorf("interface %d asked", i)
			}
			return "en0", "a4:b1:c1:00:00:07", nil
		},
		Summary: func(_ context.Context, name string) ([]byte, error) {
			if name != "en0" {
				t.Errorf("summary of %s", name)
			}
			return fixture(t, summary), nil
		},
	}
}

func TestRead(t *testing.T) {
	ctx := context.Background()
	got, err := Read(ctx, fixtureSources(t, "ipconfig_getsummary_en0.txt"))
	want := Result{Interface: "en0", GatewayIP: "192.168.50.1", GatewayMAC: "f4:92:bf:01:02:03", SelfMAC: "a4:b1:c1:00:00:07",
		Neighbours: []string{"dc:a6:32:11:22:33", "f4:92:bf:01:02:03"}, SSID: "Farm 5G", BSSID: "f4:92:bf:aa:00:01"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Read = %+v %v\nwant %+v", got, err, want)
	}
	got, err = Read(ctx, fixtureSources(t, "ipconfig_getsummary_en0_redacted.txt"))
	want.SSID, want.BSSID, want.SSIDRedacted, want.BSSIDRedacted = "", "", true, true
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("redacted Read = %+v %v", got, err)
	}
	s := fixtureSources(t, "ipconfig_getsummary_en0.txt")
	s.Summary = func(context.Context, string) ([]byte, error) { return nil, errors.New("exit status 1") }
	if got, err = Read(ctx, s); err == nil || got.GatewayMAC != "f4:92:bf:01:02:03" || got.SSID != "" {
		t.Fatalf("ipconfig failing = %+v %v", got, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"route_dump.bin", "arp_dump.bin", "ipconfig_getsummary_en0.txt"} {
		f.Add(fixture(f, n))
	}
	f.Add([]byte{92, 0, 5, 4, 0, 0, 0, 0, 2, 0, 0, 0, 0xff, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _ := ParseMessages(b)
		DefaultGateway(msgs)
		for _, e := range ARP(msgs) {
			if len(e.MAC) != 6 {
				t.Fatalf("MAC %v", e.MAC)
			}
		}
		for _, m := range msgs {
			for _, a := range m.Addrs {
				a.Link()
				a.IPv4()
			}
		}
		_, _ = ParseSummary(b)
	})
}
