//go:build linux

package live

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
)

// The kernel bypass: an eBPF socket filter (BPF_PROG_TYPE_SOCKET_FILTER,
// attached with SO_ATTACH_BPF in place of the classic snap cap) that
// parses each frame's IPv4/IPv6 and TCP/UDP headers into a one-direction
// flow key and looks it up in an LRU hash map the engine fills with the
// bulk flows it has seen enough of (network.Bypass). A frame of a flow not
// in the map is accepted, capped at the snap length, as by the classic
// program. A frame of a bypassed direction is counted in the map's value
// and dropped (return 0), unless it must reach the engine: TCP SYN, FIN
// or RST; in a counting direction (mode 0: a TCP flow's bulk side, both
// sides of a UDP flow) the first payload after a pause of gap_ns; in the
// other mode any payload (only its bare ACKs are counted). For each
// counted payload it also adds its gap to the previous one to the log2
// histogram, its length to the two sizes user space asked for, and keeps
// the largest; as it lets a payload through it notes when, and the other
// direction's last payload time then.

// bypassKey is the map key: one direction of a flow (40 bytes).
type bypassKey struct {
	Src, Dst     [16]byte // IPv4 in the first 4 bytes, the rest zero
	SPort, DPort [2]byte  // network byte order
	Proto        uint8
	_            [3]byte
}

// bypassValue is the map value (216 bytes); the program updates the
// counters, user space sets Mode, GapNS, LastPayloadNS and Size at Start.
type bypassValue struct {
	Packets, Bytes               uint64 // bytes: IP total length
	PayloadPackets, PayloadBytes uint64
	Small                        uint64 // payloads ≤ flow.SmallPayload
	LastNS, LastPayloadNS        uint64 // bpf_ktime_get_ns (CLOCK_MONOTONIC)
	GapPrevNS                    uint64 // last payload before the latest pause
	Mode                         uint64 // 0 counting, 1 the TCP other side
	GapNS                        uint64
	PassNS, PeerAtPassNS         uint64 // latest payload let through; the other direction's last payload then
	MaxPayload                   uint64
	IATSumNS                     uint64
	Size                         [flow.BypassSizes]uint64 // sizes to count (0: none)
	SizeN                        [flow.BypassSizes]uint64
	IATHist                      [flow.IATBuckets]uint64 // flow.Dir.IATHist's first buckets
}

// Value offsets used by the program.
const (
	vPackets, vBytes, vPayPkts, vPayBytes, vSmall = 0, 8, 16, 24, 32
	vLast, vLastPay, vGapPrev, vMode, vGap        = 40, 48, 56, 64, 72
	vPass, vPeerAtPass, vMaxPay, vIATSum          = 80, 88, 96, 104
	vSize, vSizeN, vHist                          = 112, 128, 144
	bypassValueSize                               = vHist + 8*flow.IATBuckets
)

// bypassMaxFlows bounds the map: two entries per bypassed flow.
const bypassMaxFlows = 4096

// Stack layout of the program (offsets from R10).
const (
	sKey     = -40  // bypassKey (40 bytes)
	sHdr     = -104 // IP header (up to 64 bytes)
	sL4      = -120 // TCP/UDP header start (16 bytes)
	sEth     = -128 // ethertype scratch
	sTotLen  = -136
	sIPHL    = -144
	sPayload = -152
	sNow     = -160
	sIAT     = -168
	sRKey    = -208 // the reverse direction's key (40 bytes)
	sMem     = -272 // a classic prefilter's scratch memory (64 bytes)
	sLoad    = -280 // a classic prefilter's packet load
)

