//go:build linux

package live

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/net/bpf"
)

// classicToEBPF translates a classic BPF program (the configured bpf:
// filter as package filter compiles it for the socket) into eBPF
// instructions that run first in the kernel bypass program, so that the
// filter keeps dropping unwanted packets in the kernel while the bypass
// holds the socket's one program. The kernel does the same translation
// for a classic program it is handed; it offers no way to call that code
// from an eBPF program, and socket filters cannot read packet memory
// directly, so here:
//   - A lives in R7 and X in R8 as 32-bit values (every ALU operation and
//     comparison is the 32-bit form, as classic BPF's are), ctx in ctx;
//   - packet loads go through bpf_skb_load_bytes into a stack slot and are
//     converted from network byte order; a load past the packet's end
//     rejects it, as in classic BPF;
//   - the scratch memory M[0..15] is 64 bytes of stack, zeroed first;
//   - a return of 0, and a division by an X of 0, jump to reject; any
//     other return to accept (the bypass program caps the length itself).
//
// Only the length extension (SKF_AD_PKTTYPE and the other ancillary loads
// have no counterpart here) is supported; anything else is an error, and
// the capture then keeps the classic filter without the bypass.
func classicToEBPF(raw []bpf.RawInstruction, ctx asm.Register, accept, reject string) (asm.Instructions, error) {
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		return nil, errors.New("classic BPF program does not disassemble")
	}
	const (
		a = asm.R7
		x = asm.R8
	)
	label := func(i int) string { return fmt.Sprintf("cbpf%d", i) }
	out := asm.Instructions{asm.Mov.Imm32(a, 0), asm.Mov.Imm32(x, 0)}
	for o := int16(0); o < 64; o += 8 {
		out = append(out, asm.StoreMem(asm.RFP, sMem+o, a, asm.DWord))
	}
	// load appends a load of size bytes at the offset in R2 into dst.
	load := func(dst asm.Register, size int) (asm.Instructions, error) {
		var sz asm.Size
		switch size {
		case 1:
			sz = asm.Byte
		case 2:
			sz = asm.Half
		case 4:
			sz = asm.Word // BPF_W is 0
		default:
			return nil, fmt.Errorf("classic BPF load of %d bytes", size)
		}
		ins := asm.Instructions{
			asm.Mov.Reg(asm.R1, ctx),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, sLoad),
			asm.Mov.Imm(asm.R4, int32(size)),
			asm.FnSkbLoadBytes.Call(),
			asm.JNE.Imm(asm.R0, 0, reject),
			asm.LoadMem(dst, asm.RFP, sLoad, sz),
		}
		if size > 1 {
			ins = append(ins, asm.HostTo(asm.BE, dst, sz))
		}
		return ins, nil
	}
	reg := func(r bpf.Register) asm.Register {
		if r == bpf.RegX {
			return x
		}
		return a
	}
	// The eBPF verifier refuses unreachable code: emit only what the
	// classic program can reach.
	reach := reachable(prog)
	for i, in := range prog {
		if !reach[i] {
			continue
		}
		var ins asm.Instructions
		switch in := in.(type) {
		case bpf.LoadConstant:
			ins = asm.Instructions{asm.Mov.Imm32(reg(in.Dst), int32(in.Val))}
		case bpf.LoadScratch:
			if in.N < 0 || in.N > 15 {
				return nil, fmt.Errorf("classic BPF scratch slot %d", in.N)
			}
			ins = asm.Instructions{asm.LoadMem(reg(in.Dst), asm.RFP, sMem+int16(4*in.N), asm.Word)}
		case bpf.StoreScratch:
			if in.N < 0 || in.N > 15 {
				return nil, fmt.Errorf("classic BPF scratch slot %d", in.N)
			}
			ins = asm.Instructions{asm.StoreMem(asm.RFP, sMem+int16(4*in.N), reg(in.Src), asm.Word)}
		case bpf.LoadAbsolute:
			if in.Off > 1<<30 {
				return nil, fmt.Errorf("classic BPF ancillary load at %#x", in.Off)
			}
			l, err := load(a, in.Size)
			if err != nil {
				return nil, err
			}
			ins = append(asm.Instructions{asm.Mov.Imm(asm.R2, int32(in.Off))}, l...)
		case bpf.LoadIndirect:
			l, err := load(a, in.Size)
			if err != nil {
				return nil, err
			}
			ins = append(asm.Instructions{asm.Mov.Reg32(asm.R2, x), asm.Add.Imm32(asm.R2, int32(in.Off))}, l...)
		case bpf.LoadMemShift:
			l, err := load(x, 1)
			if err != nil {
				return nil, err
			}
			ins = append(asm.Instructions{asm.Mov.Imm(asm.R2, int32(in.Off))}, l...)
			ins = append(ins, asm.And.Imm32(x, 0x0f), asm.LSh.Imm32(x, 2))
		case bpf.LoadExtension:
			if in.Num != bpf.ExtLen {
				return nil, fmt.Errorf("classic BPF extension %d", in.Num)
			}
			ins = asm.Instructions{asm.LoadMem(a, ctx, 0, asm.Word)} // __sk_buff.len
		case bpf.ALUOpConstant:
			op, err := aluOp(in.Op)
			if err != nil {
				return nil, err
			}
			if (in.Op == bpf.ALUOpDiv || in.Op == bpf.ALUOpMod) && in.Val == 0 {
				return nil, errors.New("classic BPF division by a constant 0")
			}
			ins = asm.Instructions{op.Imm32(a, int32(in.Val))}
		case bpf.ALUOpX:
			op, err := aluOp(in.Op)
			if err != nil {
				return nil, err
			}
			if in.Op == bpf.ALUOpDiv || in.Op == bpf.ALUOpMod {
				ins = append(ins, asm.JEq.Imm32(x, 0, reject))
			}
			ins = append(ins, op.Reg32(a, x))
		case bpf.NegateA:
			ins = asm.Instructions{asm.Neg.Imm32(a, 0)}
		case bpf.Jump:
			t, err := jumpTarget(i, int(in.Skip), len(prog), label)
			if err != nil {
				return nil, err
			}
			ins = asm.Instructions{asm.Ja.Label(t)}
		case bpf.JumpIf:
			j, err := condJump(i, len(prog), in.Cond, in.SkipTrue, in.SkipFalse, label,
				func(op asm.JumpOp, l string) asm.Instruction { return op.Imm32(a, int32(in.Val), l) })
			if err != nil {
				return nil, err
			}
			ins = j
		case bpf.JumpIfX:
			j, err := condJump(i, len(prog), in.Cond, in.SkipTrue, in.SkipFalse, label,
				func(op asm.JumpOp, l string) asm.Instruction { return op.Reg32(a, x, l) })
			if err != nil {
				return nil, err
			}
			ins = j
		case bpf.RetA:
			ins = asm.Instructions{asm.JEq.Imm32(a, 0, reject), asm.Ja.Label(accept)}
		case bpf.RetConstant:
			if in.Val == 0 {
				ins = asm.Instructions{asm.Ja.Label(reject)}
			} else {
				ins = asm.Instructions{asm.Ja.Label(accept)}
			}
		case bpf.TAX:
			ins = asm.Instructions{asm.Mov.Reg32(x, a)}
		case bpf.TXA:
			ins = asm.Instructions{asm.Mov.Reg32(a, x)}
		default:
			return nil, fmt.Errorf("classic BPF instruction %d (%v) is not supported", i, in)
		}
		ins[0] = ins[0].WithSymbol(label(i))
		out = append(out, ins...)
	}
	// A classic program ends in a return; one that runs off its end
	// rejects.
	if reach[len(prog)] {
		out = append(out, asm.Ja.Label(reject))
	}
	return out, nil
}

