package wire

import (
	"bytes"
	"encoding/binary"
)

// TeamViewerTCP reports the TeamViewer TCP framing: payload starts 0x17
// 0x24 (command) or 0x11 0x30 (data).
func TeamViewerTCP(b []byte) bool {
	return len(b) >= 5 && ((b[0] == 0x17 && b[1] == 0x24) || (b[0] == 0x11 && b[1] == 0x30))
}

// TeamViewerUDP reports TeamViewer's UDP peer-to-peer framing: 0x17 0x24
// at offset 11.
func TeamViewerUDP(b []byte) bool {
	return len(b) >= 13 && b[11] == 0x17 && b[12] == 0x24
}

// RadminHello reports the Radmin client handshake "01 00 00 00 01 00 00 00
// 08 08" (or the auth message "01 00 00 00 05 00 00 02 27 27").
func RadminHello(b []byte) bool {
	return bytes.HasPrefix(b, []byte{1, 0, 0, 0, 1, 0, 0, 0, 8, 8}) ||
		bytes.HasPrefix(b, []byte{1, 0, 0, 0, 5, 0, 0, 2, 0x27, 0x27})
}

// CitrixICA reports the ICA detection string the server repeats at the
// start of a session ("\x7f\x7fICA\x00") or the CGP session-reliability
// magic ("\x1aCGP/01").
func CitrixICA(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\x7f\x7fICA\x00")) || bytes.HasPrefix(b, []byte("\x1aCGP/01"))
}

// NoMachineBanner reports the NX banners "NXSH-<ver>" (client) and
// "NXD-<ver>" (server).
func NoMachineBanner(b []byte) bool {
	return (bytes.HasPrefix(b, []byte("NXSH-")) || bytes.HasPrefix(b, []byte("NXD-"))) && len(b) >= 6 && b[len(b)-1] != 0 && digitAfterDash(b)
}

func digitAfterDash(b []byte) bool {
	i := bytes.IndexByte(b, '-')
	return i >= 0 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9'
}

// SplashtopStart reports the 4-byte Splashtop session start "01 00 34 12"
// (client to TCP 6783/6784) or the keepalive with "31 00" at offset 2.
func SplashtopStart(b []byte, n int) bool {
	return n == 4 && len(b) == 4 && (bytes.Equal(b, []byte{1, 0, 0x34, 0x12}) || (b[2] == 0x31 && b[3] == 0))
}

// ScreenConnectHello reports the ScreenConnect/ConnectWise Control relay
// hello: 0x87 then 0x15, 0x1c or 0x12, then "10 00" and zero bytes.
func ScreenConnectHello(b []byte) bool {
	if len(b) < 8 || len(b) >= 600 || b[0] != 0x87 || b[2] != 0x10 || b[3] != 0 {
		return false
	}
	switch b[1] {
	case 0x15, 0x1c, 0x12:
		return b[4] == 0 && b[5] == 0
	}
	return false
}

// RustDesk recognises RustDesk rendezvous messages (protobuf): the
// TCP NAT-type test "14 a2 01 02 08 01", the UDP RegisterPeer
// "32 0d 0a 09", RegisterPk "7a 53 0a 09" and the UDP ping "b2 01 06 0a 04
// ping".
func RustDesk(b []byte) bool {
	return bytes.Equal(b, []byte{0x14, 0xa2, 0x01, 0x02, 0x08, 0x01}) ||
		bytes.HasPrefix(b, []byte{0x32, 0x0d, 0x0a, 0x09}) ||
		bytes.HasPrefix(b, []byte{0x7a, 0x53, 0x0a, 0x09}) ||
		bytes.HasPrefix(b, []byte("\xb2\x01\x06\x0a\x04ping"))
}

// XDMCP recognises an X Display Manager Control Protocol packet: version
// 1, a known opcode and a length matching the datagram.
func XDMCP(b []byte) bool {
	if len(b) < 6 || binary.BigEndian.Uint16(b) != 1 {
		return false
	}
	op := binary.BigEndian.Uint16(b[2:4])
	return op >= 1 && op <= 16 && int(binary.BigEndian.Uint16(b[4:6])) == len(b)-6
}

// RTSPRequest reports an RTSP request line (Sunshine/Moonlight use RTSP on
// TCP 48010 to set up the stream).
func RTSPRequest(b []byte) bool {
	for _, m := range []string{"OPTIONS rtsp://", "DESCRIBE rtsp://", "SETUP rtsp://", "ANNOUNCE rtsp://", "PLAY rtsp://"} {
		if bytes.HasPrefix(b, []byte(m)) {
			return true
		}
	}
	return false
}
