//go:build linux

package live

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/net/bpf"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/filter"
	"github.com/farmwatch/farmwatch/internal/detect/network/pcapfile"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

// prefilterExprs: bpf: filters an administrator might set, matching and
// rejecting frames of the recordings (laptops 10.200.0.2 and 10.210.0.2,
// far ends 10.200.1.1 and 10.210.0.1).
var prefilterExprs = []string{
	"tcp", "udp", "icmp or icmp6", "ip6", "ip and tcp", "port 443", "tcp port 5900", "udp portrange 1190-1200",
	"src port 22", "dst port 5900 or dst port 3389", "not port 443", "host 10.210.0.1", "not host 10.200.1.1",
	"net 10.210.0.0/16 and not port 53", "src net 10.200.0.0/24", "dst host 2001:db8::1", "proto 50",
	"not (tcp and (port 80 or port 443)) and not udp port 53", "net 10.0.0.0 mask 255.0.0.0 and udp",
}

// TestPrefilterTranslation runs every filter of prefilterExprs, as package
// filter compiles it for the socket, two ways over real frames of the
// project's recordings: as the classic program in x/net/bpf's VM (the
// kernel's classic semantics) and translated into the kernel bypass
// program (classicToEBPF) in the kernel itself (BPF_PROG_TEST_RUN, the map
// empty): every frame must be accepted or dropped alike.
func TestPrefilterTranslation(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "loading and running an eBPF program needs root / CAP_BPF")
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "..", "testdata", "pcaps", "*.pcap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	// The test run takes an Ethernet frame and hands a socket filter the
	// packet from its IP header: the raw-IP link type, which the classic
	// program gets too.
	var frames [][]byte
	for _, file := range files {
		r, err := pcapfile.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		m := pcapfile.NewMerger(r)
		for n := 0; n < 100; {
			err := m.Next(func(pk *pcapfile.Packet) {
				if pk.LinkType != decode.LinkEthernet || len(pk.Data) < 14+20 {
					return
				}
				if et := uint16(pk.Data[12])<<8 | uint16(pk.Data[13]); et != 0x0800 && et != 0x86dd {
					return
				}
				frames = append(frames, append([]byte(nil), pk.Data...))
				n++
			})
			if err == io.EOF {
				break
			}
		}
		r.Close()
	}
	for _, expr := range prefilterExprs {
		f, err := filter.Compile(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		raw, err := f.Kernel(decode.LinkRaw)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		ins, ok := bpf.Disassemble(raw)
		if !ok {
			t.Fatalf("%q does not disassemble", expr)
		}
		vm, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		kb, err := newKernelBypass(decode.LinkRaw, 0, raw)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		accepted := 0
		for _, fr := range frames {
			want, err := vm.Run(fr[14:])
			if err != nil {
				t.Fatalf("%q: VM: %v", expr, err)
			}
			got, err := kb.prog.Run(&ebpf.RunOptions{Data: fr})
			if err != nil {
				t.Fatalf("%q: %v", expr, err)
			}
			if (want != 0) != (got != 0) {
				t.Fatalf("%q: the classic program returns %d, the bypass with it translated %d, for %x", expr, want, got, fr[14:min(len(fr), 78)])
			}
			if got != 0 {
				accepted++
			}
		}
		kb.Close()
		t.Logf("%q: %d of %d frames accepted", expr, accepted, len(frames))
		if accepted == 0 && expr != "dst host 2001:db8::1" && expr != "proto 50" {
			t.Errorf("%q accepted nothing: the comparison proves little", expr)
		}
	}
	if len(frames) < 3000 {
		t.Fatalf("only %d frames", len(frames))
	}
}

// TestPrefilterTranslationRefuses: programs the translation cannot run
// faithfully are refused with an error, never loaded half right.
func TestPrefilterTranslationRefuses(t *testing.T) {
	for name, prog := range map[string][]bpf.Instruction{
		"ancillary load": {bpf.LoadAbsolute{Off: 0xfffff000 + 4, Size: 2}, bpf.RetA{}},
		"extension":      {bpf.LoadExtension{Num: bpf.ExtProto}, bpf.RetA{}},
		"jump past end":  {bpf.Jump{Skip: 5}, bpf.RetConstant{Val: 1}},
		"div by 0":       {bpf.ALUOpConstant{Op: bpf.ALUOpDiv, Val: 0}, bpf.RetA{}},
	} {
		raw, err := bpf.Assemble(prog)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := classicToEBPF(raw, asm.R6, "a", "r"); err == nil {
			t.Errorf("%s: translated", name)
		}
	}
}

// FuzzClassicToEBPF: whatever classic program it is handed, the
// translation returns instructions or an error, never a panic.
func FuzzClassicToEBPF(f *testing.F) {
	for _, expr := range prefilterExprs[:4] {
		flt, err := filter.Compile(expr)
		if err != nil {
			f.Fatal(err)
		}
		raw, err := flt.Kernel(decode.LinkEthernet)
		if err != nil {
			f.Fatal(err)
		}
		var b []byte
		for _, r := range raw {
			b = append(b, byte(r.Op), byte(r.Op>>8), r.Jt, r.Jf, byte(r.K), byte(r.K>>8), byte(r.K>>16), byte(r.K>>24))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var raw []bpf.RawInstruction
		for ; len(b) >= 8; b = b[8:] {
			raw = append(raw, bpf.RawInstruction{Op: uint16(b[0]) | uint16(b[1])<<8, Jt: b[2], Jf: b[3],
				K: uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24})
		}
		_, _ = classicToEBPF(raw, asm.R6, "accept", "reject")
	})
}
