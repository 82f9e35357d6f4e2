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

// interactiveSession, as captured on the controlled host (the server, where
// the agent runs): the controller's input (small) arrives every 300 ms, the
// server answers 10 ms later with a burst of screen updates, and the
// viewer's request for the next update (small) arrives appRTT after the
// update left. Every third update another input crosses it (40 ms after),
// as independent mouse motion does. hsRTT is the TCP handshake's round
// trip: to the controller itself, or to a relay next to the server.
func interactiveSession(c *pcaptest.Capture, client, server string, hsRTT, appRTT time.Duration, n int) {
	k := c.TCP(client, server, hsRTT)
	for i := 0; i < n; i++ {
		k.Send(true, bytesN(24, 'k'))
		c.Advance(10 * time.Millisecond)
		for j := 0; j < 3; j++ {
			k.Send(false, bytesN(1200, 's'))
		}
		spent := 10 * time.Millisecond
		if i%3 == 0 {
			c.Advance(40 * time.Millisecond)
			k.Send(true, bytesN(24, 'm'))
			c.Advance(appRTT - 40*time.Millisecond)
		} else {
			c.Advance(appRTT)
		}
		k.Send(true, bytesN(10, 'r')) // the viewer asks for the next update
		spent += appRTT
		c.Advance(300*time.Millisecond - spent)
	}
	k.Close()
}

func TestInteractiveUnknownTool(t *testing.T) {
	c := pcaptest.New()
	interactiveSession(c, "203.0.113.5:40000", "192.168.1.10:7000", 20*time.Millisecond, 25*time.Millisecond, 200)
	fs := run(t, c)
	// The local server streams its screen in answer to the remote
	// client's input: this host is being controlled.
	f := find(fs, "network.behavior.controlled", "unknown")
	if f == nil {
		t.Fatalf("no controlled finding; got %s", summarize(fs))
	}
	if f.Severity != report.SeverityHigh || f.Evidence["direction"] != "inbound" || f.Evidence["controlled"] != "192.168.1.10:7000" || f.Evidence["host_role"] != "controlled" {
		t.Errorf("severity %s direction %v controlled %v role %v", f.Severity, f.Evidence["direction"], f.Evidence["controlled"], f.Evidence["host_role"])
	}
	if app, _ := f.Evidence["app_rtt_ms"].(float64); app < 20 || app > 35 {
		t.Errorf("app_rtt_ms = %v, want ≈25", f.Evidence["app_rtt_ms"])
	}
	if find(fs, "network.behavior.far-controller", "unknown") != nil {
		t.Errorf("near controller reported as far: %s", summarize(fs))
	}
}

// TestFarController: the server's TCP peer is a relay 1 ms away, the
// viewer's answers come 220 ms after each update: the controller sits
// ≈ 219 ms behind the relay. Without the relay (the handshake reaches the
// controller too) the same session is near.
func TestFarController(t *testing.T) {
	c := pcaptest.New()
	interactiveSession(c, "203.0.113.5:40000", "192.168.1.10:7000", time.Millisecond, 220*time.Millisecond, 120)
	fs := run(t, c)
	f := find(fs, "network.behavior.far-controller", "unknown")
	if f == nil {
		t.Fatalf("no far-controller finding; got %s", summarize(fs))
	}
	extra := f.Evidence["controller_extra_delay_ms"].(float64)
	if extra < 200 || extra > 240 {
		t.Errorf("controller_extra_delay_ms = %v, want ≈ 219", extra)
	}
	if n, _ := f.Evidence["app_rtt_samples"].(int); n < minAppSamples {
		t.Errorf("app_rtt_samples = %v", f.Evidence["app_rtt_samples"])
	}
	// A direct session: the handshake reaches the controller 220 ms away.
	c = pcaptest.New()
	interactiveSession(c, "203.0.113.5:40000", "192.168.1.10:7000", 215*time.Millisecond, 220*time.Millisecond, 120)
	fs = run(t, c)
	if find(fs, "network.behavior.far-controller", "unknown") != nil {
		t.Errorf("direct session reported as far: %s", summarize(fs))
	}
	f = find(fs, "network.behavior.controlled", "unknown")
	if f == nil {
		t.Fatalf("no controlled finding; got %s", summarize(fs))
	}
	if app, _ := f.Evidence["app_rtt_ms"].(float64); app < 210 || app > 230 {
		t.Errorf("app_rtt_ms = %v, want ≈220", f.Evidence["app_rtt_ms"])
	}
}

