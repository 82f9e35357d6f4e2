package source

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestProcNetworkFixture(t *testing.T) {
	root := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The ARP table is the repository's recorded one (testdata/lan/linux-kvm).
	arp, err := os.ReadFile(filepath.Join("..", "..", "testdata", "lan", "linux-kvm", "proc", "net", "arp"))
	if err != nil {
		t.Fatal(err)
	}
	write(FileProcARP, string(arp)+"10.9.9.9         0x1         0x2         02:42:ac:11:00:02     *        docker0\n")
	write(FileProcRoute, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"+
		"docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"+
		"eth9\t00000000\t0132A8C0\t0003\t0\t0\t700\t00000000\t0\t0\t0\n"+
		"wlan0\t00000000\t0132A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n")
	write("sys/class/net/wlan0/address", "A4:B1:C1:00:00:07\n")
	write(HostFile, `{"hostname":"x","host_id":"x","os":"linux"}`)
	src, err := OpenSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ReadNetwork(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	want := Network{Interface: "wlan0", GatewayIP: "192.168.50.1", GatewayMAC: "f4:92:bf:01:02:03", SelfMAC: "a4:b1:c1:00:00:07",
		Neighbours: []string{"94:83:c4:aa:bb:cc", "dc:a6:32:11:22:33", "f4:92:bf:01:02:03"}}
	if !reflect.DeepEqual(n, want) {
		t.Fatalf("ReadNetwork = %+v\nwant %+v", n, want)
	}
	// network.json wins when recorded (how a Windows or macOS host's
	// network is given offline).
	write(NetworkFile, `{"gateway_mac":"00-11-22-33-44-55","bssid":"F4:92:BF:AA:00:01","ssid":" Farm 5G ","neighbours":["ff:ff:ff:ff:ff:ff","00:00:5e:00:01:07","00:11:22:33:44:66"]}`)
	n, err = ReadNetwork(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	want = Network{GatewayMAC: "00:11:22:33:44:55", BSSID: "f4:92:bf:aa:00:01", SSID: "Farm 5G", Neighbours: []string{"00:11:22:33:44:66"}}
	if !reflect.DeepEqual(n, want) {
		t.Fatalf("network.json = %+v\nwant %+v", n, want)
	}
	// What the OS withheld is kept, unless the value is there after all.
	write(NetworkFile, `{"gateway_mac":"00:11:22:33:44:55","bssid":"f4:92:bf:aa:00:01","redacted":["bssid","ssid","ssid","gateway"]}`)
	if n, err = ReadNetwork(context.Background(), src); err != nil || !reflect.DeepEqual(n.Redacted, []string{RedactedSSID}) || n.Empty() {
		t.Fatalf("redacted = %+v, %v", n, err)
	}
	write(NetworkFile, `{"redacted":["ssid"]}`)
	if n, err = ReadNetwork(context.Background(), src); err != nil || n.Empty() {
		t.Fatalf("only redacted = %+v (empty %v), %v", n, n.Empty(), err)
	}
	write(NetworkFile, `{"gateway_mac": 7}`)
	if _, err := ReadNetwork(context.Background(), src); err == nil {
		t.Fatal("malformed network.json accepted")
	}
}

func FuzzParseProcNet(f *testing.F) {
	f.Add([]byte("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"))
	f.Add([]byte("IP address       HW type     Flags       HW address            Mask     Device\n192.168.50.1     0x1         0x2         f4:92:bf:01:02:03     *        wlan0\n"))
	f.Add([]byte("x\neth0 00000000 zz 0 0 0 -1 00000000\n1.2.3.4 0x1 0xzz aa *"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseProcRoute(b)
		for _, e := range ParseProcARP(b) {
			if NormMAC(e.MAC) != e.MAC {
				t.Fatalf("unnormalised MAC %q", e.MAC)
			}
		}
	})
}
