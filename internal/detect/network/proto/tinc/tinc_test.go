package tinc

import "testing"

// The first bytes each side of a tinc 1.0.36 meta connection sent (Debian
// 12, recorded in testdata/pcaps/zoo-tinc.pcap).
const (
	client = "0 farm 17\n"
	server = "0 hq 17\n1 429 672 0 0 3B5235FDB918AC6D1781F7AF8786F97790D9C1C655BCDCDFA0B0E1421B"
)

func TestParse(t *testing.T) {
	id, err := Parse([]byte(client))
	if err != nil || id.Name != "farm" || id.Major != 17 || id.Minor != 0 || id.MetaKey {
		t.Fatalf("%+v %v", id, err)
	}
	id, err = Parse([]byte(server))
	if err != nil || id.Name != "hq" || !id.MetaKey {
		t.Fatalf("%+v %v", id, err)
	}
	// tinc 1.1 announces a minor version (SPTPS from 17.2 on).
	if id, err := Parse([]byte("0 node_2 17.7\n")); err != nil || id.Minor != 7 {
		t.Fatalf("%+v %v", id, err)
	}
	for _, bad := range []string{"", "0 farm 17", "0 farm 18\n", "0 fa-rm 17\n", "1 farm 17\n", "GET / HTTP/1.1\r\n", "0 farm 17.x\n"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzTinc(f *testing.F) {
	f.Add([]byte(client))
	f.Add([]byte(server))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = Parse(b) })
}
