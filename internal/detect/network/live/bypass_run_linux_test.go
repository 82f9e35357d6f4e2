//go:build linux

package live

import (
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/detect/network/pcapfile"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

// TestBypassProgramOnRecordings runs the kernel program itself
// (BPF_PROG_TEST_RUN) on every IPv4/IPv6 frame of the project's
// recordings of real software and checks it against the engine's
// decoder, frame by frame (the first 300 TCP/UDP frames of each): with the map empty every frame is accepted
// whole up to the snap length; with the frame's own direction in the map
// (the other side's mode, so only bare ACKs are dropped; the bulk mode,
// so payloads are dropped too) it is dropped or passed as the rules say
// and counted with the decoder's IP and payload lengths. The test run
// hands a socket filter the frame from its IP header, so this exercises
// the raw-IP variant; lo frames (TestBypassDropsAndCounts) cover the
// Ethernet header.
func TestBypassProgramOnRecordings(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "loading and running an eBPF program needs root / CAP_BPF")
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "..", "testdata", "pcaps", "*.pcap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	const snap = 4352
	kb, err := newKernelBypass(decode.LinkRaw, snap, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer kb.Close()
	var checked, dropped int
	for _, file := range files {
		r, err := pcapfile.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		m := pcapfile.NewMerger(r)
		perFile := 0 // the first 300 frames of each: a few seconds in all
		for perFile < 300 {
			err := m.Next(func(pk *pcapfile.Packet) {
				if pk.LinkType != decode.LinkEthernet || len(pk.Data) < 14+20 {
					return
				}
				var p decode.Packet
				if decode.Decode(pk.LinkType, pk.Data, &p) != nil || (p.Proto != decode.ProtoTCP && p.Proto != decode.ProtoUDP) {
					return
				}
				if et := uint16(pk.Data[12])<<8 | uint16(pk.Data[13]); et != 0x0800 && et != 0x86dd {
					return // tagged frames: the test run would not strip the tag
				}
				l3 := len(pk.Data) - 14
				run := func() uint32 {
					ret, err := kb.prog.Run(&ebpf.RunOptions{Data: pk.Data})
					if err != nil {
						t.Fatal(err)
					}
					return ret
				}
				if got := run(); got != uint32(min(l3, snap)) {
					t.Fatalf("%s: unlisted frame returned %d, want %d", filepath.Base(file), got, min(l3, snap))
				}
				addr := func(b [16]byte) netip.Addr {
					if p.V6 {
						return netip.AddrFrom16(b)
					}
					return netip.AddrFrom4([4]byte(b[:4]))
				}
				f := &flow.Flow{Proto: p.Proto, Client: flow.Endpoint{Addr: addr(p.Src), Port: p.SrcPort},
					Server: flow.Endpoint{Addr: addr(p.Dst), Port: p.DstPort}}
				n := max(p.PayloadLen, len(p.Payload))
				control := p.Proto == decode.ProtoTCP && p.Flags&(decode.FlagSYN|decode.FlagFIN|decode.FlagRST) != 0
				for _, bulk := range []int{flow.S2C, flow.C2S} { // the frame's direction (C2S) as other side, then bulk
					key, rkey := keyOf(f, flow.C2S), keyOf(f, flow.S2C)
					v := bypassValue{Mode: 1, GapNS: 1 << 62}
					// The size to count in one slot or the other, a
					// different one in the other slot.
					slot := checked % 2
					v.Size[slot], v.Size[1-slot] = uint64(n), uint64(n+1)
					if bulk == flow.C2S {
						var mono unix.Timespec
						_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono)
						v.Mode, v.LastPayloadNS = 0, uint64(mono.Nano()) // no pause: payload is counted
					}
					// The other direction, whose last payload time a pass notes.
					const peerLast = 12345
					if err := kb.m.Put(&key, &v); err != nil {
						t.Fatal(err)
					}
					if err := kb.m.Put(&rkey, &bypassValue{Mode: 1, LastPayloadNS: peerLast}); err != nil {
						t.Fatal(err)
					}
					got := run()
					var after bypassValue
					if err := kb.m.Lookup(&key, &after); err != nil {
						t.Fatal(err)
					}
					_ = kb.m.Delete(&key)
					_ = kb.m.Delete(&rkey)
					var hist uint64
					for _, h := range after.IATHist {
						hist += h
					}
					counted := wantCounted(n, got)
					if counted && (after.MaxPayload != uint64(n) || after.SizeN[slot] != 1 || after.SizeN[1-slot] != 0 || hist != 1 || after.IATSumNS == 0) {
						t.Fatalf("%s: a counted payload of %d bytes left max %d, sizes %v of %v, gap histogram %v (sum %d ns)",
							filepath.Base(file), n, after.MaxPayload, after.SizeN, after.Size, after.IATHist, after.IATSumNS)
					}
					if !counted && (after.MaxPayload != 0 || after.SizeN != [flow.BypassSizes]uint64{} || hist != 0) {
						t.Fatalf("%s: a frame not counted as payload changed max %d, sizes %v, gaps %v", filepath.Base(file), after.MaxPayload, after.SizeN, after.IATHist)
					}
					passedPayload := n > 0 && !control && got != 0
					if passedPayload && (after.PassNS == 0 || after.PeerAtPassNS != peerLast) {
						t.Fatalf("%s: a payload let through noted pass %d, peer %d (want the peer's %d)", filepath.Base(file), after.PassNS, after.PeerAtPassNS, peerLast)
					}
					if !passedPayload && after.PassNS != 0 {
						t.Fatalf("%s: a frame that is no payload let through noted a pass", filepath.Base(file))
					}
					wantDrop := !control && (n == 0 || bulk == flow.C2S)
					switch {
					case wantDrop && got != 0:
						t.Fatalf("%s: frame of a bypassed direction (mode %d, payload %d) passed (%d)", filepath.Base(file), v.Mode, n, got)
					case !wantDrop && got != uint32(min(l3, snap)):
						t.Fatalf("%s: frame that must pass (control %v, mode %d, payload %d) returned %d", filepath.Base(file), control, v.Mode, n, got)
					case wantDrop:
						dropped++
						small := uint64(0)
						if n > 0 && n <= flow.SmallPayload {
							small = 1
						}
						pp := uint64(0)
						if n > 0 {
							pp = 1
						}
						if after.Packets != 1 || after.Bytes != uint64(p.IPLen) || after.PayloadPackets != pp || after.PayloadBytes != uint64(n) || after.Small != small {
							t.Fatalf("%s: counted %+v for IP length %d, payload %d", filepath.Base(file), after, p.IPLen, n)
						}
					case after.Packets != 0:
						t.Fatalf("%s: a passed frame was counted: %+v", filepath.Base(file), after)
					}
				}
				checked++
				perFile++
			})
			if err == io.EOF {
				break
			}
		}
		r.Close()
	}
	t.Logf("%d frames of %d recordings checked, %d drops verified", checked, len(files), dropped)
	if checked < 5000 || dropped < 5000 {
		t.Fatalf("only %d frames checked (%d drops)", checked, dropped)
	}
}

// wantCounted: a frame with payload that the program dropped was counted
// as payload (its size, gap and length go to the statistics).
func wantCounted(n int, ret uint32) bool { return n > 0 && ret == 0 }
