package wire

import (
	"bytes"
	"testing"
)

func TestVPN(t *testing.T) {
	init := append([]byte{1, 0, 0, 0}, make([]byte, 144)...)
	if WireGuardType(init, 148, true) != WGInitiation || WireGuardType(init, 147, true) != 0 {
		t.Error("WireGuard initiation")
	}
	warp := append([]byte{2, 9, 9, 9}, make([]byte, 88)...)
	if WireGuardType(warp, 92, true) != 0 || WireGuardType(warp, 92, false) != WGResponse {
		t.Error("WARP response")
	}
	if !TailscaleDisco([]byte("TS\xf0\x9f\x92\xacxx")) || TailscaleDisco([]byte("TS")) {
		t.Error("disco")
	}
	sid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	c := append(append([]byte{7 << 3}, sid...), make([]byte, 20)...)
	s := append(append([]byte{8 << 3}, bytes.Repeat([]byte{9}, 8)...), append([]byte{1, 0, 0, 0, 0}, sid...)...)
	if !OpenVPNReset(c, s) {
		t.Error("OpenVPN reset")
	}
	s[0] = 4 << 3
	if OpenVPNReset(c, s) {
		t.Error("OpenVPN wrong server opcode accepted")
	}
	ike := make([]byte, 28)
	ike[0], ike[17], ike[18], ike[27] = 1, 0x20, 34, 28
	if v, ok := IKE(ike, 28, false); !ok || v != 2 {
		t.Error("IKEv2 SA_INIT")
	}
	if _, ok := IKE(append([]byte{0, 0, 0, 0}, ike...), 32, true); !ok {
		t.Error("IKE NAT-T")
	}
}

func TestRemote(t *testing.T) {
	checks := []struct {
		name string
		ok   bool
	}{
		{"teamviewer tcp", TeamViewerTCP([]byte{0x17, 0x24, 0x0a, 0, 0})},
		{"teamviewer udp", TeamViewerUDP(append(make([]byte, 11), 0x17, 0x24))},
		{"radmin", RadminHello([]byte{1, 0, 0, 0, 1, 0, 0, 0, 8, 8})},
		{"citrix", CitrixICA([]byte("\x7f\x7fICA\x00\x7f\x7fICA\x00"))},
		{"nomachine", NoMachineBanner([]byte("NXSH-8.10.1\n"))},
		{"splashtop", SplashtopStart([]byte{1, 0, 0x34, 0x12}, 4)},
		{"screenconnect", ScreenConnectHello(append([]byte{0x87, 0x1c, 0x10, 0}, make([]byte, 12)...))},
		{"rustdesk", RustDesk([]byte("\xb2\x01\x06\x0a\x04ping"))},
		{"xdmcp", XDMCP([]byte{0, 1, 0, 2, 0, 1, 0})},
		{"rtsp", RTSPRequest([]byte("OPTIONS rtsp://h:48010 RTSP/1.0\r\n"))},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s not recognised", c.name)
		}
	}
	zero := make([]byte, 64)
	if TeamViewerTCP(zero) || RadminHello(zero) || CitrixICA(zero) || NoMachineBanner([]byte("NXSH-x")) || ScreenConnectHello(zero) || RustDesk(zero) || XDMCP(zero) {
		t.Error("zeros matched a signature")
	}
}

func TestWebSocket(t *testing.T) {
	key := []byte{1, 2, 3, 4}
	msg := []byte("SSH-2.0-x")
	masked := append([]byte{0x82, 0x80 | byte(len(msg))}, key...)
	for i, c := range msg {
		masked = append(masked, c^key[i%4])
	}
	if got := WebSocketPayload(masked); string(got) != string(msg) {
		t.Errorf("got %q", got)
	}
}

func FuzzWire(f *testing.F) {
	f.Add([]byte{0x82, 0xfe, 0, 4, 1, 2, 3, 4, 5}, []byte{0x40, 1, 2})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		_ = WebSocketPayload(a)
		_ = OpenVPNReset(a, b)
		_, _ = OpenVPNTCP(a)
		_, _ = IKE(a, len(a), true)
		_, _ = IKE(a, len(a), false)
		_ = WireGuardType(a, len(a), false)
		_ = TeamViewerUDP(a)
		_ = XDMCP(a)
		_ = NoMachineBanner(a)
		_ = ScreenConnectHello(a)
		_ = SplashtopStart(a, len(a))
	})
}
