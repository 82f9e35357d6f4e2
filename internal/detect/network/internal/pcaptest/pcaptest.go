// Package pcaptest builds synthetic Ethernet/IPv4/IPv6 TCP and UDP frames
// for tests: whole conversations with handshakes, sequence numbers and
// timestamps, which tests feed to the engine directly or write as a pcap.
package pcaptest

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Frame is one captured Ethernet frame.
type Frame struct {
	Time time.Time
	Data []byte
}

// Capture accumulates frames.
type Capture struct {
	Frames []Frame
	Now    time.Time
}

// New starts a capture at a fixed time.
func New() *Capture { return &Capture{Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

// Advance moves the clock.
func (c *Capture) Advance(d time.Duration) { c.Now = c.Now.Add(d) }

// Conn is a TCP or UDP conversation between client and server.
type Conn struct {
	c              *Capture
	Client, Server netip.AddrPort
	UDP            bool
	cseq, sseq     uint32
}

// TCP opens a TCP connection with a three-way handshake (rtt apart).
func (c *Capture) TCP(client, server string, rtt time.Duration) *Conn {
	k := &Conn{c: c, Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server), cseq: 1000, sseq: 5000}
	k.frame(true, 0x02, nil)
	k.cseq++
	c.Advance(rtt / 2)
	k.frame(false, 0x12, nil)
	k.sseq++
	c.Advance(rtt / 2)
	k.frame(true, 0x10, nil)
	return k
}

// UDPConn starts a UDP conversation (no packets yet).
func (c *Capture) UDPConn(client, server string) *Conn {
	return &Conn{c: c, Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server), UDP: true}
}

// Send sends payload from the client (fromClient) or the server.
func (k *Conn) Send(fromClient bool, payload []byte) {
	if k.UDP {
		k.frame(fromClient, 0, payload)
		return
	}
	k.frame(fromClient, 0x18, payload)
	if fromClient {
		k.cseq += uint32(len(payload))
	} else {
		k.sseq += uint32(len(payload))
	}
}

// Ack sends a bare ACK.
func (k *Conn) Ack(fromClient bool) { k.frame(fromClient, 0x10, nil) }

// Close sends FINs both ways.
func (k *Conn) Close() {
	k.frame(true, 0x11, nil)
	k.cseq++
	k.frame(false, 0x11, nil)
	k.sseq++
}

func (k *Conn) frame(fromClient bool, flags uint8, payload []byte) {
	src, dst := k.Client, k.Server
	seq, ack := k.cseq, k.sseq
	if !fromClient {
		src, dst = dst, src
		seq, ack = ack, seq
	}
	var l4 []byte
	if k.UDP {
		l4 = make([]byte, 8+len(payload))
		binary.BigEndian.PutUint16(l4[0:], src.Port())
		binary.BigEndian.PutUint16(l4[2:], dst.Port())
		binary.BigEndian.PutUint16(l4[4:], uint16(8+len(payload)))
		copy(l4[8:], payload)
	} else {
		l4 = make([]byte, 20+len(payload))
		binary.BigEndian.PutUint16(l4[0:], src.Port())
		binary.BigEndian.PutUint16(l4[2:], dst.Port())
		binary.BigEndian.PutUint32(l4[4:], seq)
		binary.BigEndian.PutUint32(l4[8:], ack)
		l4[12] = 5 << 4
		l4[13] = flags
		binary.BigEndian.PutUint16(l4[14:], 65535)
		copy(l4[20:], payload)
	}
	proto := byte(6)
	if k.UDP {
		proto = 17
	}
	k.c.Frames = append(k.c.Frames, Frame{Time: k.c.Now, Data: IP(src.Addr(), dst.Addr(), proto, l4)})
}

// IP wraps an L4 segment in IPv4 or IPv6 and Ethernet.
func IP(src, dst netip.Addr, proto byte, l4 []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1})
	if src.Is4() {
		b.Write([]byte{0x08, 0x00})
		h := make([]byte, 20)
		h[0] = 0x45
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(l4)))
		h[8] = 64
		h[9] = proto
		s, d := src.As4(), dst.As4()
		copy(h[12:], s[:])
		copy(h[16:], d[:])
		b.Write(h)
	} else {
		b.Write([]byte{0x86, 0xdd})
		h := make([]byte, 40)
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(len(l4)))
		h[6] = proto
		h[7] = 64
		s, d := src.As16(), dst.As16()
		copy(h[8:], s[:])
		copy(h[24:], d[:])
		b.Write(h)
	}
	b.Write(l4)
	return b.Bytes()
}

// Pcap renders the capture as a classic pcap file (Ethernet).
func (c *Capture) Pcap() ([]byte, error) {
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	for _, f := range c.Frames {
		ci := gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: len(f.Data)}
		if err := w.WritePacket(ci, f.Data); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}
