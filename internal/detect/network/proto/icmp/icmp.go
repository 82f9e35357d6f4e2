// Package icmp looks at ICMP and ICMPv6 echo messages for what ping
// programs put in them and what tunnels put there instead. ping's payload
// is an optional timestamp followed by an incrementing byte pattern
// (iputils, BSD, macOS, busybox), zeros, or Windows' repeating alphabet,
// and the reply echoes the request. A tunnel (ptunnel-ng, icmptunnel,
// hans, pingtunnel) carries its own framing or encrypted data, of varying
// length, and answers with different bytes.
package icmp

import (
	"encoding/binary"
	"errors"
	"math"
)

// Echo types.
const (
	EchoRequest   = 8
	EchoReply     = 0
	EchoRequestV6 = 128
	EchoReplyV6   = 129
)

// Magics of ptunnel (0.72, 0xD5200880) and ptunnel-ng (0xDEADC0DE by
// default, seen on Debian's ptunnel-ng 1.42): the first payload word.
const (
	PtunnelMagic   = 0xD5200880
	PtunnelNGMagic = 0xDEADC0DE
)

// ErrNotEcho means the bytes are not an ICMP echo message.
var ErrNotEcho = errors.New("not an ICMP echo message")

// Echo is an echo request or reply.
type Echo struct {
	Reply    bool
	ID, Seq  uint16
	Payload  []byte // aliases the input
	Checksum uint16
}

// ParseEcho reads an ICMP (v6 false) or ICMPv6 echo message.
func ParseEcho(b []byte, v6 bool) (Echo, error) {
	if len(b) < 8 || b[1] != 0 {
		return Echo{}, ErrNotEcho
	}
	req, rep := byte(EchoRequest), byte(EchoReply)
	if v6 {
		req, rep = EchoRequestV6, EchoReplyV6
	}
	if b[0] != req && b[0] != rep {
		return Echo{}, ErrNotEcho
	}
	return Echo{Reply: b[0] == rep, Checksum: binary.BigEndian.Uint16(b[2:]),
		ID: binary.BigEndian.Uint16(b[4:]), Seq: binary.BigEndian.Uint16(b[6:]), Payload: b[8:]}, nil
}

// Ptunnel returns ptunnel's or ptunnel-ng's default magic when an echo
// payload starts with it (0 otherwise). ptunnel's header follows the
// magic: destination address and port, state, ack, data length, sequence
// and id, 28 bytes in all.
func Ptunnel(payload []byte) uint32 {
	if len(payload) < 28 {
		return 0
	}
	switch m := binary.BigEndian.Uint32(payload); m {
	case PtunnelMagic, PtunnelNGMagic:
		return m
	}
	return 0
}

// PingLike reports whether an echo payload is what a ping program sends:
// empty; all one byte value (zeros, or ping -p with one byte); an
// incrementing byte sequence after a timestamp of 0, 8 or 16 bytes
// (iputils/BSD/busybox use 8 or 16); a repeating short pattern (ping -p,
// Windows' "abcdefghijklmnopqrstuvwabcdefghi").
func PingLike(p []byte) bool {
	if len(p) <= 8 {
		return true // too short to carry anything but a timestamp
	}
	for _, skip := range []int{0, 8, 16} {
		if len(p) <= skip {
			break
		}
		if incrementing(p[skip:]) || repeating(p[skip:]) {
			return true
		}
	}
	return false
}

// incrementing: each byte is the previous one plus one (mod 256).
func incrementing(b []byte) bool {
	if len(b) < 4 {
		return true
	}
	for i := 1; i < len(b); i++ {
		if b[i] != b[i-1]+1 {
			return false
		}
	}
	return true
}

// repeating: b repeats a pattern of at most 23 bytes (Windows' alphabet
// a…w has period 23; ping -p takes up to 16 bytes).
func repeating(b []byte) bool {
	for period := 1; period <= 23 && period < len(b); period++ {
		ok := true
		for i := period; i < len(b); i++ {
			if b[i] != b[i-period] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Entropy is the Shannon entropy of b in bits per byte.
func Entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var n [256]int
	for _, c := range b {
		n[c]++
	}
	e := 0.0
	l := float64(len(b))
	for _, c := range n {
		if c > 0 {
			p := float64(c) / l
			e -= p * math.Log2(p)
		}
	}
	return e
}
