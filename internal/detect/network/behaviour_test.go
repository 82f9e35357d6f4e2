package network

import (
	"net/netip"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/internal/pcaptest"
	"github.com/farmwatch/farmwatch/internal/report"
)

func bytesN(n int, b byte) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// interactiveSession: the client types (small, every 150 ms); each input is
// answered by a burst of screen updates after respDelay.
func interactiveSession(c *pcaptest.Capture, client, server string, rtt, respDelay time.Duration, n int) {
	k := c.TCP(client, server, rtt)
	for i := 0; i < n; i++ {
		k.Send(true, bytesN(24, 'k'))
		c.Advance(respDelay)
		for j := 0; j < 3; j++ {
			k.Send(false, bytesN(1200, 's'))
		}
		k.Ack(true)
		c.Advance(150*time.Millisecond - respDelay%(150*time.Millisecond))
	}
	k.Close()
}

func TestInteractiveUnknownTool(t *testing.T) {
	c := pcaptest.New()
	interactiveSession(c, "203.0.113.5:40000", "192.168.1.10:7000", 20*time.Millisecond, 10*time.Millisecond, 200)
	fs := run(t, c)
	f := find(fs, "network.behavior.interactive", "unknown")
	if f == nil {
		t.Fatalf("no interactive finding; got %s", summarize(fs))
	}
	if f.Severity != report.SeverityMedium || f.Evidence["direction"] != "inbound" {
		t.Errorf("severity %s direction %v", f.Severity, f.Evidence["direction"])
	}
	if find(fs, "network.behavior.far-controller", "unknown") != nil {
		t.Errorf("near controller reported as far: %s", summarize(fs))
	}
}

func TestFarController(t *testing.T) {
	c := pcaptest.New()
	interactiveSession(c, "203.0.113.5:40000", "192.168.1.10:7000", 20*time.Millisecond, 260*time.Millisecond, 120)
	fs := run(t, c)
	f := find(fs, "network.behavior.far-controller", "unknown")
	if f == nil {
		t.Fatalf("no far-controller finding; got %s", summarize(fs))
	}
	extra := f.Evidence["controller_extra_delay_ms"].(float64)
	if extra < 200 || extra > 260 {
		t.Errorf("controller_extra_delay_ms = %v, want ≈ 240", extra)
	}
}

func TestBulkDownloadIsNotInteractive(t *testing.T) {
	c := pcaptest.New()
	k := c.TCP("192.168.1.10:40000", "203.0.113.5:443", 20*time.Millisecond)
	for i := 0; i < 2000; i++ {
		k.Send(false, bytesN(1400, 'd'))
		if i%2 == 0 {
			k.Ack(true)
		}
		c.Advance(2 * time.Millisecond)
	}
	c.Advance(30 * time.Second)
	k.Send(true, bytesN(40, 'x'))
	k.Close()
	if fs := run(t, c); len(fs) != 0 {
		t.Errorf("bulk download gave %s", summarize(fs))
	}
}

// TestReverseSSHBehaviour: normal SSH roles, but the server side sends the
// human-paced keystrokes and the bare ACKs: someone at the far end types
// into a session this host opened.
func TestReverseSSHBehaviour(t *testing.T) {
	c := pcaptest.New()
	k := c.TCP("192.168.1.10:40000", "198.51.100.7:22", 30*time.Millisecond)
	k.Send(true, []byte("SSH-2.0-OpenSSH_9.6\r\n"))
	k.Send(false, []byte("SSH-2.0-OpenSSH_9.6\r\n"))
	for i := 0; i < 60; i++ {
		c.Advance(180 * time.Millisecond)
		k.Send(false, bytesN(36, 'k')) // keystroke from the far end
		c.Advance(2 * time.Millisecond)
		k.Send(true, bytesN(36, 'e')) // echo / output from this host
		c.Advance(30 * time.Millisecond)
		k.Ack(false)
	}
	k.Close()
	fs := run(t, c)
	f := find(fs, "network.ssh.reverse", "ssh")
	if f == nil || f.Severity != report.SeverityHigh || f.Category != report.CategoryTunnel {
		t.Fatalf("no high reverse-ssh tunnel finding; got %s", summarize(fs))
	}
	// The mirror image (this host types) is an ordinary outbound session.
	c = pcaptest.New()
	k = c.TCP("192.168.1.10:40000", "198.51.100.7:22", 30*time.Millisecond)
	k.Send(true, []byte("SSH-2.0-OpenSSH_9.6\r\n"))
	k.Send(false, []byte("SSH-2.0-OpenSSH_9.6\r\n"))
	for i := 0; i < 60; i++ {
		c.Advance(180 * time.Millisecond)
		k.Send(true, bytesN(36, 'k'))
		c.Advance(2 * time.Millisecond)
		k.Send(false, bytesN(36, 'e'))
		c.Advance(30 * time.Millisecond)
		k.Ack(true)
	}
	k.Close()
	fs = run(t, c)
	if find(fs, "network.ssh.reverse", "ssh") != nil || find(fs, "network.ssh.session", "ssh") == nil {
		t.Errorf("forward interactive SSH misread: %s", summarize(fs))
	}
}