// bypassProgram builds the socket filter for frames of link type link
// (decode.LinkEthernet or decode.LinkRaw) capped at snap bytes (≤ 0:
// whole frames) using map m, after the classic program pre (the bpf:
// filter; nil: none), which drops what it rejects.
func bypassProgram(link int, snap int, m *ebpf.Map, pre []bpf.RawInstruction) (asm.Instructions, error) {
	const (
		ctx  = asm.R6
		etyp = asm.R7
		l3   = asm.R8
		val  = asm.R9
	)
	load := func(off asm.Register, dst int16, n int32) asm.Instructions {
		return asm.Instructions{
			asm.Mov.Reg(asm.R1, ctx),
			asm.Mov.Reg(asm.R2, off),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, int32(dst)),
			asm.Mov.Imm(asm.R4, n),
			asm.FnSkbLoadBytes.Call(),
			asm.JNE.Imm(asm.R0, 0, "pass"),
		}
	}
	in := asm.Instructions{asm.Mov.Reg(ctx, asm.R1)}
	if pre != nil {
		f, err := classicToEBPF(pre, ctx, "prefiltered", "drop")
		if err != nil {
			return nil, fmt.Errorf("kernel bypass: the bpf: filter: %w", err)
		}
		in = append(in, f...)
	}
	in = append(in, asm.Mov.Imm(asm.R1, 0).WithSymbol("prefiltered"))
	for o := int16(0); o < 40; o += 8 {
		in = append(in, asm.StoreMem(asm.RFP, sKey+o, asm.R1, asm.DWord))
	}
	in = append(in, asm.StoreMem(asm.RFP, sIAT, asm.R1, asm.DWord))
	switch link {
	case decode.LinkEthernet:
		in = append(in, asm.Mov.Imm(l3, 12))
		in = append(in, load(l3, sEth, 2)...)
		in = append(in, asm.Mov.Imm(l3, 14))
		// Up to two VLAN tags (802.1Q, 802.1ad) still in the frame.
		for i := 0; i < 2; i++ {
			in = append(in,
				asm.LoadMem(etyp, asm.RFP, sEth, asm.Half),
				asm.HostTo(asm.BE, etyp, asm.Half),
				asm.JEq.Imm(etyp, 0x8100, fmt.Sprintf("vlan%d", i)),
				asm.JNE.Imm(etyp, 0x88a8, "l3"),
				asm.Add.Imm(l3, 2).WithSymbol(fmt.Sprintf("vlan%d", i)),
			)
			in = append(in, load(l3, sEth, 2)...)
			in = append(in, asm.Add.Imm(l3, 2))
		}
		in = append(in,
			asm.LoadMem(etyp, asm.RFP, sEth, asm.Half),
			asm.HostTo(asm.BE, etyp, asm.Half),
			asm.JEq.Imm(etyp, 0x0800, "v4").WithSymbol("l3"),
			asm.JEq.Imm(etyp, 0x86dd, "v6"),
			asm.Ja.Label("pass"),
		)
	case decode.LinkRaw:
		in = append(in, asm.Mov.Imm(l3, 0))
		in = append(in, load(l3, sEth, 1)...)
		in = append(in,
			asm.LoadMem(etyp, asm.RFP, sEth, asm.Byte),
			asm.RSh.Imm(etyp, 4),
			asm.JEq.Imm(etyp, 4, "v4"),
			asm.JEq.Imm(etyp, 6, "v6"),
			asm.Ja.Label("pass"),
		)
	default:
		return nil, fmt.Errorf("kernel bypass: link type %d not supported", link)
	}
	// IPv4: version, header length, total length, no fragment, protocol, addresses.
	v4 := load(l3, sHdr, 20)
	v4[0] = v4[0].WithSymbol("v4")
	in = append(in, v4...)
	in = append(in,
		asm.LoadMem(asm.R1, asm.RFP, sHdr, asm.Byte),
		asm.Mov.Reg(asm.R2, asm.R1),
		asm.RSh.Imm(asm.R2, 4),
		asm.JNE.Imm(asm.R2, 4, "pass"),
		asm.And.Imm(asm.R1, 0x0f),
		asm.LSh.Imm(asm.R1, 2),
		asm.JLT.Imm(asm.R1, 20, "pass"),
		asm.StoreMem(asm.RFP, sIPHL, asm.R1, asm.DWord),
		asm.LoadMem(asm.R2, asm.RFP, sHdr+2, asm.Half),
		asm.HostTo(asm.BE, asm.R2, asm.Half),
		asm.StoreMem(asm.RFP, sTotLen, asm.R2, asm.DWord),
		asm.LoadMem(asm.R3, asm.RFP, sHdr+6, asm.Half),
		asm.HostTo(asm.BE, asm.R3, asm.Half),
		asm.JSet.Imm(asm.R3, 0x3fff, "pass"), // MF or an offset: a fragment
		asm.LoadMem(asm.R4, asm.RFP, sHdr+9, asm.Byte),
		asm.StoreMem(asm.RFP, sKey+36, asm.R4, asm.Byte),
		asm.LoadMem(asm.R5, asm.RFP, sHdr+12, asm.Word),
		asm.StoreMem(asm.RFP, sKey, asm.R5, asm.Word),
		asm.LoadMem(asm.R5, asm.RFP, sHdr+16, asm.Word),
		asm.StoreMem(asm.RFP, sKey+16, asm.R5, asm.Word),
		asm.Add.Reg(l3, asm.R1),
		asm.Ja.Label("l4"),
	)
	// IPv6 (fixed header only: extension headers go to user space).
	v6 := load(l3, sHdr, 40)
	v6[0] = v6[0].WithSymbol("v6")
	in = append(in, v6...)
	in = append(in,
		asm.LoadMem(asm.R1, asm.RFP, sHdr, asm.Byte),
		asm.RSh.Imm(asm.R1, 4),
		asm.JNE.Imm(asm.R1, 6, "pass"),
		asm.Mov.Imm(asm.R1, 40),
		asm.StoreMem(asm.RFP, sIPHL, asm.R1, asm.DWord),
		asm.LoadMem(asm.R2, asm.RFP, sHdr+4, asm.Half),
		asm.HostTo(asm.BE, asm.R2, asm.Half),
		asm.Add.Imm(asm.R2, 40),
		asm.StoreMem(asm.RFP, sTotLen, asm.R2, asm.DWord),
		asm.LoadMem(asm.R4, asm.RFP, sHdr+6, asm.Byte),
		asm.StoreMem(asm.RFP, sKey+36, asm.R4, asm.Byte),
	)
	for i := int16(0); i < 32; i += 8 {
		in = append(in,
			asm.LoadMem(asm.R5, asm.RFP, sHdr+8+i, asm.DWord),
			asm.StoreMem(asm.RFP, sKey+i, asm.R5, asm.DWord),
		)
	}
	in = append(in, asm.Add.Imm(l3, 40))
	// Transport: TCP control packets pass; ports into the key.
	in = append(in,
		asm.LoadMem(asm.R4, asm.RFP, sKey+36, asm.Byte).WithSymbol("l4"),
		asm.JEq.Imm(asm.R4, 17, "udp"),
		asm.JNE.Imm(asm.R4, 6, "pass"),
	)
	in = append(in, load(l3, sL4, 14)...)
	in = append(in,
		asm.LoadMem(asm.R1, asm.RFP, sL4+13, asm.Byte),
		asm.JSet.Imm(asm.R1, 0x07, "pass"), // FIN, SYN, RST
		asm.LoadMem(asm.R2, asm.RFP, sL4+12, asm.Byte),
		asm.RSh.Imm(asm.R2, 4),
		asm.LSh.Imm(asm.R2, 2),
		asm.Ja.Label("ports"),
	)
	udp := load(l3, sL4, 8)
	udp[0] = udp[0].WithSymbol("udp")
	in = append(in, udp...)
	in = append(in,
		asm.Mov.Imm(asm.R2, 8),
		asm.LoadMem(asm.R1, asm.RFP, sL4, asm.Word).WithSymbol("ports"),
		asm.StoreMem(asm.RFP, sKey+32, asm.R1, asm.Word),
		asm.LoadMem(asm.R7, asm.RFP, sTotLen, asm.DWord),
		asm.LoadMem(asm.R1, asm.RFP, sIPHL, asm.DWord),
		asm.Sub.Reg(asm.R7, asm.R1),
		asm.Sub.Reg(asm.R7, asm.R2),
		asm.JSGE.Imm(asm.R7, 0, "paylen"),
		asm.Mov.Imm(asm.R7, 0),
		asm.StoreMem(asm.RFP, sPayload, asm.R7, asm.DWord).WithSymbol("paylen"),
		// Look the direction up.
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, sKey),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
		asm.Mov.Reg(val, asm.R0),
		asm.FnKtimeGetNs.Call(),
		asm.StoreMem(asm.RFP, sNow, asm.R0, asm.DWord),
		asm.LoadMem(asm.R7, asm.RFP, sPayload, asm.DWord),
		asm.JEq.Imm(asm.R7, 0, "count"),
		asm.LoadMem(asm.R1, val, vMode, asm.DWord),
		asm.JNE.Imm(asm.R1, 0, "passsnap"),
		// Bulk side: the first payload after a pause goes to user space.
		asm.LoadMem(asm.R1, val, vLastPay, asm.DWord),
		asm.StoreMem(val, vLastPay, asm.R0, asm.DWord),
		asm.Mov.Reg(asm.R2, asm.R0),
		asm.Sub.Reg(asm.R2, asm.R1),
		asm.StoreMem(asm.RFP, sIAT, asm.R2, asm.DWord),
		asm.LoadMem(asm.R3, val, vGap, asm.DWord),
		asm.JLT.Reg(asm.R2, asm.R3, "count"),
		asm.StoreMem(val, vGapPrev, asm.R1, asm.DWord),
		asm.Ja.Label("passsnap"),
		// Count and drop.
		asm.Mov.Imm(asm.R1, 1).WithSymbol("count"),
		asm.AddAtomic.Mem(val, asm.R1, asm.DWord, vPackets),
		asm.LoadMem(asm.R1, asm.RFP, sTotLen, asm.DWord),
		asm.AddAtomic.Mem(val, asm.R1, asm.DWord, vBytes),
		asm.LoadMem(asm.R1, asm.RFP, sNow, asm.DWord),
		asm.StoreMem(val, vLast, asm.R1, asm.DWord),
		asm.JEq.Imm(asm.R7, 0, "drop"),
		asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(val, asm.R1, asm.DWord, vPayPkts),
		asm.AddAtomic.Mem(val, asm.R7, asm.DWord, vPayBytes),
		asm.JGT.Imm(asm.R7, flow.SmallPayload, "max"),
		asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(val, asm.R1, asm.DWord, vSmall),
		// The largest payload.
		asm.LoadMem(asm.R1, val, vMaxPay, asm.DWord).WithSymbol("max"),
		asm.JGE.Reg(asm.R1, asm.R7, "sizes"),
		asm.StoreMem(val, vMaxPay, asm.R7, asm.DWord),
	)
	// The sizes user space asked for (0 matches no payload).
	for i := 0; i < flow.BypassSizes; i++ {
		ins := asm.LoadMem(asm.R1, val, int16(vSize+8*i), asm.DWord)
		if i == 0 {
			ins = ins.WithSymbol("sizes")
		} else {
			ins = ins.WithSymbol(fmt.Sprintf("size%d", i))
		}
		next := "iat"
		if i+1 < flow.BypassSizes {
			next = fmt.Sprintf("size%d", i+1)
		}
		in = append(in,
			ins,
			asm.JNE.Reg(asm.R1, asm.R7, next),
			asm.Mov.Imm(asm.R1, 1),
			asm.AddAtomic.Mem(val, asm.R1, asm.DWord, int16(vSizeN+8*i)),
			asm.Ja.Label("iat"),
		)
	}
	// The gap to the previous payload (< gap_ns): sum and log2(ms) bucket
	// (bucket b holds [2^(b-1), 2^b) ms, bucket 0 under 1 ms).
	in = append(in,
		asm.LoadMem(asm.R2, asm.RFP, sIAT, asm.DWord).WithSymbol("iat"),
		asm.AddAtomic.Mem(val, asm.R2, asm.DWord, vIATSum),
		asm.Mov.Imm(asm.R3, vHist),
	)
	for b := 0; b < flow.IATBuckets-1; b++ {
		in = append(in,
			asm.JLT.Imm(asm.R2, int32(1000000)<<b, "hist"),
			asm.Add.Imm(asm.R3, 8),
		)
	}
	in = append(in,
		asm.Mov.Reg(asm.R4, val).WithSymbol("hist"),
		asm.Add.Reg(asm.R4, asm.R3),
		asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.R4, asm.R1, asm.DWord, 0),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("drop"),
		asm.Return(),
		// A payload of a bypassed direction goes through: note when, and
		// the other direction's last payload time.
		asm.LoadMem(asm.R1, asm.RFP, sNow, asm.DWord).WithSymbol("passsnap"),
		asm.StoreMem(val, vPass, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(val, vPeerAtPass, asm.R1, asm.DWord),
		asm.StoreMem(asm.RFP, sRKey+32, asm.R1, asm.DWord),
	)
	for i := int16(0); i < 16; i += 8 {
		in = append(in,
			asm.LoadMem(asm.R1, asm.RFP, sKey+16+i, asm.DWord),
			asm.StoreMem(asm.RFP, sRKey+i, asm.R1, asm.DWord),
			asm.LoadMem(asm.R1, asm.RFP, sKey+i, asm.DWord),
			asm.StoreMem(asm.RFP, sRKey+16+i, asm.R1, asm.DWord),
		)
	}
	in = append(in,
		asm.LoadMem(asm.R1, asm.RFP, sKey+32, asm.Half),
		asm.StoreMem(asm.RFP, sRKey+34, asm.R1, asm.Half),
		asm.LoadMem(asm.R1, asm.RFP, sKey+34, asm.Half),
		asm.StoreMem(asm.RFP, sRKey+32, asm.R1, asm.Half),
		asm.LoadMem(asm.R1, asm.RFP, sKey+36, asm.Byte),
		asm.StoreMem(asm.RFP, sRKey+36, asm.R1, asm.Byte),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, sRKey),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
		asm.LoadMem(asm.R1, asm.R0, vLastPay, asm.DWord),
		asm.StoreMem(val, vPeerAtPass, asm.R1, asm.DWord),
		// Accept, capped at the snap length.
		asm.LoadMem(asm.R0, ctx, 0, asm.Word).WithSymbol("pass"), // __sk_buff.len
	)
	if snap > 0 {
		in = append(in,
			asm.JLE.Imm(asm.R0, int32(snap), "out"),
			asm.Mov.Imm(asm.R0, int32(snap)),
		)
	}
	in = append(in, asm.Return().WithSymbol("out"))
	return in, nil
}

