//go:build linux

package live

import (
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
)

func init() { openSource = openAFPacket }

type afSource struct{ h *afpacket.TPacket }

func (s afSource) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := s.h.ZeroCopyReadPacketData()
	if errors.Is(err, afpacket.ErrTimeout) {
		return nil, ci, errTimeout
	}
	return data, ci, err
}

func (s afSource) LinkType() int { return decode.LinkEthernet }
func (s afSource) Close()        { s.h.Close() }

// openAFPacket opens a TPACKET_V3 ring on the interface (needs
// CAP_NET_RAW). Frames arrive as Ethernet.
func openAFPacket(cfg Config) (source, error) {
	const frame = 1 << 16
	block := frame * 16
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
	return afSource{h}, nil
}
