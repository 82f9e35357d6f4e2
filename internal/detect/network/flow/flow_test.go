package flow

import (
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
)

func seg(src, dst byte, sp, dp uint16, flags uint8, seq uint32, payload string) *decode.Packet {
	p := &decode.Packet{Proto: decode.ProtoTCP, SrcPort: sp, DstPort: dp, Flags: flags, Seq: seq, Payload: []byte(payload), IPLen: 40 + len(payload)}
	p.Src[0], p.Dst[0] = src, dst
	return p
}

func udp(src, dst byte, sp, dp uint16, n int) *decode.Packet {
	p := &decode.Packet{Proto: decode.ProtoUDP, SrcPort: sp, DstPort: dp, Payload: make([]byte, n), PayloadLen: n, IPLen: 28 + n}
	p.Src[0], p.Dst[0] = src, dst
	return p
}

func TestStreamAndHandshake(t *testing.T) {
	var done []*Flow
	tb := NewTable(Config{}, func(f *Flow) {
		done = append(done, f)
		if got := string(f.Dir[C2S].Buf); got != "hello world" {
			t.Errorf("client stream %q", got)
		}
		if f.HandshakeRTT() != 30*time.Millisecond {
			t.Errorf("rtt %v", f.HandshakeRTT())
		}
	})
	ms := int64(time.Millisecond)
	pk := []struct {
		p  *decode.Packet
		ts int64
	}{
		{seg(1, 2, 5000, 443, decode.FlagSYN, 99, ""), 0},
		{seg(2, 1, 443, 5000, decode.FlagSYN|decode.FlagACK, 900, ""), 10 * ms},
		{seg(1, 2, 5000, 443, decode.FlagACK, 100, ""), 30 * ms},
		{seg(1, 2, 5000, 443, decode.FlagACK|decode.FlagPSH, 100, "hello"), 40 * ms},
		{seg(1, 2, 5000, 443, decode.FlagACK|decode.FlagPSH, 100, "hello"), 41 * ms},    // retransmission
		{seg(1, 2, 5000, 443, decode.FlagACK|decode.FlagPSH, 103, "lo world"), 42 * ms}, // overlap
		{seg(1, 2, 5000, 443, decode.FlagACK|decode.FlagPSH, 200, "after gap"), 43 * ms},
		{seg(2, 1, 443, 5000, decode.FlagACK, 901, ""), 44 * ms},
		{seg(1, 2, 5000, 443, decode.FlagFIN|decode.FlagACK, 209, ""), 50 * ms},
		{seg(2, 1, 443, 5000, decode.FlagFIN|decode.FlagACK, 901, ""), 51 * ms},
	}
	for _, s := range pk {
		f, dir := tb.Lookup(s.p, s.ts)
		if f == nil {
			t.Fatal("flow not created")
		}
		if f.Client.Port != 5000 {
			t.Fatalf("client %v", f.Client)
		}
		if (s.p.SrcPort == 5000) != (dir == C2S) {
			t.Fatalf("direction %d for %d", dir, s.p.SrcPort)
		}
		tb.Update(f, dir, s.p, s.ts)
	}
	if len(done) != 1 || tb.Stats().Closed != 1 {
		t.Fatalf("closed flows %d stats %+v", len(done), tb.Stats())
	}
	// A late ACK of a closed flow does not resurrect it.
	if f, _ := tb.Lookup(seg(1, 2, 5000, 443, decode.FlagACK, 210, ""), 60*ms); f != nil {
		t.Error("late ACK created a flow")
	}
}

func TestMidStreamServerSide(t *testing.T) {
	tb := NewTable(Config{}, nil)
	// First packet seen is from the server port 22: the client is the other side.
	f, dir := tb.Lookup(seg(2, 1, 22, 40000, decode.FlagACK|decode.FlagPSH, 5, "SSH-2.0-x\r\n"), 0)
	if f == nil || dir != S2C || f.Server.Port != 22 {
		t.Fatalf("flow %+v dir %d", f, dir)
	}
}

