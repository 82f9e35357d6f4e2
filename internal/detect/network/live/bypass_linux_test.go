//go:build linux

package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network"
	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/filter"
	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

// TestBypassProgramVerifies loads the socket filter for every link type
// and snap setting through the real kernel verifier.
func TestBypassProgramVerifies(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "loading an eBPF program needs root / CAP_BPF")
	}
	for _, link := range []int{decode.LinkEthernet, decode.LinkRaw} {
		for _, snap := range []int{4352, -1} {
			kb, err := newKernelBypass(link, snap, nil)
			if err != nil {
				t.Fatalf("link %d snap %d: %v", link, snap, err)
			}
			kb.Close()
		}
	}
	if _, err := newKernelBypass(decode.LinkNull, 0, nil); !errors.Is(err, errNoBypass) {
		t.Errorf("unsupported link type: %v", err)
	}
}

// bypassFlow builds the flow a capture would hold for client → server.
func bypassFlow(proto uint8, client, server netip.AddrPort) *flow.Flow {
	return &flow.Flow{Proto: proto,
		Client: flow.Endpoint{Addr: client.Addr(), Port: client.Port()},
		Server: flow.Endpoint{Addr: server.Addr(), Port: server.Port()}}
}

// TestBypassDropsAndCounts attaches the program to a real AF_PACKET ring
// on lo, puts a UDP flow and the bulk side of a TCP connection in the map,
// sends real packets, and checks that the kernel dropped and counted
// exactly those while the TCP handshake and teardown, the other side's
// payload and an unlisted flow still reached user space.
func TestBypassDropsAndCounts(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "AF_PACKET capture and eBPF need root")
	}
	src, err := openAFPacket(Config{Interface: "lo", PollTimeout: 20 * time.Millisecond, RingBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	kb, err := newKernelBypass(src.LinkType(), 4352, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer kb.Close()
	if err := src.(afSource).h.SetEBPF(int32(kb.prog.FD())); err != nil {
		t.Fatal(err)
	}

	// UDP: two sockets, one flow bypassed (both directions, bulk C2S).
	lnA, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer lnA.Close()
	cBy, _ := net.DialUDP("udp", nil, lnA.LocalAddr().(*net.UDPAddr))
	cFree, _ := net.DialUDP("udp", nil, lnA.LocalAddr().(*net.UDPAddr))
	defer cBy.Close()
	defer cFree.Close()
	fu := bypassFlow(decode.ProtoUDP, cBy.LocalAddr().(*net.UDPAddr).AddrPort(), lnA.LocalAddr().(*net.UDPAddr).AddrPort())
	// The capture saw this flow's last payload just now: the next one is
	// no pause and is bypassed too.
	fu.Dir[flow.C2S].LastPayload = time.Now().UnixNano()
	if !kb.Start(fu, flow.C2S) {
		t.Fatal("Start refused")
	}
	// TCP: accept one connection; bulk server → client.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	ft := bypassFlow(decode.ProtoTCP, cli.LocalAddr().(*net.TCPAddr).AddrPort(), ln.Addr().(*net.TCPAddr).AddrPort())
	if !kb.Start(ft, flow.S2C) {
		t.Fatal("Start refused")
	}

	const n, size = 50, 300
	msg := make([]byte, size)
	for range n {
		cBy.Write(msg)
		cFree.Write(msg)
	}
	cli.Write([]byte("GET /")) // the other side's payload passes
	if _, err := io.ReadFull(srv, make([]byte, 5)); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := srv.Write(msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(cli, buf); err != nil {
			t.Fatal(i, err)
		}
	}
	cli.Close()
	srv.Close()

	// What reached user space.
	seen := map[string]int{}
	var p decode.Packet
	deadline := time.Now().Add(3 * time.Second)
	for quiet := 0; quiet < 5 && time.Now().Before(deadline); {
		data, _, err := src.ZeroCopyReadPacketData()
		if errors.Is(err, errTimeout) {
			quiet++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		quiet = 0
		if decode.Decode(src.LinkType(), data, &p) != nil {
			continue
		}
		sp := netip.AddrPortFrom(netip.AddrFrom4([4]byte(p.Src[:4])), p.SrcPort)
		switch {
		case p.Proto == decode.ProtoUDP && sp == addrPort(fu.Client):
			seen["udp-bypassed"]++
		case p.Proto == decode.ProtoUDP && sp == cFree.LocalAddr().(*net.UDPAddr).AddrPort():
			seen["udp-free"]++
		case p.Proto == decode.ProtoTCP && sp.Port() == ft.Server.Port && len(p.Payload) > 0:
			seen["tcp-bulk-payload"]++
		case p.Proto == decode.ProtoTCP && sp.Port() == ft.Client.Port && len(p.Payload) > 0:
			seen["tcp-other-payload"]++
		case p.Proto == decode.ProtoTCP && p.Flags&(decode.FlagFIN|decode.FlagRST) != 0:
			seen["tcp-fin"]++
		}
	}
	// lo hands AF_PACKET each packet twice (out and in): m copies per packet.
	m := seen["udp-free"] / n
	if m < 1 || seen["udp-free"] != m*n {
		t.Fatalf("unlisted flow: %d packets seen for %d sent (%v)", seen["udp-free"], n, seen)
	}
	if seen["udp-bypassed"] != 0 {
		t.Errorf("bypassed UDP flow reached user space: %d packets", seen["udp-bypassed"])
	}
	if seen["tcp-other-payload"] < m || seen["tcp-fin"] < 2*m {
		t.Errorf("the other side's payload or the FINs did not pass: %v", seen)
	}
	// The bulk side's first payload passes (the pause before it); at most
	// a few more after scheduling pauses ≥ BurstGap.
	if seen["tcp-bulk-payload"] > 3*m {
		t.Errorf("bulk side reached user space %d times (%v)", seen["tcp-bulk-payload"], seen)
	}
	cu, ok := kb.Collect(fu)
	if !ok {
		t.Fatal("no counters for the UDP flow")
	}
	if want := uint64(m * n); cu[flow.C2S].Packets != want || cu[flow.C2S].PayloadPackets != want ||
		cu[flow.C2S].Bytes != want*(20+8+size) || cu[flow.C2S].PayloadBytes != want*size || cu[flow.C2S].Small != 0 {
		t.Errorf("UDP counters %+v, want %d packets of %d bytes", cu[flow.C2S], want, 20+8+size)
	}
	if now := time.Now().UnixNano(); cu[flow.C2S].Last > now || cu[flow.C2S].Last < now-int64(10*time.Second) {
		t.Errorf("last packet time %v is not now", time.Unix(0, cu[flow.C2S].Last))
	}
	ct, _ := kb.Collect(ft)
	bulk := ct[flow.S2C]
	if passed := uint64(seen["tcp-bulk-payload"]); bulk.PayloadPackets+passed != uint64(m*n) || bulk.PayloadBytes+passed*size != uint64(m*n*size) {
		t.Errorf("TCP bulk counters %+v with %d passed, want %d payloads in all", bulk, passed, m*n)
	}
	if ct[flow.C2S].PayloadPackets != 0 || ct[flow.C2S].Packets == 0 {
		t.Errorf("TCP other side: %+v, want bare ACKs counted and no payload", ct[flow.C2S])
	}
	kb.Stop(fu)
	if _, ok := kb.Collect(fu); ok {
		t.Error("Stop left the flow in the map")
	}
}

func addrPort(e flow.Endpoint) netip.AddrPort { return netip.AddrPortFrom(e.Addr, e.Port) }

// bulkRun captures lo while a real TCP connection sends a request and
// then 120 MiB back in 1 MiB writes every 25 ms with one 400 ms pause, and
// returns the connection's flow as the engine finished it.
func bulkRun(t *testing.T, noBypass bool) (flow.Flow, *Capture) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	var got flow.Flow
	found := make(chan struct{}, 1)
	c, err := New(Config{Interface: "lo", PollTimeout: 20 * time.Millisecond, RingBytes: 8 << 20, NoBypass: noBypass,
		Engine: network.Config{OnFlow: func(f *flow.Flow) {
			if f.Proto == decode.ProtoTCP && f.Server.Port == uint16(port) {
				got = *f
				select {
				case found <- struct{}{}:
				default:
				}
			}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := runCapture(t, c)
	defer cancel()
	go func() {
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		io.ReadFull(s, make([]byte, 5))
		chunk := make([]byte, 1<<20)
		for i := range 120 {
			if i == 60 {
				time.Sleep(400 * time.Millisecond)
			}
			if _, err := s.Write(chunk); err != nil {
				return
			}
			time.Sleep(25 * time.Millisecond)
		}
	}()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cl.Write([]byte("GET /"))
	if n, err := io.Copy(io.Discard, cl); err != nil || n != 120<<20 {
		t.Fatalf("received %d bytes: %v", n, err)
	}
	cl.Close()
	// The flow finishes on the FINs (which the bypass lets through).
	select {
	case <-found:
	case <-time.After(5 * time.Second):
		t.Error("the flow did not finish on its FINs")
	}
	c.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return got, c
}

// TestBypassSameCounters runs the same real bulk transfer with the kernel
// bypass off and on: the flow's byte and payload counters, bursts and
// duration come out the same, while with the bypass most packets never
// reach user space.
func TestBypassSameCounters(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "AF_PACKET capture and eBPF need root")
	}
	off, coff := bulkRun(t, true)
	on, con := bulkRun(t, false)
	if ok, err := con.KernelBypass(); !ok {
		t.Fatalf("bypass not attached: %v", err)
	}
	if ok, _ := coff.KernelBypass(); ok {
		t.Fatal("NoBypass attached it anyway")
	}
	if con.Stats().Bypassed == 0 || !on.Bypassed && on.Kern[flow.S2C].Packets == 0 {
		t.Fatalf("the flow was not bypassed: %+v", con.Stats())
	}
	// What the heartbeat carries (report.CaptureStats).
	if cc, oc := con.Counters(), coff.Counters(); !cc.KernelBypass || cc.BypassedFlows == 0 || !cc.KernelSnap ||
		oc.KernelBypass || oc.BypassedFlows != 0 || !oc.KernelSnap {
		t.Errorf("capture counters: bypass on %+v, off %+v; want kernel_snap on both, kernel_bypass and bypassed_flows only with the bypass", cc, oc)
	}
	k := on.Kern[flow.S2C]
	t.Logf("bypass off: %d packets in user space; on: %d (kernel counted %d of the bulk side's, %d of the other's)",
		coff.Counters().Packets, con.Counters().Packets, k.Packets, on.Kern[flow.C2S].Packets)
	// lo hands AF_PACKET every packet twice; retransmissions count again.
	want := float64(2 * 120 << 20)
	for name, f := range map[string]*flow.Flow{"off": &off, "on": &on} {
		if got := float64(f.Dir[flow.S2C].PayloadBytes); got < want || got > want*1.01 {
			t.Errorf("bypass %s: bulk payload bytes %.0f, want %.0f (+1%%)", name, got, want)
		}
		if f.Dir[flow.C2S].PayloadBytes != 2*5 {
			t.Errorf("bypass %s: request bytes %d, want 10", name, f.Dir[flow.C2S].PayloadBytes)
		}
	}
	// Packets differ run to run (segmentation offload, ACK pacing), bytes
	// barely: headers of a few more or fewer segments.
	if a, b := float64(off.Dir[flow.S2C].Bytes), float64(on.Dir[flow.S2C].Bytes); b < a*0.99 || b > a*1.01 {
		t.Errorf("bulk side IP bytes: off %.0f, on %.0f", a, b)
	}
	// Bare ACKs vary run to run (ACK pacing); those the kernel counted
	// must be in the flow's count.
	if off.Dir[flow.C2S].BareACKs == 0 || on.Dir[flow.C2S].BareACKs < on.Kern[flow.C2S].Packets || on.Kern[flow.C2S].Packets == 0 {
		t.Errorf("bare ACKs of the other side: off %d, on %d of which %d counted in the kernel",
			off.Dir[flow.C2S].BareACKs, on.Dir[flow.C2S].BareACKs, on.Kern[flow.C2S].Packets)
	}
	// The 400 ms pause is a burst with the bypass on too (its first
	// packet passes); a loaded machine may add pauses to either run.
	if s := on.Dir[flow.S2C]; s.Bursts == 0 || off.Dir[flow.S2C].Bursts == 0 {
		t.Errorf("bursts of the bulk side: off %d, on %d", off.Dir[flow.S2C].Bursts, s.Bursts)
	}
	if da, db := off.Duration(), on.Duration(); db < da*9/10 || db > da*11/10 {
		t.Errorf("duration: off %v, on %v", da, db)
	}
	// How many fewer depends on how soon the loop hands the flow over: on
	// a loaded machine the ring holds many packets queued before that (the
	// saving is measured by make bench-live, not asserted here).
	if con.Counters().Packets >= coff.Counters().Packets {
		t.Errorf("the bypass saved little: %d packets in user space with it, %d without", con.Counters().Packets, coff.Counters().Packets)
	}
}

// udpRun captures lo while a real UDP exchange runs: the "server" sends
// udpRounds bursts of udpBurst 1300-byte datagrams 20 ms apart (one pause
// of 400 ms halfway), the "client" answers every second datagram it
// receives with a 60-byte one (a tunnel's inner ACKs, a QUIC download's
// acknowledgements); it returns the flow as the engine finished it and how
// many answers the client sent. With a bpf: filter (bpf, "" none; %d is
// the server's port) a TCP transfer on lo runs alongside, which the
// filter must keep out.
func udpRun(t *testing.T, noBypass bool, bpf string) (flow.Flow, *Capture, int) {
	t.Helper()
	srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	port := srv.LocalAddr().(*net.UDPAddr).Port
	var got flow.Flow
	found := make(chan struct{}, 1)
	ecfg := network.Config{OnFlow: func(f *flow.Flow) {
		if f.Proto == decode.ProtoUDP && f.Server.Port == uint16(port) {
			got = *f
			select {
			case found <- struct{}{}:
			default:
			}
		}
	}}
	if bpf != "" {
		flt, err := filter.Compile(fmt.Sprintf(bpf, port))
		if err != nil {
			t.Fatal(err)
		}
		ecfg.Filter = flt
		stop := tcpNoise(t)
		defer stop()
	}
	c, err := New(Config{Interface: "lo", PollTimeout: 20 * time.Millisecond, RingBytes: 8 << 20, NoBypass: noBypass,
		Engine: ecfg})
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := runCapture(t, c)
	defer cancel()
	cl, err := net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_ = cl.SetReadBuffer(4 << 20)
	cl.Write(make([]byte, 60)) // the server learns where to send
	buf := make([]byte, 2048)
	n, peer, err := srv.ReadFromUDP(buf)
	if err != nil || n != 60 {
		t.Fatalf("first datagram: %d bytes, %v", n, err)
	}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		dg := make([]byte, 1300)
		for i := range udpRounds {
			if i == udpRounds/2 {
				time.Sleep(400 * time.Millisecond)
			}
			for range udpBurst {
				if _, err := srv.WriteToUDP(dg, peer); err != nil {
					return
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	// The client answers what it receives until the server is done and
	// nothing more comes (a datagram the socket dropped on a loaded
	// machine is still on the wire: the capture sees it).
	received, acks := 0, 0
	for {
		_ = cl.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := cl.Read(buf); err != nil {
			select {
			case <-sent:
			default:
				continue
			}
			break
		}
		if received++; received%2 == 0 {
			if _, err := cl.Write(buf[:60]); err == nil {
				acks++
			}
		}
	}
	<-sent
	if received == 0 {
		t.Fatal("the client received nothing")
	}
	// A UDP flow ends when it idles out; Stop flushes the table.
	c.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case <-found:
	default:
		t.Fatal("the UDP flow was not finished")
	}
	return got, c, acks
}

const udpRounds, udpBurst = 120, 30

// TestBypassUDPSameCounters runs the same real UDP exchange with the
// kernel bypass off and on: with it on, both directions are counted in the
// kernel, and what the behaviour analyses read (payload counts and bytes,
// the frequent sizes behind the encapsulation shape, every payload's gap
// in the histogram behind input pacing, the largest payload, the pause as
// a burst) comes out as without it.
func TestBypassUDPSameCounters(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "AF_PACKET capture and eBPF need root")
	}
	off, coff, offAcks := udpRun(t, true, "")
	on, con, onAcks := udpRun(t, false, "")
	acks := map[string]int{"off": offAcks, "on": onAcks}
	if ok, err := con.KernelBypass(); !ok {
		t.Fatalf("bypass not attached: %v", err)
	}
	if !on.Bypassed && on.Kern[flow.S2C].PayloadPackets == 0 || on.Kern[flow.C2S].PayloadPackets == 0 {
		t.Fatalf("the UDP flow was not bypassed both ways: %+v, kernel counts %+v", con.Stats(), on.Kern)
	}
	t.Logf("bypass off: %d packets in user space; on: %d (kernel counted %d of the bulk side's payloads, %d of the other's)",
		coff.Counters().Packets, con.Counters().Packets, on.Kern[flow.S2C].PayloadPackets, on.Kern[flow.C2S].PayloadPackets)
	// lo hands AF_PACKET every packet twice.
	wantBulk := uint64(2 * udpRounds * udpBurst)
	for name, f := range map[string]*flow.Flow{"off": &off, "on": &on} {
		b, a := &f.Dir[flow.S2C], &f.Dir[flow.C2S]
		wantAcks := uint64(2 * (1 + acks[name]))
		if b.PayloadPackets != wantBulk || b.PayloadBytes != 1300*wantBulk || a.PayloadPackets != wantAcks || a.PayloadBytes != 60*wantAcks {
			t.Errorf("bypass %s: payloads %d (%d B) and %d (%d B), want %d (%d B) and %d (%d B)", name,
				b.PayloadPackets, b.PayloadBytes, a.PayloadPackets, a.PayloadBytes, wantBulk, 1300*wantBulk, wantAcks, 60*wantAcks)
		}
		if sz, n := b.FrequentSize(1000, 65535); sz != 1300 || uint64(n) < wantBulk*9/10 {
			t.Errorf("bypass %s: bulk side's frequent size %d × %d, want 1300 × ≥ %d", name, sz, n, wantBulk*9/10)
		}
		if sz, n := a.FrequentSize(1, 200); sz != 60 || uint64(n) < wantAcks*9/10 {
			t.Errorf("bypass %s: other side's frequent size %d × %d, want 60 × ≥ %d", name, sz, n, wantAcks*9/10)
		}
		for d, dir := range []*flow.Dir{a, b} {
			var hist uint64
			for _, h := range dir.IATHist {
				hist += uint64(h)
			}
			if dir.IATCount != dir.PayloadPackets-1 || hist != dir.IATCount {
				t.Errorf("bypass %s, direction %d: %d gaps (histogram %d) for %d payloads", name, d, dir.IATCount, hist, dir.PayloadPackets)
			}
		}
		if b.MaxPayload != 1300 || b.Bursts == 0 {
			t.Errorf("bypass %s: largest payload %d, bursts %d", name, b.MaxPayload, b.Bursts)
		}
	}
	// Most gaps are back to back (< 1 ms) either way.
	if a, b := off.Dir[flow.S2C].IATHist[0], on.Dir[flow.S2C].IATHist[0]; float64(b) < 0.8*float64(wantBulk) || float64(a) < 0.8*float64(wantBulk) {
		t.Errorf("bulk gaps under 1 ms: off %d, on %d of %d", a, b, wantBulk)
	}
	if con.Counters().Packets >= coff.Counters().Packets/2 {
		t.Errorf("the bypass saved little: %d packets in user space with it, %d without", con.Counters().Packets, coff.Counters().Packets)
	}
}

// tcpNoise sends a TCP transfer over lo in small writes (hundreds of
// packets) until the returned stop is called.
func tcpNoise(t *testing.T) (stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		_, _ = io.Copy(io.Discard, s)
	}()
	go func() {
		defer wg.Done()
		cl, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		defer cl.Close()
		cl.(*net.TCPConn).SetNoDelay(true)
		b := make([]byte, 512)
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := cl.Write(b); err != nil {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return func() {
		close(done)
		ln.Close()
		wg.Wait()
	}
}

// TestBypassWithFilter: with a bpf: filter set, the filter runs first in
// the kernel bypass program (translated from its classic form) instead of
// turning the bypass off: the UDP exchange it selects is bypassed and
// counted exactly, and a TCP transfer alongside never reaches user space.
func TestBypassWithFilter(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "AF_PACKET capture and eBPF need root")
	}
	f, c, acks := udpRun(t, false, "udp and port %d")
	if ok, err := c.KernelBypass(); !ok {
		t.Fatalf("bypass not attached with a filter: %v", err)
	}
	if ok, err := c.KernelFilter(); !ok {
		t.Fatalf("filter not in the kernel: %v", err)
	}
	if f.Kern[flow.S2C].PayloadPackets == 0 || f.Kern[flow.C2S].PayloadPackets == 0 {
		t.Fatalf("the selected UDP flow was not bypassed both ways: %+v", f.Kern)
	}
	b, a := &f.Dir[flow.S2C], &f.Dir[flow.C2S]
	if want := uint64(2 * udpRounds * udpBurst); b.PayloadPackets != want || a.PayloadPackets != uint64(2*(1+acks)) {
		t.Errorf("payloads %d and %d, want %d and %d", b.PayloadPackets, a.PayloadPackets, want, 2*(1+acks))
	}
	// The TCP transfer (≈ 1 000 packets) and anything else on lo was
	// dropped by the filter in the kernel: user space rejected next to
	// nothing.
	st := c.Stats()
	t.Logf("user space: %d packets, %d rejected by the filter; kernel counted %d + %d payloads", st.Packets, st.Filtered,
		f.Kern[flow.S2C].PayloadPackets, f.Kern[flow.C2S].PayloadPackets)
	if st.Filtered > 20 {
		t.Errorf("%d packets reached user space only to be rejected by the filter: it did not run in the kernel", st.Filtered)
	}
}

// runCapture runs c (for at most 30 s) until it is reading, and returns
// the channel its Run's result arrives on.
func runCapture(t *testing.T, c *Capture) (<-chan error, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	// Wait for the capture to be reading: its first heartbeat counters.
	for c.Counters().Interface == "" {
		select {
		case err := <-done:
			cancel()
			t.Fatal(err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	return done, cancel
}
