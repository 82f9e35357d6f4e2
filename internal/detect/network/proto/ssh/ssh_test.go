package ssh

import "testing"

func pkt(code byte, n int) []byte {
	l := n + 2
	b := []byte{0, 0, byte(l >> 8), byte(l), 4, code}
	return append(b, make([]byte, n)...)
}

func TestParse(t *testing.T) {
	b := append([]byte("SSH-2.0-OpenSSH_9.6 Ubuntu\r\n"), pkt(MsgKexInit, 40)...)
	b = append(b, pkt(MsgKexInit30, 36)...)
	s, err := Parse(b)
	if err != nil || s.Banner != "SSH-2.0-OpenSSH_9.6 Ubuntu" || s.Software() != "OpenSSH_9.6 Ubuntu" {
		t.Fatalf("%+v %v", s, err)
	}
	if !s.Has(MsgKexInit30) || s.Has(MsgKexReply) {
		t.Errorf("messages %v", s.Messages)
	}
	// Servers may send other lines before the banner.
	if s, err := Parse([]byte("hello\r\nSSH-2.0-x\r\n")); err != nil || s.Banner != "SSH-2.0-x" {
		t.Errorf("%+v %v", s, err)
	}
	if _, err := Parse([]byte("\x16\x03\x01")); err == nil {
		t.Error("TLS parsed as SSH")
	}
}

func FuzzSSH(f *testing.F) {
	f.Add(append([]byte("SSH-2.0-x\r\n"), pkt(20, 8)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := Parse(b); err == nil {
			_ = s.Software()
		}
	})
}