// TestMidStreamOrientation: without a SYN, a well-known port marks the
// server; between two unregistered ports the ephemeral one is the client's
// (a socat relay on 4444 answering a Linux client on 53536), and UDP
// follows the same rule.
func TestMidStreamOrientation(t *testing.T) {
	cases := []struct {
		p          *decode.Packet
		serverPort uint16
		dir        int
	}{
		{seg(2, 1, 4444, 53536, decode.FlagACK|decode.FlagPSH, 5, "SSH-2.0-x\r\n"), 4444, S2C},
		{seg(1, 2, 53536, 4444, decode.FlagACK|decode.FlagPSH, 5, "x"), 4444, C2S},
		{seg(1, 2, 5000, 6000, decode.FlagACK|decode.FlagPSH, 5, "x"), 6000, C2S}, // neither ephemeral: first sender is the client
		{seg(2, 1, 443, 50000, decode.FlagACK|decode.FlagPSH, 5, "x"), 443, S2C},
		{seg(1, 2, 40000, 50000, decode.FlagACK|decode.FlagPSH, 5, "x"), 50000, C2S}, // both ephemeral: first sender
	}
	for _, c := range cases {
		tb := NewTable(Config{}, nil)
		f, dir := tb.Lookup(c.p, 0)
		if f == nil {
			t.Fatalf("%d→%d: no flow", c.p.SrcPort, c.p.DstPort)
		}
		if f.Server.Port != c.serverPort || dir != c.dir {
			t.Errorf("%d→%d: server %v dir %d, want server port %d dir %d", c.p.SrcPort, c.p.DstPort, f.Server, dir, c.serverPort, c.dir)
		}
	}
	u := &decode.Packet{Proto: decode.ProtoUDP, SrcPort: 3000, DstPort: 60000, IPLen: 60, Payload: []byte("x")}
	u.Src[0], u.Dst[0] = 2, 1
	tb := NewTable(Config{}, nil)
	if f, dir := tb.Lookup(u, 0); f == nil || f.Server.Port != 3000 || dir != S2C {
		t.Errorf("udp 3000→60000: flow %v dir %d", f, dir)
	}
	u.SrcPort = 4500 // well-known beats ephemeral
	tb = NewTable(Config{}, nil)
	if f, _ := tb.Lookup(u, 0); f == nil || f.Server.Port != 4500 {
		t.Errorf("udp 4500→60000: flow %+v", f)
	}
}

// TestNoCaptureAfterInspection: once the engine parsed a flow's bytes and
// released them, later payload is counted but not kept.
func TestNoCaptureAfterInspection(t *testing.T) {
	tb := NewTable(Config{}, nil)
	p := seg(1, 2, 5000, 443, decode.FlagACK|decode.FlagPSH, 1, "first")
	f, dir := tb.Lookup(p, 1)
	tb.Update(f, dir, p, 1)
	f.Inspected = true
	tb.ReleaseBuffers(f)
	p = seg(1, 2, 5000, 443, decode.FlagACK|decode.FlagPSH, 6, "second")
	f, dir = tb.Lookup(p, 2)
	tb.Update(f, dir, p, 2)
	if f.Dir[C2S].Buf != nil || f.Dir[C2S].PayloadPackets != 2 {
		t.Errorf("buf %q packets %d", f.Dir[C2S].Buf, f.Dir[C2S].PayloadPackets)
	}
}