// kernelBypass is the loaded program and its map (network.Bypass).
type kernelBypass struct {
	m    *ebpf.Map
	prog *ebpf.Program
}

// errNoBypass wraps every reason the bypass is unavailable.
var errNoBypass = errors.New("kernel bypass unavailable")

// newKernelBypass creates the map and loads the program, with the classic
// prefilter pre in front (nil: none) (CAP_BPF or root, a kernel with eBPF
// socket filters, atomic adds and 32-bit jumps: Linux ≥ 5.12).
func newKernelBypass(link, snap int, pre []bpf.RawInstruction) (*kernelBypass, error) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name: "fw_bypass", Type: ebpf.LRUHash, KeySize: 40, ValueSize: bypassValueSize, MaxEntries: 2 * bypassMaxFlows,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: create map: %w", errNoBypass, err)
	}
	ins, err := bypassProgram(link, snap, m, pre)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("%w: %w", errNoBypass, err)
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "fw_bypass", Type: ebpf.SocketFilter, License: "Apache-2.0", Instructions: ins,
	})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("%w: load program: %w", errNoBypass, err)
	}
	return &kernelBypass{m: m, prog: p}, nil
}

// Close releases the program and map (the socket keeps its own reference
// while attached).
func (k *kernelBypass) Close() {
	k.prog.Close()
	k.m.Close()
}

