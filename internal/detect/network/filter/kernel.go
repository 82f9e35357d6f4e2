package filter

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
)

// Kernel compiles the filter into a classic BPF program for a live capture
// socket (Linux SO_ATTACH_FILTER on AF_PACKET, macOS BIOCSETF), so packets
// nobody asked for are dropped before they are copied to farmwatch.
//
// The program is a prefilter: it accepts every packet the user-space
// filter matches (Match still runs on what arrives), and where a packet's
// layout is beyond what a short BPF program decodes — VLAN/QinQ tags,
// PPPoE, IPv6 extension headers — it accepts and leaves the decision to
// Match. A prologue decodes the packet into scratch memory
//
//	M[0] IP version (4 or 6)   M[1] IP protocol   M[2]/M[3] ports   M[4] ports valid
//	M[5..8] source address     M[9..12] destination address (IPv4: M[5], M[9])
//
// and the expression is compiled over those words. Link types: Ethernet
// (incl. Linux loopback), raw IP and BSD null/loop.
func (f *Filter) Kernel(linkType int) ([]bpf.RawInstruction, error) {
	if f.root == nil {
		return nil, nil
	}
	var base uint32
	switch linkType {
	case decode.LinkEthernet:
		base = 14
	case decode.LinkRaw, decode.LinkIPv4, decode.LinkIPv6:
		base = 0
	case decode.LinkNull, decode.LinkLoop:
		base = 4
	default:
		return nil, fmt.Errorf("kernel filter: link type %d not supported", linkType)
	}
	c := &kcompiler{}
	accept, reject := c.label(), c.label()
	v4, v6, eval := c.label(), c.label(), c.label()
	// The Linux checker refuses programs that may read a scratch word
	// before writing it on some path: zero them all first.
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
	for m := 0; m <= 12; m++ {
		c.emit(bpf.StoreScratch{Src: bpf.RegA, N: m})
	}
	if linkType == decode.LinkEthernet {
		ip := c.label()
		c.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
		c.jeq(0x0800, ip, -1)
		c.jeq(0x86dd, ip, -1)
		for _, et := range []uint32{0x8100, 0x88a8, 0x9100, 0x8864} {
			c.jeq(et, accept, -1) // tagged or PPPoE: let Match decide
		}
		c.jump(reject)
		c.place(ip)
	}
	// The version nibble decides, as in the decoder (whatever the EtherType).
	c.emit(bpf.LoadAbsolute{Off: base, Size: 1})
	c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
	c.jeq(4, v4, -1)
	c.jeq(6, v6, -1)
	c.jump(reject)
	// IPv4: fragments never decode (Match would not see them either).
	p4 := c.label()
	c.place(v4)
	c.emit(bpf.LoadAbsolute{Off: base + 6, Size: 2})
	c.jset(0x1fff, reject, -1)
	c.store(0, 4)
	c.emit(bpf.LoadAbsolute{Off: base + 9, Size: 1})
	c.emit(bpf.StoreScratch{Src: bpf.RegA, N: 1})
	c.emit(bpf.LoadAbsolute{Off: base + 12, Size: 4})
	c.emit(bpf.StoreScratch{Src: bpf.RegA, N: 5})
	c.emit(bpf.LoadAbsolute{Off: base + 16, Size: 4})
	c.emit(bpf.StoreScratch{Src: bpf.RegA, N: 9})
	c.store(4, 0)
	c.emit(bpf.LoadScratch{Dst: bpf.RegA, N: 1})
	c.jeq(decode.ProtoTCP, p4, -1)
	c.jeq(decode.ProtoUDP, p4, eval)
	c.place(p4)
	c.emit(bpf.LoadMemShift{Off: base})
	c.emit(bpf.LoadIndirect{Off: base, Size: 2})
	c.emit(bpf.StoreScratch{Src: bpf.RegA, N: 2})
	c.emit(bpf.LoadIndirect{Off: base + 2, Size: 2})
	c.emit(bpf.StoreScratch{Src: bpf.RegA, N: 3})
	c.store(4, 1)
	c.jump(eval)
	// IPv6 without extension headers; with them, Match decides.
	p6 := c.label()
	c.place(v6)
	c.store(0, 6)
	c.emit(bpf.LoadAbsolute{Off: base + 6, Size: 1})
	c.emit(bpf.StoreScratch{Src: bpf.RegA, N: 1})
	for _, nh := range []uint32{0, 43, 44, 60} {
		c.jeq(nh, accept, -1)
	}
	for i := uint32(0); i < 4; i++ {
		c.emit(bpf.LoadAbsolute{Off: base + 8 + 4*i, Size: 4})
		c.emit(bpf.StoreScratch{Src: bpf.RegA, N: int(5 + i)})
		c.emit(bpf.LoadAbsolute{Off: base + 24 + 4*i, Size: 4})
		c.emit(bpf.StoreScratch{Src: bpf.RegA, N: int(9 + i)})
	}
	c.store(4, 0)
	c.emit(bpf.LoadScratch{Dst: bpf.RegA, N: 1})
	c.jeq(decode.ProtoTCP, p6, -1)
	c.jeq(decode.ProtoUDP, p6, eval)
	c.place(p6)
	c.emit(bpf.LoadAbsolute{Off: base + 40, Size: 2})
	c.emit(bpf.StoreScratch{Src: bpf.RegA, N: 2})
	c.emit(bpf.LoadAbsolute{Off: base + 42, Size: 2})
	c.emit(bpf.StoreScratch{Src: bpf.RegA, N: 3})
	c.store(4, 1)
	c.place(eval)
	c.node(f.root, accept, reject)
	c.place(accept)
	c.emit(bpf.RetConstant{Val: 1 << 18})
	c.place(reject)
	c.emit(bpf.RetConstant{Val: 0})
	return c.assemble()
}