// TestAppSamples: the first server payload of a server turn → the first
// later client payload that acknowledges it. Client input still in flight
// (its ACK does not cover the update) is not an answer.
func TestAppSamples(t *testing.T) {
	tb := NewTable(Config{}, nil)
	ms := int64(time.Millisecond)
	ack := func(p *decode.Packet, a uint32) *decode.Packet { p.Ack = a; return p }
	pk := []struct {
		p  *decode.Packet
		ts int64
	}{
		{ack(seg(2, 1, 5900, 40000, decode.FlagACK|decode.FlagPSH, 100, "RFB 003.008\n"), 1000), 0},        // server speaks first
		{ack(seg(1, 2, 40000, 5900, decode.FlagACK|decode.FlagPSH, 1000, "RFB 003.008\n"), 112), 180 * ms}, // answer: 180 ms
		{ack(seg(2, 1, 5900, 40000, decode.FlagACK|decode.FlagPSH, 112, "update"), 1012), 200 * ms},        // turn starts
		{ack(seg(2, 1, 5900, 40000, decode.FlagACK|decode.FlagPSH, 118, "more"), 1012), 201 * ms},          // same turn
		{ack(seg(1, 2, 40000, 5900, decode.FlagACK|decode.FlagPSH, 1012, "key"), 112), 230 * ms},           // crossed the update
		{ack(seg(1, 2, 40000, 5900, decode.FlagACK|decode.FlagPSH, 1015, "request"), 122), 390 * ms},       // answer: 190 ms
	}
	var f *Flow
	for _, s := range pk {
		var dir int
		ts := s.ts + 1e9 // capture times are unix ns, never 0
		f, dir = tb.Lookup(s.p, ts)
		tb.Update(f, dir, s.p, ts)
	}
	if f.App[S2C].N != 2 || f.App[S2C].Get(0) != 180*ms || f.App[S2C].Get(1) != 190*ms {
		t.Errorf("app samples %v", f.App[S2C].All())
	}
}

// TestCreditPauseBehindPeriodicCredit: a periodic credit of a bypassed
// flow (at 0) reads the kernel's counters while the first packet after a
// pause, which the bypass let through, is still queued for user space;
// that packet must still be a burst (TestBypassSameCounters failed once on
// a loaded machine with "bursts of the bulk side: off 1, on 0").
func TestCreditPauseBehindPeriodicCredit(t *testing.T) {
	ms := int64(time.Millisecond)
	tb := NewTable(Config{}, func(*Flow) {})
	var f *Flow
	var dir int
	feed := func(p *decode.Packet, ts int64) {
		f, dir = tb.Lookup(p, ts)
		if f == nil {
			t.Fatal("flow not created")
		}
		tb.Update(f, dir, p, ts)
	}
	feed(seg(1, 2, 40000, 443, decode.FlagSYN, 99, ""), 0)
	feed(seg(2, 1, 443, 40000, decode.FlagSYN|decode.FlagACK, 900, ""), ms)
	feed(seg(1, 2, 40000, 443, decode.FlagACK, 100, ""), 2*ms)
	seq := uint32(901)
	for i := range 50 {
		feed(seg(2, 1, 443, 40000, decode.FlagACK, seq, string(make([]byte, 1400))), int64(10+i*10)*ms)
		seq += 1400
	}
	s := &f.Dir[S2C]
	before := s.Bursts
	// Bypassed at 510 ms. The kernel counts 90 payloads up to 1400 ms,
	// a 400 ms pause, lets the packet at 1800 ms through and counts 20
	// more up to 2000 ms; the periodic credit reads that before user
	// space reaches the 1800 ms packet.
	f.Bypassed = true
	c := Counts{Packets: 110, Bytes: 110 * 1440, PayloadPackets: 110, PayloadBytes: 110 * 1400,
		Last: 2000 * ms, LastPayload: 2000 * ms, GapPrev: 1400 * ms}
	tb.Credit(f, S2C, c, 0, 0)
	tb.Credit(f, S2C, c, 1800*ms, 0) // the engine's credit for the queued packet
	tb.Update(f, S2C, seg(2, 1, 443, 40000, decode.FlagACK, seq, string(make([]byte, 1400))), 1800*ms)
	if s.Bursts != before+1 {
		t.Fatalf("bursts %d after the pause, want %d", s.Bursts, before+1)
	}
	if s.PayloadPackets != 50+110+1 {
		t.Fatalf("payload packets %d, want 161", s.PayloadPackets)
	}
	// The next periodic credit, with no new pause, moves the last payload on.
	c.PayloadPackets, c.Packets, c.LastPayload, c.Last = 130, 130, 2200*ms, 2200*ms
	tb.Credit(f, S2C, c, 0, 0)
	if s.LastPayload != 2200*ms {
		t.Fatalf("last payload %d ms, want 2200", s.LastPayload/ms)
	}
}