// TestSteppingStone: 192.168.1.10 receives keystroke bursts from outside
// and forwards each within a few ms to another host: the ON/OFF
// transitions coincide (Zhang & Paxson).
func TestSteppingStone(t *testing.T) {
	c := pcaptest.New()
	in := c.TCP("203.0.113.5:40000", "192.168.1.10:2222", 40*time.Millisecond)
	out := c.TCP("192.168.1.10:50000", "198.51.100.9:22", 10*time.Millisecond)
	for i := 0; i < 12; i++ {
		c.Advance(time.Second + time.Duration(i*37)*time.Millisecond)
		in.Send(true, bytesN(40, 'k'))
		c.Advance(3 * time.Millisecond)
		out.Send(true, bytesN(40, 'k'))
		c.Advance(20 * time.Millisecond)
		out.Send(false, bytesN(80, 'o'))
		c.Advance(3 * time.Millisecond)
		in.Send(false, bytesN(80, 'o'))
	}
	in.Close()
	out.Close()
	fs := run(t, c)
	f := find(fs, "network.behavior.relay", "stepping-stone")
	if f == nil || f.Severity != report.SeverityHigh {
		t.Fatalf("no stepping-stone finding; got %s", summarize(fs))
	}
	// Two unrelated sessions with independent timing are not a relay.
	c = pcaptest.New()
	in = c.TCP("203.0.113.5:40000", "192.168.1.10:2222", 40*time.Millisecond)
	out = c.TCP("192.168.1.10:50000", "198.51.100.9:22", 10*time.Millisecond)
	for i := 0; i < 12; i++ {
		c.Advance(time.Second)
		in.Send(true, bytesN(40, 'k'))
		c.Advance(400 * time.Millisecond)
		out.Send(true, bytesN(40, 'k'))
	}
	in.Close()
	out.Close()
	if fs := run(t, c); find(fs, "network.behavior.relay", "stepping-stone") != nil {
		t.Errorf("independent flows reported as relay")
	}
}

func dnsAnswer(name string, ip netip.Addr) []byte {
	q := dnsQuery(name, 1)
	q[2], q[3] = 0x81, 0x80 // response
	q[7] = 1                // ancount
	a := ip.As4()
	return cat(q, []byte{0xc0, 12}, u16(1), u16(1), []byte{0, 0, 0, 60}, u16(4), a[:])
}

// TestDNSMemory: a DNS answer names the server of a later flow that
// carries no name itself (AnyDesk relays are reached without SNI).
func TestDNSMemory(t *testing.T) {
	c := pcaptest.New()
	ip := netip.MustParseAddr("195.181.174.9")
	c.UDPConn("192.168.1.10:5353", "192.168.1.1:53").Send(false, dnsAnswer("relay-1a2b3c4d.net.anydesk.com", ip))
	tlsSession(c, "192.168.1.10:50000", "195.181.174.9:443", clientHello(""), nil)
	fs := run(t, c)
	f := find(fs, "network.anydesk.session", "anydesk")
	if f == nil {
		t.Fatalf("no anydesk session; got %s", summarize(fs))
	}
	if f.Evidence["server_name"] != "relay-1a2b3c4d.net.anydesk.com" {
		t.Errorf("server_name = %v", f.Evidence["server_name"])
	}
}
