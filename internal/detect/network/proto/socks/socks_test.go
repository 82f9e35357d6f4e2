package socks

import "testing"

func TestSOCKS(t *testing.T) {
	// SOCKS5, no auth, CONNECT example.com:80.
	c := append([]byte{5, 1, 0, 5, 1, 0, 3, 11}, append([]byte("example.com"), 0, 80)...)
	s := []byte{5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	sess, err := Parse(c, s)
	if err != nil || sess.Version != 5 || sess.Target != "example.com:80" || !sess.Granted || sess.Command != 1 {
		t.Fatalf("%+v %v", sess, err)
	}
	// SOCKS4a CONNECT host:443.
	c4 := append([]byte{4, 1, 1, 0xbb, 0, 0, 0, 1, 'u', 0}, append([]byte("host.test"), 0)...)
	sess, err = Parse(c4, []byte{0, 90, 0, 0, 0, 0, 0, 0})
	if err != nil || sess.Version != 4 || sess.Target != "host.test:443" || !sess.Granted {
		t.Fatalf("%+v %v", sess, err)
	}
	for _, bad := range [][2][]byte{{[]byte("GET / HTTP/1.1"), nil}, {{5, 1, 0}, []byte("HTTP/1.1")}, {{4, 1, 0, 80, 1, 2, 3, 4, 0}, {1, 2}}} {
		if _, err := Parse(bad[0], bad[1]); err == nil {
			t.Errorf("%q parsed", bad[0])
		}
	}
}

func FuzzSOCKS(f *testing.F) {
	f.Add([]byte{5, 1, 0, 5, 1, 0, 1, 1, 2, 3, 4, 0, 80}, []byte{5, 0, 5, 0})
	f.Add([]byte{4, 1, 0, 80, 0, 0, 0, 1, 0, 'h', 0}, []byte{0, 90, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, c, s []byte) { _, _ = Parse(c, s) })
}