// keyOf is direction dir of f.
func keyOf(f *flow.Flow, dir int) bypassKey {
	src, dst := f.Client, f.Server
	if dir == flow.S2C {
		src, dst = dst, src
	}
	var k bypassKey
	put := func(b *[16]byte, a netip.Addr) {
		if a.Is4() || a.Is4In6() {
			a4 := a.Unmap().As4()
			copy(b[:], a4[:])
			return
		}
		*b = a.As16()
	}
	put(&k.Src, src.Addr)
	put(&k.Dst, dst.Addr)
	k.SPort = [2]byte{byte(src.Port >> 8), byte(src.Port)}
	k.DPort = [2]byte{byte(dst.Port >> 8), byte(dst.Port)}
	k.Proto = f.Proto
	return k
}

// monoOffset is CLOCK_REALTIME − CLOCK_MONOTONIC now, in ns: bpf_ktime
// stamps plus it are unix times.
func monoOffset() int64 {
	var rt, mono unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono)
	_ = unix.ClockGettime(unix.CLOCK_REALTIME, &rt)
	return rt.Nano() - mono.Nano()
}

// Start puts both directions of f in the map: the bulk side of a TCP
// flow and both sides of a UDP flow counting (mode 0, with the
// direction's last payload time and frequent sizes), a TCP flow's other
// side in mode 1.
func (k *kernelBypass) Start(f *flow.Flow, bulk int) bool {
	off := monoOffset()
	for d := range 2 {
		v := bypassValue{Mode: 1, GapNS: uint64(flow.BurstGap)}
		if d == bulk || f.Proto == decode.ProtoUDP {
			v.Mode = 0
			if lp := f.Dir[d].LastPayload - off; lp > 0 {
				v.LastPayloadNS = uint64(lp)
			}
			sizes, _ := f.Dir[d].TopSizes()
			for i, sz := range sizes {
				v.Size[i] = uint64(sz)
			}
		}
		key := keyOf(f, d)
		if err := k.m.Update(&key, &v, ebpf.UpdateAny); err != nil {
			if d == 1 {
				k0 := keyOf(f, 0)
				_ = k.m.Delete(&k0)
			}
			return false
		}
	}
	return true
}

