package wire

import (
	"bytes"
	"encoding/binary"
)

// WireGuard message types (first byte; the next three bytes are zero in
// standard WireGuard and carry a client id in Cloudflare WARP).
const (
	WGInitiation = 1 // 148 bytes
	WGResponse   = 2 // 92 bytes
	WGCookie     = 3 // 64 bytes
	WGData       = 4 // ≥ 32 bytes, multiple of 16
)

// WireGuardType returns the WireGuard message type of datagram b (with its
// original length n), or 0. reservedZero requires bytes 1..3 to be zero
// (standard WireGuard); WARP leaves them non-zero.
func WireGuardType(b []byte, n int, reservedZero bool) int {
	if len(b) < 4 || (reservedZero && (b[1] != 0 || b[2] != 0 || b[3] != 0)) {
		return 0
	}
	switch {
	case b[0] == WGInitiation && n == 148,
		b[0] == WGResponse && n == 92,
		b[0] == WGCookie && n == 64,
		b[0] == WGData && n >= 32 && (n-16)%16 == 0:
		return int(b[0])
	}
	return 0
}

// TailscaleDisco reports a Tailscale discovery message: magic "TS💬".
func TailscaleDisco(b []byte) bool {
	return bytes.HasPrefix(b, []byte("TS\xf0\x9f\x92\xac"))
}

// OpenVPN opcodes (top five bits of the first byte).
const (
	OVPNHardResetClientV1 = 1
	OVPNHardResetServerV1 = 2
	OVPNHardResetClientV2 = 7
	OVPNHardResetServerV2 = 8
	OVPNHardResetClientV3 = 10
)

// OpenVPNReset checks a client's and server's first packets (without the
// TCP length prefix) for the control-channel hard-reset exchange: the
// client opens with a HARD_RESET_CLIENT and the server answers with a
// HARD_RESET_SERVER that acknowledges the client's 8-byte session id.
func OpenVPNReset(c, s []byte) bool {
	if len(c) < 14 || len(s) < 14 {
		return false
	}
	co, so := c[0]>>3, s[0]>>3
	if !(co == OVPNHardResetClientV2 || co == OVPNHardResetClientV3 || co == OVPNHardResetClientV1) {
		return false
	}
	if !(so == OVPNHardResetServerV2 || so == OVPNHardResetServerV1) {
		return false
	}
	sid := c[1:9]
	return bytes.Contains(s[9:], sid)
}

// OpenVPNTCP strips the two-byte length of OpenVPN over TCP, checking it
// matches the first packet.
func OpenVPNTCP(b []byte) ([]byte, bool) {
	if len(b) < 16 {
		return nil, false
	}
	l := int(binary.BigEndian.Uint16(b))
	if l < 14 || l > 1600 || l > len(b)-2 {
		return nil, false
	}
	return b[2 : 2+l], true
}

// IKE recognises an ISAKMP/IKE header: initiator SPI non-zero, version
// 1.0 or 2.0, a known exchange type and a length equal to the datagram.
// natt strips the four-zero-byte non-ESP marker used on UDP 4500.
func IKE(b []byte, n int, natt bool) (version int, ok bool) {
	if natt {
		if len(b) < 4 || binary.BigEndian.Uint32(b) != 0 {
			return 0, false
		}
		b, n = b[4:], n-4
	}
	if len(b) < 28 {
		return 0, false
	}
	if binary.BigEndian.Uint64(b[0:8]) == 0 {
		return 0, false
	}
	ver := b[17]
	ex := b[18]
	l := int(binary.BigEndian.Uint32(b[24:28]))
	if l != n {
		return 0, false
	}
	switch ver {
	case 0x10:
		if ex >= 1 && ex <= 5 || ex == 32 || ex == 33 {
			return 1, true
		}
	case 0x20:
		if ex >= 34 && ex <= 37 {
			return 2, true
		}
	}
	return 0, false
}

// ESPinUDP reports a NAT-T encapsulated ESP datagram on UDP 4500: a
// non-zero SPI and a sequence number.
func ESPinUDP(b []byte) bool {
	return len(b) >= 16 && binary.BigEndian.Uint32(b) != 0 && binary.BigEndian.Uint32(b) != 0xffffffff
}