// maxKernelInstructions keeps programs well inside the kernels' limits and
// the 8-bit reach of conditional jumps.
const maxKernelInstructions = 1024

// errTooFar is returned when a conditional jump cannot reach its target.
var errTooFar = errors.New("kernel filter: expression too large for a BPF program")

// kcompiler emits instructions with forward jumps to labels resolved at
// the end. A target of -1 means "the next instruction".
type kcompiler struct {
	ins    []kins
	labels []int // label → instruction index (-1 until placed)
}

type kins struct {
	in         bpf.Instruction
	jt, jf, ja int // labels (-1 = fall through); ja for Jump
	cond       bpf.JumpTest
	val        uint32
	kind       int // 0 plain, 1 conditional, 2 jump
}

func (c *kcompiler) label() int {
	c.labels = append(c.labels, -1)
	return len(c.labels) - 1
}

func (c *kcompiler) place(l int) { c.labels[l] = len(c.ins) }

func (c *kcompiler) emit(in bpf.Instruction) { c.ins = append(c.ins, kins{in: in}) }

func (c *kcompiler) store(n int, v uint32) {
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: v})
	c.emit(bpf.StoreScratch{Src: bpf.RegA, N: n})
}

func (c *kcompiler) jeq(v uint32, t, f int) {
	c.ins = append(c.ins, kins{kind: 1, cond: bpf.JumpEqual, val: v, jt: t, jf: f})
}

func (c *kcompiler) jset(v uint32, t, f int) {
	c.ins = append(c.ins, kins{kind: 1, cond: bpf.JumpBitsSet, val: v, jt: t, jf: f})
}

func (c *kcompiler) jcond(cond bpf.JumpTest, v uint32, t, f int) {
	c.ins = append(c.ins, kins{kind: 1, cond: cond, val: v, jt: t, jf: f})
}

func (c *kcompiler) jump(l int) { c.ins = append(c.ins, kins{kind: 2, ja: l}) }