// TestFarControllerHumanPacedAnswers: in an interactive SSH session seen
// from the server, the client's next message after an echo is the next
// keystroke, at human pace (250–600 ms here), not an answer to the echo.
// Those samples must not make a near controller look far: only the
// protocol's request/response exchanges are a round trip.
func TestFarControllerHumanPacedAnswers(t *testing.T) {
	c := pcaptest.New()
	k := c.TCP("203.0.113.5:40000", "192.168.1.10:22", 30*time.Millisecond)
	k.Send(true, []byte("SSH-2.0-OpenSSH_9.6\r\n"))
	k.Send(false, []byte("SSH-2.0-OpenSSH_9.6\r\n"))
	for i := 0; i < 10; i++ { // key exchange and authentication
		c.Advance(30 * time.Millisecond)
		k.Send(true, bytesN(200, 'q'))
		c.Advance(time.Millisecond)
		k.Send(false, bytesN(300, 'a'))
	}
	typeKeys(c, k, true, 100, func(i int) time.Duration {
		return 250*time.Millisecond + time.Duration(i*137%350)*time.Millisecond
	})
	k.Close()
	fs := run(t, c)
	f := find(fs, "network.ssh.session", "ssh")
	if f == nil {
		t.Fatalf("no ssh session; got %s", summarize(fs))
	}
	if find(fs, "network.behavior.far-controller", "ssh") != nil {
		t.Errorf("human-paced keystrokes reported as a far controller: %s", summarize(fs))
	}
	if app, ok := f.Evidence["app_rtt_ms"].(float64); ok && app > 100 {
		t.Errorf("app_rtt_ms = %v, want ≈30 or none", app)
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
	typeKeys(c, k, false, 60, nil) // keystrokes from the far end, echoed by this host
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
	typeKeys(c, k, true, 60, nil)
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

// typeKeys sends n SSH keystrokes from the client (or the server when
// fromClient is false), each echoed 2 ms later and acknowledged by the
// typing side 30 ms after that; pause(i) is the gap before keystroke i
// (180 ms when nil).
func typeKeys(c *pcaptest.Capture, k *pcaptest.Conn, fromClient bool, n int, pause func(i int) time.Duration) {
	for i := 0; i < n; i++ {
		if pause != nil {
			c.Advance(pause(i))
		} else {
			c.Advance(180 * time.Millisecond)
		}
		k.Send(fromClient, bytesN(36, 'k'))
		c.Advance(2 * time.Millisecond)
		k.Send(!fromClient, bytesN(36, 'e'))
		c.Advance(30 * time.Millisecond)
		k.Ack(fromClient)
	}
}

// TestAppRTTNagleDoubling: through a relaying proxy whose Nagle algorithm
// holds small writes until the previous one is acknowledged, some of the
// viewer's answers arrive one round trip late (a second spike at twice the
// delay, here the larger one). The round trip is the first spike: the
// controller is not "further away" than the proxy it sits at.
func TestAppRTTNagleDoubling(t *testing.T) {
	c := pcaptest.New()
	rtt := 185 * time.Millisecond
	k := c.TCP("192.168.1.10:40000", "203.0.113.5:3128", rtt)
	for i := 0; i < 60; i++ {
		k.Send(false, bytesN(24, 'k')) // input from the viewer
		c.Advance(10 * time.Millisecond)
		k.Send(true, bytesN(1200, 's')) // the update (this host opened the flow)
		answer := rtt
		if i%5 >= 2 {
			answer = 2 * rtt
		}
		c.Advance(answer)
		k.Send(false, bytesN(10, 'r'))
		c.Advance(time.Duration(300+i%7*40) * time.Millisecond)
	}
	k.Close()
	fs := run(t, c)
	if f := find(fs, "network.behavior.far-controller", "unknown"); f != nil {
		t.Fatalf("Nagle-doubled answers reported as a far controller: %v", f.Evidence)
	}
	f := find(fs, "network.behavior.controlled", "unknown")
	if f == nil {
		t.Fatalf("no controlled finding; got %s", summarize(fs))
	}
	if app, _ := f.Evidence["app_rtt_ms"].(float64); app < 175 || app > 200 {
		t.Errorf("app_rtt_ms = %v, want ≈185 (the first spike)", f.Evidence["app_rtt_ms"])
	}
}
