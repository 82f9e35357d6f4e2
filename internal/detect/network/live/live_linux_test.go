//go:build linux

package live

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/farmwatch/farmwatch/internal/detect/network"
	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/filter"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

// TestLoopback captures real packets on lo (needs CAP_NET_RAW; skipped
// otherwise).
func TestLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "AF_PACKET capture needs root / CAP_NET_RAW")
	}
	c, err := New(Config{Interface: "lo", PollTimeout: 20 * time.Millisecond, RingBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	time.Sleep(300 * time.Millisecond)
	conn, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		conn.Write([]byte("farmwatch live capture test"))
	}
	conn.Close()
	time.Sleep(300 * time.Millisecond)
	c.Stop()
	if err := <-done; err != nil {
		testenv.Missing(t, "AF_PACKET not available here: %v", err)
	}
	if st := c.Stats(); st.Decoded < 20 {
		t.Errorf("captured %+v, want ≥ 20 decoded packets", st)
	}
}

// TestTunDevice captures on a real tun device (what a VPN's default route
// goes through): frames arrive as bare IP packets and must decode as such.
func TestTunDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "tun devices and AF_PACKET capture need root")
	}
	const name = "fwcaptun0"
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR, 0)
	if err != nil {
		testenv.Missing(t, "no /dev/net/tun: %v", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		t.Fatal(err)
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		t.Fatalf("TUNSETIFF: %v", err)
	}
	for _, args := range [][]string{{"addr", "add", "10.200.73.1/24", "dev", name}, {"link", "set", name, "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	if lt, err := linkTypeOf(name); err != nil || lt != decode.LinkRaw {
		t.Fatalf("link type of a tun device: %d %v", lt, err)
	}
	c, err := New(Config{Interface: name, PollTimeout: 20 * time.Millisecond, RingBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	time.Sleep(300 * time.Millisecond)
	conn, err := net.Dial("udp", "10.200.73.2:9")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		conn.Write([]byte("farmwatch tun capture test"))
	}
	conn.Close()
	time.Sleep(300 * time.Millisecond)
	c.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Decoded < 20 || st.Undecodable != 0 {
		t.Errorf("captured %+v, want ≥ 20 decoded and no undecodable packets", st)
	}
}

func TestLinkForARPHRD(t *testing.T) {
	for in, want := range map[string]int{"1": decode.LinkEthernet, "772": decode.LinkEthernet, "65534": decode.LinkRaw} {
		if got, err := linkForARPHRD(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	if _, err := linkForARPHRD("801"); err == nil { // 802.11 monitor: not supported
		t.Error("radiotap accepted")
	}
}

// TestKernelFilterOnLoopback sets "udp port 9" and sends to ports 9 and 10
// on lo: the port-10 packets are dropped by the kernel program, so the
// user-space filter never sees (and never has to reject) them.
func TestKernelFilterOnLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "AF_PACKET capture needs root / CAP_NET_RAW")
	}
	flt, err := filter.Compile("udp port 9")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Interface: "lo", PollTimeout: 20 * time.Millisecond, RingBytes: 2 << 20, Engine: network.Config{Filter: flt}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	time.Sleep(300 * time.Millisecond)
	for _, port := range []string{"9", "10"} {
		conn, err := net.Dial("udp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			conn.Write([]byte("farmwatch kernel filter test"))
		}
		conn.Close()
	}
	time.Sleep(300 * time.Millisecond)
	c.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if on, err := c.KernelFilter(); !on {
		t.Fatalf("kernel filter not attached: %v", err)
	}
	st := c.Stats()
	if st.Decoded < 20 || st.Filtered != 0 {
		t.Errorf("captured %+v: want ≥ 20 port-9 packets and nothing left for the user-space filter to reject", st)
	}
}

// TestKernelAcceptsPrograms attaches the compiled program of each kind of
// expression to a real AF_PACKET socket: the kernel's checker must accept
// them (it refuses, for example, reads of scratch words not yet written).
func TestKernelAcceptsPrograms(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "AF_PACKET capture needs root / CAP_NET_RAW")
	}
	src, err := openAFPacket(Config{Interface: "lo", RingBytes: 2 << 20, PollTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, e := range []string{"tcp", "ip6 and udp", "not port 443", "src net 10.0.0.0/8 and dst portrange 1000-2000",
		"host 2001:db8::1 or net fe80::/10", "not (tcp and (port 80 or port 443)) and not udp port 53", "proto 47 or esp"} {
		flt, err := filter.Compile(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, lt := range []int{decode.LinkEthernet, decode.LinkRaw} {
			prog, err := flt.Kernel(lt)
			if err != nil {
				t.Fatalf("%q: %v", e, err)
			}
			if err := src.(kernelFilterer).SetKernelFilter(prog); err != nil {
				t.Errorf("%q (link %d): kernel refuses the program: %v", e, lt, err)
			}
		}
	}
}