// node compiles n: control reaches t when it matches, f when not.
func (c *kcompiler) node(n *node, t, f int) {
	switch n.op {
	case "and":
		mid := c.label()
		c.node(n.l, mid, f)
		c.place(mid)
		c.node(n.r, t, f)
	case "or":
		mid := c.label()
		c.node(n.l, t, mid)
		c.place(mid)
		c.node(n.r, t, f)
	case "not":
		c.node(n.l, f, t)
	case "proto":
		c.emit(bpf.LoadScratch{Dst: bpf.RegA, N: 1})
		c.jeq(uint32(n.proto), t, f)
	case "ip", "ip6":
		v := uint32(4)
		if n.op == "ip6" {
			v = 6
		}
		c.emit(bpf.LoadScratch{Dst: bpf.RegA, N: 0})
		c.jeq(v, t, f)
	case "addr":
		c.addr(n, t, f)
	case "port":
		c.emit(bpf.LoadScratch{Dst: bpf.RegA, N: 4})
		c.jeq(1, -1, f)
		switch n.dir {
		case "src":
			c.portRange(2, n.lo, n.hi, t, f)
		case "dst":
			c.portRange(3, n.lo, n.hi, t, f)
		default:
			other := c.label()
			c.portRange(2, n.lo, n.hi, t, other)
			c.place(other)
			c.portRange(3, n.lo, n.hi, t, f)
		}
	default:
		c.jump(f)
	}
}

// portRange tests scratch word m against lo..hi.
func (c *kcompiler) portRange(m int, lo, hi uint16, t, f int) {
	c.emit(bpf.LoadScratch{Dst: bpf.RegA, N: m})
	if lo == hi {
		c.jeq(uint32(lo), t, f)
		return
	}
	c.jcond(bpf.JumpGreaterOrEqual, uint32(lo), -1, f)
	c.jcond(bpf.JumpGreaterThan, uint32(hi), f, t)
}

func (c *kcompiler) addr(n *node, t, f int) {
	a := n.pfx.Addr()
	version, words := uint32(4), 1
	if a.Is6() {
		version, words = 6, 4
	}
	raw := a.AsSlice()
	bits := n.pfx.Bits()
	c.emit(bpf.LoadScratch{Dst: bpf.RegA, N: 0})
	c.jeq(version, -1, f)
	side := func(first, tOK, fail int) {
		for w := 0; w < words; w++ {
			mask := wordMask(bits - 32*w)
			if mask == 0 {
				break
			}
			val := uint32(raw[4*w])<<24 | uint32(raw[4*w+1])<<16 | uint32(raw[4*w+2])<<8 | uint32(raw[4*w+3])
			c.emit(bpf.LoadScratch{Dst: bpf.RegA, N: first + w})
			if mask != 0xffffffff {
				c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
			}
			last := w == words-1 || wordMask(bits-32*(w+1)) == 0
			if last {
				c.jeq(val&mask, tOK, fail)
			} else {
				c.jeq(val&mask, -1, fail)
			}
		}
		if bits == 0 {
			c.jump(tOK)
		}
	}
	switch n.dir {
	case "src":
		side(5, t, f)
	case "dst":
		side(9, t, f)
	default:
		other := c.label()
		side(5, t, other)
		c.place(other)
		side(9, t, f)
	}
}

// wordMask is the netmask of the first `bits` bits of a 32-bit word.
func wordMask(bits int) uint32 {
	switch {
	case bits <= 0:
		return 0
	case bits >= 32:
		return 0xffffffff
	}
	return ^uint32(0) << (32 - bits)
}

func (c *kcompiler) assemble() ([]bpf.RawInstruction, error) {
	if len(c.ins) > maxKernelInstructions {
		return nil, errTooFar
	}
	target := func(l, i int) (int, error) {
		if l < 0 {
			return 0, nil
		}
		at := c.labels[l]
		skip := at - (i + 1)
		if at < 0 || skip < 0 {
			return 0, fmt.Errorf("kernel filter: internal error: backward or unplaced label")
		}
		return skip, nil
	}
	prog := make([]bpf.Instruction, len(c.ins))
	for i, k := range c.ins {
		switch k.kind {
		case 0:
			prog[i] = k.in
		case 1:
			st, err1 := target(k.jt, i)
			sf, err2 := target(k.jf, i)
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			if st > 255 || sf > 255 {
				return nil, errTooFar
			}
			prog[i] = bpf.JumpIf{Cond: k.cond, Val: k.val, SkipTrue: uint8(st), SkipFalse: uint8(sf)}
		case 2:
			s, err := target(k.ja, i)
			if err != nil {
				return nil, err
			}
			prog[i] = bpf.Jump{Skip: uint32(s)}
		}
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("kernel filter: assemble: %w", err)
	}
	return raw, nil
}