// TestCreditTriggerAsOfPass: a UDP flow bypassed both ways; the bulk side's
// first payload after a pause reaches user space while the kernel has
// already counted the other side's answers to it. The burst must count as
// triggered by the input sent during the pause, which the kernel noted as
// it let the packet through (Counts.PeerAtPass), not by what it counted
// later.
func TestCreditTriggerAsOfPass(t *testing.T) {
	ms := int64(time.Millisecond)
	tb := NewTable(Config{}, func(*Flow) {})
	var f *Flow
	feed := func(p *decode.Packet, ts int64) int {
		var dir int
		f, dir = tb.Lookup(p, ts)
		tb.Update(f, dir, p, ts)
		return dir
	}
	up := func(n int) *decode.Packet { return udp(1, 2, 40000, 9000, n) }
	down := func(n int) *decode.Packet { return udp(2, 1, 9000, 40000, n) }
	feed(up(60), 0)
	for i := range 30 {
		feed(down(1200), int64(1+i)*ms)
	}
	s, in := &f.Dir[S2C], &f.Dir[C2S]
	bursts, triggered := s.Bursts, s.Triggered
	f.Bypassed = true
	// Kernel: the screen side streams until 500 ms, pauses; the input
	// side sends a key at 700 ms; the screen answers at 760 ms (let
	// through, noting the input's 700 ms), then the input side's
	// acknowledgements at 765–800 ms are counted before user space reads.
	bulk := Counts{Packets: 100, PayloadPackets: 100, PayloadBytes: 120000, LastPayload: 800 * ms, Last: 800 * ms,
		GapPrev: 500 * ms, PassAt: 760 * ms, PeerAtPass: 700 * ms}
	input := Counts{Packets: 8, PayloadPackets: 8, PayloadBytes: 480, LastPayload: 800 * ms, Last: 800 * ms, GapPrev: 300 * ms}
	tb.Credit(f, C2S, input, 760*ms, bulk.PeerAtPass)
	tb.Credit(f, S2C, bulk, 760*ms, 0)
	if in.LastPayload != 700*ms {
		t.Fatalf("input's last payload as of the packet: %d ms, want 700", in.LastPayload/ms)
	}
	tb.Update(f, S2C, down(1200), 760*ms)
	if s.Bursts != bursts+1 || s.Triggered != triggered+1 {
		t.Fatalf("bursts %d→%d, triggered %d→%d: want one more of each", bursts, s.Bursts, triggered, s.Triggered)
	}
	// Without the note the input's last payload would be taken from
	// before its own pause (300 ms): not triggered.
}

// TestAddSize: the weighted Misra–Gries update keeps a size that holds
// most of the payloads on top, and its count exact while the table has
// room.
func TestAddSize(t *testing.T) {
	var d Dir
	for i := range MaxSizes {
		d.countSize(100 + i)
	}
	d.addSize(1464, 500)
	if sz, n := d.FrequentSize(1000, 2000); sz != 1464 || n < 500-MaxSizes {
		t.Fatalf("frequent size %d × %d, want 1464 × ≥ %d", sz, n, 500-MaxSizes)
	}
	d.addSize(76, 300)
	sizes, _ := d.TopSizes()
	if sizes[0] != 1464 || sizes[1] != 76 {
		t.Fatalf("top sizes %v, want [1464 76]", sizes)
	}
	var e Dir
	e.addSize(60, 10)
	e.addSize(60, 5)
	if sz, n := e.FrequentSize(1, 100); sz != 60 || n != 15 {
		t.Fatalf("%d × %d, want 60 × 15", sz, n)
	}
}