// Collect reads both directions' counters.
func (k *kernelBypass) Collect(f *flow.Flow) (c [2]flow.Counts, ok bool) {
	off := monoOffset()
	wall := func(ns uint64) int64 {
		if ns == 0 {
			return 0
		}
		return int64(ns) + off
	}
	for d := range 2 {
		key := keyOf(f, d)
		var v bypassValue
		if err := k.m.Lookup(&key, &v); err != nil {
			continue
		}
		ok = true
		c[d] = flow.Counts{Packets: v.Packets, Bytes: v.Bytes, PayloadPackets: v.PayloadPackets,
			PayloadBytes: v.PayloadBytes, Small: v.Small, Last: wall(v.LastNS), GapPrev: wall(v.GapPrevNS),
			PassAt: wall(v.PassNS), PeerAtPass: wall(v.PeerAtPassNS), IATSum: int64(v.IATSumNS), MaxPayload: int(v.MaxPayload)}
		if v.PayloadPackets > 0 {
			c[d].LastPayload = wall(v.LastPayloadNS)
		}
		c[d].IATHist = v.IATHist
		for i := range v.Size {
			c[d].Sizes[i], c[d].SizeN[i] = uint16(v.Size[i]), v.SizeN[i]
		}
	}
	return c, ok
}

// Stop removes both directions of f.
func (k *kernelBypass) Stop(f *flow.Flow) {
	for d := range 2 {
		key := keyOf(f, d)
		_ = k.m.Delete(&key)
	}
}
