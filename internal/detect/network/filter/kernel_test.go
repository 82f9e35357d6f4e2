package filter

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/pcapfile"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

var kernelExprs = []string{
	"tcp", "udp", "icmp or icmp6", "esp", "ip6", "ip and tcp",
	"port 443", "tcp port 3389", "udp portrange 3478-3481", "src port 22", "dst port 5900 or dst port 5938",
	"not port 443", "host 192.168.1.10", "net 10.0.0.0/8 and not port 53", "src net 192.168.0.0/16",
	"dst host 2001:db8::1", "net fe80::/10", "net 172.16.0.0 mask 255.240.0.0", "proto 47",
	"not (tcp and (port 80 or port 443)) and not udp port 53", "host 8.8.8.8 or host 2001:4860:4860::8888",
}

// kernelAccepts runs prog in x/net/bpf's VM (the same semantics as the
// kernel's classic BPF interpreter).
func kernelVM(t testing.TB, raw []bpf.RawInstruction) *bpf.VM {
	t.Helper()
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("program does not disassemble")
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatalf("VM: %v", err)
	}
	return vm
}

// TestKernelFilterIsASupersetOnRealCaptures compiles each expression for
// every supported link type and runs it over every frame of the public
// captures and the project's own recordings: a frame the user-space filter
// matches must never be dropped by the kernel program. It also reports how
// much the kernel program drops of what Match rejects.
func TestKernelFilterIsASupersetOnRealCaptures(t *testing.T) {
	var files []string
	if dir := os.Getenv("FARMWATCH_SHARED"); dir != "" {
		_ = filepath.WalkDir(filepath.Join(dir, "data", "pcaps"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.Contains(p, ".pcap")) {
				files = append(files, p)
			}
			return nil
		})
	} else if testenv.E2E() {
		t.Fatal("FARMWATCH_E2E=1 but FARMWATCH_SHARED is not set: the public captures in ../shared/data/pcaps are needed")
	}
	own, _ := filepath.Glob("../../../../testdata/pcaps/*.pcap")
	files = append(files, own...)
	if len(own) == 0 {
		t.Fatal("the project's recorded captures are missing")
	}
	type prog struct {
		f  *Filter
		vm map[int]*bpf.VM
	}
	var progs []prog
	for _, e := range kernelExprs {
		f, err := Compile(e)
		if err != nil {
			t.Fatal(err)
		}
		p := prog{f: f, vm: map[int]*bpf.VM{}}
		for _, lt := range []int{decode.LinkEthernet, decode.LinkRaw, decode.LinkNull} {
			raw, err := f.Kernel(lt)
			if err != nil {
				t.Fatalf("%q link %d: %v", e, lt, err)
			}
			p.vm[lt] = kernelVM(t, raw)
		}
		progs = append(progs, p)
	}
	var frames, matched, rejected, kernelDropped int
	var pkt decode.Packet
	for _, file := range files {
		r, err := pcapfile.Open(file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var fr pcapfile.Packet
		for {
			if err := r.Next(&fr); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Logf("%s: %v", file, err)
				}
				break
			}
			lt := fr.LinkType
			if lt == decode.LinkLoop {
				lt = decode.LinkNull
			}
			if lt == decode.LinkIPv4 || lt == decode.LinkIPv6 {
				lt = decode.LinkRaw
			}
			if decode.Decode(fr.LinkType, fr.Data, &pkt) != nil {
				continue
			}
			frames++
			for _, p := range progs {
				vm := p.vm[lt]
				if vm == nil {
					continue
				}
				n, err := vm.Run(fr.Data)
				if err != nil {
					t.Fatalf("%s: VM: %v", file, err)
				}
				if p.f.Match(&pkt) {
					matched++
					if n == 0 {
						t.Fatalf("%s: %q: the kernel program drops a frame Match accepts (%s:%d → %d)", filepath.Base(file), p.f, ipOf(&pkt, true), pkt.SrcPort, pkt.DstPort)
					}
				} else {
					rejected++
					if n == 0 {
						kernelDropped++
					}
				}
			}
		}
		r.Close()
	}
	if frames < 1000 || matched == 0 || rejected == 0 {
		t.Fatalf("too little tested: %d frames, %d matched, %d rejected", frames, matched, rejected)
	}
	frac := float64(kernelDropped) / float64(rejected)
	t.Logf("%d files, %d frames × %d expressions: %d matches all kept; %d of %d rejections (%.1f%%) already dropped in the kernel",
		len(files), frames, len(progs), matched, kernelDropped, rejected, 100*frac)
	if frac < 0.95 {
		t.Errorf("the kernel program drops only %.1f%% of what Match rejects", 100*frac)
	}
}

func ipOf(p *decode.Packet, src bool) string {
	b := p.Dst
	if src {
		b = p.Src
	}
	if p.V6 {
		return "v6"
	}
	return strings.Join([]string{itoa(b[0]), itoa(b[1]), itoa(b[2]), itoa(b[3])}, ".")
}

func itoa(b byte) string {
	return string(rune('0'+b/100)) + string(rune('0'+b/10%10)) + string(rune('0'+b%10))
}

func TestKernelEmptyAndUnsupported(t *testing.T) {
	f, _ := Compile("")
	if raw, err := f.Kernel(decode.LinkEthernet); raw != nil || err != nil {
		t.Errorf("empty filter: %v %v", raw, err)
	}
	f, _ = Compile("tcp")
	if _, err := f.Kernel(decode.LinkSLL); err == nil {
		t.Error("SLL accepted")
	}
	// A huge expression is refused cleanly instead of producing jumps that
	// cannot reach.
	big := strings.Repeat("host 10.0.0.1 or ", 400) + "host 10.0.0.2"
	f, err := Compile(big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Kernel(decode.LinkEthernet); err == nil {
		t.Error("oversized program accepted")
	}
}

// FuzzKernelFilter: arbitrary frames never make the kernel program drop
// what Match accepts, and never make the VM fail.
func FuzzKernelFilter(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0, 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 22, 1, 187, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 2, 0, 0, 0, 0, 0, 0}, uint8(0))
	var progs []*Filter
	var vms []*bpf.VM
	for _, e := range kernelExprs {
		flt, err := Compile(e)
		if err != nil {
			f.Fatal(err)
		}
		raw, err := flt.Kernel(decode.LinkEthernet)
		if err != nil {
			f.Fatal(err)
		}
		progs = append(progs, flt)
		vms = append(vms, kernelVM(f, raw))
	}
	f.Fuzz(func(t *testing.T, frame []byte, which uint8) {
		i := int(which) % len(progs)
		n, err := vms[i].Run(frame)
		if err != nil {
			t.Fatalf("VM: %v", err)
		}
		var p decode.Packet
		if decode.Decode(decode.LinkEthernet, frame, &p) == nil && progs[i].Match(&p) && n == 0 {
			t.Fatalf("%q: kernel drops a frame Match accepts", progs[i])
		}
	})
}
