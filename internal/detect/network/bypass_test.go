package network

import (
	"io"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/detect/network/pcapfile"
	"github.com/farmwatch/farmwatch/internal/report"
)

// simKey is one direction of a flow, as the kernel program keys it.
type simKey struct {
	src, dst netip.AddrPort
	proto    uint8
}

// simBypass models the kernel program of package live (bypass_linux.go)
// in Go, packet for packet and with the same rules, so that whole
// recordings can be replayed through the engine with the bypass on. The
// real program is checked against real packets by live's
// TestBypassDropsAndCounts and TestBypassSameCounters.
type simBypass struct {
	m       map[simKey]*simVal
	dropped int
}

type simVal struct {
	c flow.Counts
	// count: payloads are counted (a TCP flow's bulk side, both sides of
	// a UDP flow) unless they follow a pause; otherwise they pass.
	count bool
}

func simKeyOf(f *flow.Flow, dir int) simKey {
	a, b := netip.AddrPortFrom(f.Client.Addr, f.Client.Port), netip.AddrPortFrom(f.Server.Addr, f.Server.Port)
	if dir == flow.S2C {
		a, b = b, a
	}
	return simKey{a, b, f.Proto}
}

func (s *simBypass) Start(f *flow.Flow, bulk int) bool {
	for d := range 2 {
		v := &simVal{count: d == bulk || f.Proto == decode.ProtoUDP}
		if v.count {
			v.c.LastPayload = f.Dir[d].LastPayload
			v.c.Sizes, _ = f.Dir[d].TopSizes()
		}
		s.m[simKeyOf(f, d)] = v
	}
	return true
}

func (s *simBypass) Collect(f *flow.Flow) (c [2]flow.Counts, ok bool) {
	for d := range 2 {
		if v := s.m[simKeyOf(f, d)]; v != nil {
			c[d], ok = v.c, true
			if v.c.PayloadPackets == 0 {
				c[d].LastPayload = 0
			}
		}
	}
	return c, ok
}

func (s *simBypass) Stop(f *flow.Flow) {
	for d := range 2 {
		delete(s.m, simKeyOf(f, d))
	}
}

// drop is the program's verdict on a frame: true when it is counted in
// the map instead of reaching user space.
func (s *simBypass) drop(ts int64, link int, frame []byte) bool {
	var p decode.Packet
	if len(s.m) == 0 || decode.Decode(link, frame, &p) != nil || (p.Proto != decode.ProtoTCP && p.Proto != decode.ProtoUDP) {
		return false
	}
	if p.Proto == decode.ProtoTCP && p.Flags&(decode.FlagFIN|decode.FlagSYN|decode.FlagRST) != 0 {
		return false
	}
	addr := func(b [16]byte) netip.Addr {
		if p.V6 {
			return netip.AddrFrom16(b)
		}
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	v := s.m[simKey{netip.AddrPortFrom(addr(p.Src), p.SrcPort), netip.AddrPortFrom(addr(p.Dst), p.DstPort), p.Proto}]
	if v == nil {
		return false
	}
	n := max(p.PayloadLen, len(p.Payload))
	if n > 0 {
		if !v.count {
			return false
		}
		prev := v.c.LastPayload
		v.c.LastPayload = ts
		iat := ts - prev
		if iat >= int64(flow.BurstGap) {
			v.c.GapPrev = prev
			return false
		}
		b := 0
		for lim := int64(time.Millisecond); iat >= lim && b < flow.IATBuckets-1; lim *= 2 {
			b++
		}
		v.c.IATHist[b]++
		v.c.IATSum += max(iat, 0)
		v.c.MaxPayload = max(v.c.MaxPayload, n)
		for i, sz := range v.c.Sizes {
			if sz != 0 && int(sz) == n {
				v.c.SizeN[i]++
				break
			}
		}
	}
	v.c.Packets++
	v.c.Bytes += uint64(p.IPLen)
	v.c.Last = ts
	if n > 0 {
		v.c.PayloadPackets++
		v.c.PayloadBytes += uint64(n)
		if n <= flow.SmallPayload {
			v.c.Small++
		}
	}
	s.dropped++
	return true
}

// TestBypassSameFindings replays every recording of real software and
// every public capture with and without the kernel bypass (modelled by
// simBypass, e.Bypass called every second of capture time as the live
// loop does): findings, evidence included, and the counters the behaviour
// analyses read must be identical, while the bulk flows' packets stop
// reaching the engine.
func TestBypassSameFindings(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "pcaps", "*.pcap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings in testdata/pcaps: %v", err)
	}
	shared, err := filepath.Glob(filepath.Join(sharedPcaps(t), "*", "*.pcap"))
	if err != nil || len(shared) == 0 {
		t.Fatalf("no public captures: %v", err)
	}
	files = append(files, shared...)
	local := []netip.Prefix{
		netip.MustParsePrefix("10.200.0.2/32"), netip.MustParsePrefix("10.200.1.1/32"),
		netip.MustParsePrefix("10.201.0.2/32"), netip.MustParsePrefix("10.202.0.0/24"),
	}
	var bypassed, dropped int
	for _, file := range files {
		plain, plainFlows, _, _ := replayBypass(t, file, local, false)
		with, withFlows, nb, nd := replayBypass(t, file, local, true)
		bypassed += nb
		dropped += nd
		if !reflect.DeepEqual(plainFlows, withFlows) {
			t.Errorf("%s: flow counters differ with the bypass (%d flows bypassed, %d packets dropped):\noff: %v\non:  %v", filepath.Base(file), nb, nd, plainFlows, withFlows)
		}
		alignSizeShares(t, filepath.Base(file), plain, with)
		if !reflect.DeepEqual(plain, with) {
			t.Errorf("%s: findings differ with the bypass (%d flows bypassed):\noff:\n%s\non:\n%s", filepath.Base(file), nb, dump(plain), dump(with))
		}
	}
	t.Logf("%d files, %d flows bypassed, %d packets kept in the kernel", len(files), bypassed, dropped)
	if bypassed == 0 || dropped == 0 {
		t.Fatal("no flow of the recordings was bypassed: the test proves nothing")
	}
}

