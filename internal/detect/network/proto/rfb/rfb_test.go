package rfb

import "testing"

func TestHandshake(t *testing.T) {
	server := append([]byte("RFB 003.008\n"), 1, 2)         // one type: VNC auth
	server = append(server, make([]byte, 16)...)            // challenge
	server = append(server, 0, 0, 0, 0)                     // OK
	server = append(server, 0x05, 0, 0x03, 0x20)            // 1280x800
	server = append(server, make([]byte, 16)...)            // pixel format
	server = append(server, 0, 0, 0, 4, 'd', 'e', 's', 'k') // name
	client := append([]byte("RFB 003.008\n"), 2)            // chose VNC auth
	client = append(client, make([]byte, 16)...)            // response
	h, err := Parse(server, client)
	if err != nil || !h.ServerInit || h.Width != 1280 || h.Height != 800 || h.Name != "desk" {
		t.Fatalf("%+v %v", h, err)
	}
	failed := append([]byte("RFB 003.008\n"), 1, 2)
	failed = append(failed, make([]byte, 16)...)
	failed = append(failed, 0, 0, 0, 1)
	if h, _ := Parse(failed, client); h.AuthOK || h.ServerInit {
		t.Errorf("failed auth read as session: %+v", h)
	}
	if h, _ := Parse([]byte("RFB 003.003\n"), nil); h == nil || h.ClientAnswered {
		t.Errorf("banner only: %+v", h)
	}
	if _, err := ParseVersion([]byte("RFB 00x.008\n")); err == nil {
		t.Error("bad version accepted")
	}
}

func FuzzRFB(f *testing.F) {
	f.Add([]byte("RFB 003.008\n\x01\x02"), []byte("RFB 003.008\n\x02"))
	f.Add([]byte("RFB 003.003\n\x00\x00\x00\x01\x00\x00\x00\x00"), []byte("RFB 003.003\n\x01"))
	f.Fuzz(func(t *testing.T, s, c []byte) { _, _ = Parse(s, c) })
}
