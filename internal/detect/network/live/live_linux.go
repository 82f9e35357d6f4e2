//go:build linux

package live

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/net/bpf"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
)

func init() { openSource = openAFPacket }

type afSource struct {
	h    *afpacket.TPacket
	link int
}

func (s afSource) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := s.h.ZeroCopyReadPacketData()
	if errors.Is(err, afpacket.ErrTimeout) {
		return nil, ci, errTimeout
	}
	return data, ci, err
}

func (s afSource) LinkType() int { return s.link }

// SetKernelFilter attaches a classic BPF program to the AF_PACKET socket.
func (s afSource) SetKernelFilter(prog []bpf.RawInstruction) error {
	if err := s.h.SetBPF(prog); err != nil {
		return fmt.Errorf("attach BPF filter: %w", err)
	}
	return nil
}
func (s afSource) Close() { s.h.Close() }

// AttachBypass loads the kernel bypass program and attaches it with
// SO_ATTACH_BPF, replacing the classic snap cap (which stays if this
// fails).
func (s afSource) AttachBypass(link, snap int, pre []bpf.RawInstruction) (bypassHandle, error) {
	kb, err := newKernelBypass(link, snap, pre)
	if err != nil {
		return nil, err
	}
	if err := s.h.SetEBPF(int32(kb.prog.FD())); err != nil {
		kb.Close()
		return nil, fmt.Errorf("%w: SO_ATTACH_BPF: %w", errNoBypass, err)
	}
	return kb, nil
}

// KernelStats returns the socket's PACKET_STATISTICS since it was opened
// (the kernel clears them on each read; afpacket accumulates).
func (s afSource) KernelStats() (packets, drops, freezes uint64, err error) {
	_, v3, err := s.h.SocketStats()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("PACKET_STATISTICS: %w", err)
	}
	return uint64(v3.Packets()), uint64(v3.Drops()), uint64(v3.QueueFreezes()), nil
}

// openAFPacket opens a TPACKET_V3 ring on the interface (needs
// CAP_NET_RAW). Frames arrive as Ethernet.
//
// With TPACKET_V3 the kernel packs frames of any length into blocks, so
// the ring's frame size is only bookkeeping: what is copied per packet is
// set by the kernel program's return value (SnapLen, attachKernelFilter).
// Blocks of 128 KiB hold a coalesced 64 KiB frame should the program be
// refused, and give a 2 MiB ring 16 blocks to rotate through.
func openAFPacket(cfg Config) (source, error) {
	const frame = 1 << 13
	const block = 1 << 17
	blocks := cfg.RingBytes / block
	if blocks < 2 {
		blocks = 2
	}
	h, err := afpacket.NewTPacket(
		afpacket.OptInterface(cfg.Interface),
		afpacket.OptFrameSize(frame),
		afpacket.OptBlockSize(block),
		afpacket.OptNumBlocks(blocks),
		afpacket.OptPollTimeout(cfg.PollTimeout),
		afpacket.TPacketVersion3,
	)
	if err != nil {
		return nil, fmt.Errorf("open AF_PACKET socket: %w", err)
	}
	link, err := linkTypeOf(cfg.Interface)
	if err != nil {
		h.Close()
		return nil, err
	}
	return afSource{h: h, link: link}, nil
}

// sysClassNet is where interface types are read (a variable for tests).
var sysClassNet = "/sys/class/net"

// linkTypeOf maps the interface's ARPHRD type to how AF_PACKET frames
// arrive: with an Ethernet header (Ethernet, loopback, Wi-Fi), or as bare IP
// packets (tun devices of VPNs: WireGuard, OpenVPN tun, Tailscale, Wintun
// equivalents), which would otherwise decode as garbage.
func linkTypeOf(iface string) (int, error) {
	b, err := os.ReadFile(filepath.Join(sysClassNet, iface, "type"))
	if err != nil {
		return 0, fmt.Errorf("interface type of %s: %w", iface, err)
	}
	return linkForARPHRD(strings.TrimSpace(string(b)))
}

func linkForARPHRD(t string) (int, error) {
	switch t {
	case "1", "772": // ARPHRD_ETHER, ARPHRD_LOOPBACK (zeroed Ethernet header)
		return decode.LinkEthernet, nil
	case "65534", "776", "778": // ARPHRD_NONE (tun), ARPHRD_SIT, ARPHRD_IPGRE: bare IP
		return decode.LinkRaw, nil
	}
	return 0, fmt.Errorf("interface link type %s (ARPHRD) is not supported for capture", t)
}