// reachable marks the instructions of prog that can run (index len(prog):
// running off the end), following every jump and fall-through.
func reachable(prog []bpf.Instruction) []bool {
	r := make([]bool, len(prog)+1)
	r[0] = true
	for i, in := range prog {
		if !r[i] {
			continue
		}
		next := func(skip int) {
			if t := i + 1 + skip; t <= len(prog) {
				r[t] = true
			}
		}
		switch in := in.(type) {
		case bpf.RetA, bpf.RetConstant:
		case bpf.Jump:
			next(int(in.Skip))
		case bpf.JumpIf:
			next(int(in.SkipTrue))
			next(int(in.SkipFalse))
		case bpf.JumpIfX:
			next(int(in.SkipTrue))
			next(int(in.SkipFalse))
		default:
			next(0)
		}
	}
	return r
}

// jumpTarget is the label of the instruction skip after i.
func jumpTarget(i, skip, n int, label func(int) string) (string, error) {
	t := i + 1 + skip
	if t >= n {
		return "", fmt.Errorf("classic BPF instruction %d jumps past the end", i)
	}
	return label(t), nil
}

// condJump is a classic conditional jump: to the true or the false
// target, falling through where a skip is 0.
func condJump(i, n int, cond bpf.JumpTest, skipTrue, skipFalse uint8, label func(int) string,
	jump func(asm.JumpOp, string) asm.Instruction) (asm.Instructions, error) {
	tt, err := jumpTarget(i, int(skipTrue), n, label)
	if err != nil {
		return nil, err
	}
	tf, err := jumpTarget(i, int(skipFalse), n, label)
	if err != nil {
		return nil, err
	}
	op, negate := asm.InvalidJumpOp, false
	switch cond {
	case bpf.JumpEqual:
		op = asm.JEq
	case bpf.JumpNotEqual:
		op = asm.JNE
	case bpf.JumpGreaterThan:
		op = asm.JGT
	case bpf.JumpLessThan:
		op = asm.JLT
	case bpf.JumpGreaterOrEqual:
		op = asm.JGE
	case bpf.JumpLessOrEqual:
		op = asm.JLE
	case bpf.JumpBitsSet:
		op = asm.JSet
	case bpf.JumpBitsNotSet:
		op, negate = asm.JSet, true
	default:
		return nil, fmt.Errorf("classic BPF jump condition %d", cond)
	}
	if negate {
		tt, tf = tf, tt
	}
	// Jump to the true target when the test holds, else to the false one.
	return asm.Instructions{jump(op, tt), asm.Ja.Label(tf)}, nil
}

// aluOp maps a classic ALU operation to eBPF's.
func aluOp(op bpf.ALUOp) (asm.ALUOp, error) {
	switch op {
	case bpf.ALUOpAdd:
		return asm.Add, nil
	case bpf.ALUOpSub:
		return asm.Sub, nil
	case bpf.ALUOpMul:
		return asm.Mul, nil
	case bpf.ALUOpDiv:
		return asm.Div, nil
	case bpf.ALUOpOr:
		return asm.Or, nil
	case bpf.ALUOpAnd:
		return asm.And, nil
	case bpf.ALUOpShiftLeft:
		return asm.LSh, nil
	case bpf.ALUOpShiftRight:
		return asm.RSh, nil
	case bpf.ALUOpMod:
		return asm.Mod, nil
	case bpf.ALUOpXor:
		return asm.Xor, nil
	}
	return asm.InvalidALUOp, fmt.Errorf("classic BPF ALU operation %d", op)
}
