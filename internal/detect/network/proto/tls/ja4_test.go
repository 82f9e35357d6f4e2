package tls

import "testing"

// TestJA4KnownChrome rebuilds a Chrome 143 ClientHello from its published
// JA4_ro (original-order cipher, extension and signature-algorithm lists
// reported by browserleaks/tls.peet.ws) and checks the published JA4.
func TestJA4KnownChrome(t *testing.T) {
	ciphers := []int{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	extOrder := []int{0x002d, 0x0033, 0x0010, 0xfe0d, 0x0017, 0x44cd, 0x0000, 0x000b, 0x000a, 0x002b, 0xff01, 0x0023, 0x0012, 0x0005, 0x000d, 0x001b}
	sigalgs := []int{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
	var cs []byte
	cs = append(cs, u16(0x4a4a)...) // GREASE, ignored
	for _, c := range ciphers {
		cs = append(cs, u16(c)...)
	}
	var exts []byte
	exts = append(exts, ext(0x2a2a, nil)...) // GREASE
	for _, e := range extOrder {
		var d []byte
		switch e {
		case 0x0000:
			name := cat([]byte{0}, u16(len("tls.browserleaks.com")), []byte("tls.browserleaks.com"))
			d = cat(u16(len(name)), name)
		case 0x0010:
			d = cat(u16(12), []byte{2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'})
		case 0x000d:
			var l []byte
			for _, s := range sigalgs {
				l = append(l, u16(s)...)
			}
			d = cat(u16(len(l)), l)
		case 0x002b:
			d = []byte{4, 0x03, 0x04, 0x03, 0x03}
		}
		exts = append(exts, ext(e, d)...)
	}
	body := cat(u16(0x0303), make([]byte, 32), []byte{0}, u16(len(cs)), cs, []byte{1, 0}, u16(len(exts)), exts)
	hs := cat([]byte{1}, u24(len(body)), body)
	ch, err := ParseClientHello(cat([]byte{22, 3, 1}, u16(len(hs)), hs))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ch.JA4('t'), "t13d1516h2_8daaf6152771_d8a2da3f94cd"; got != want {
		t.Errorf("JA4 = %s, want %s", got, want)
	}
}