// alignSizeShares checks the one thing the bypass may change in a
// finding: the share of a flow's payloads that have its frequent sizes
// (network.behavior.encapsulation). Without it the engine's Misra–Gries
// summary gives a lower bound, low by at most 1/(flow.MaxSizes+1) of the
// payloads; with it the kernel counts the sizes exactly from the moment it
// takes over. The shares with the bypass must lie within that bound above
// the ones without; they are then set equal, with the text quoting them,
// so that everything else is compared exactly.
func alignSizeShares(t *testing.T, file string, off, on []report.Finding) {
	t.Helper()
	if len(off) != len(on) {
		return
	}
	for i := range off {
		a, b := &off[i], &on[i]
		if a.Rule != "network.behavior.encapsulation" || b.Rule != a.Rule {
			continue
		}
		for _, k := range []string{"full_packet_share", "ack_packet_share"} {
			x, ok1 := a.Evidence[k].(float64)
			y, ok2 := b.Evidence[k].(float64)
			if !ok1 || !ok2 {
				continue
			}
			if y < x || y-x > 1.0/(flow.MaxSizes+1)+0.001 {
				t.Errorf("%s: %s %v without the bypass, %v with it: not within the summary's bound", file, k, x, y)
				continue
			}
			b.Evidence[k] = x
		}
		b.Evidence["matched"] = a.Evidence["matched"]
	}
}

func replayBypass(t *testing.T, file string, local []netip.Prefix, on bool) ([]report.Finding, []flowCounters, int, int) {
	t.Helper()
	r, err := pcapfile.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sim := &simBypass{m: map[simKey]*simVal{}}
	cfg := Config{LocalNets: local, Host: report.Host{Name: "pcap", ID: "pcap:" + filepath.Base(file)}}
	if on {
		cfg.Bypass = sim
	}
	e := New(cfg)
	var flows []flowCounters
	e.flowHook = func(f *flow.Flow) {
		c := flowCounters{Client: f.Client.String(), Server: f.Server.String()}
		for i := range f.Dir {
			d := &f.Dir[i]
			c.Packets[i], c.Bytes[i], c.PayloadPackets[i], c.PayloadBytes[i], c.Small[i] = d.Packets, d.Bytes, d.PayloadPackets, d.PayloadBytes, d.Small
			c.MaxPayload[i], c.Bursts[i], c.Triggered[i] = d.MaxPayload, int(d.Bursts), int(d.Triggered)
			c.IATCount[i], c.IATSum[i], c.IATHist[i] = d.IATCount, d.IATSum, d.IATHist
		}
		flows = append(flows, c)
	}
	var next time.Time
	m := pcapfile.NewMerger(r)
	for {
		err := m.Next(func(p *pcapfile.Packet) {
			if on {
				if p.Time.After(next) {
					e.Bypass()
					next = p.Time.Add(time.Second)
				}
				if sim.drop(p.Time.UnixNano(), p.LinkType, p.Data) {
					return
				}
			}
			e.Packet(p.Time, p.LinkType, p.Data)
		})
		if err == io.EOF {
			break
		}
	}
	fs := e.Close()
	return fs, flows, int(e.stats.Bypassed), sim.dropped
}
