package winestats

import (
	"bufio"
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The .bin fixtures are the SDK structures laid out by x86_64-w64-mingw32-gcc
// from testdata/fixtures.c (regenerate with testdata/fixtures.sh); the
// expected values below repeat that file's initializers.

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var wantData = DataROD{
	DataBytesOut:      123456789012,
	DataSegsOut:       100001,
	DataBytesIn:       987654321,
	DataSegsIn:        200002,
	SegsOut:           300003,
	SegsIn:            400004,
	SoftErrors:        5,
	SoftErrorReason:   6,
	SndUna:            0x11111111,
	SndNxt:            0x22222222,
	SndMax:            0x33333333,
	ThruBytesAcked:    0x0123456789ABCDEF,
	RcvNxt:            0x44444444,
	ThruBytesReceived: 0xFEDCBA9876543210,
}

var wantPath = PathROD{
	FastRetran: 0x1000, Timeouts: 0x1001, SubsequentTimeouts: 0x1002,
	CurTimeoutCount: 0x1003, AbruptTimeouts: 0x1004, PktsRetrans: 0x1005,
	BytesRetrans: 0x1006, DupAcksIn: 0x1007, SacksRcvd: 0x1008,
	SackBlocksRcvd: 0x1009, CongSignals: 0x100a, PreCongSumCwnd: 0x100b,
	PreCongSumRtt: 0x100c, PostCongSumRtt: 0x100d, PostCongCountRtt: 0x100e,
	EcnSignals: 0x100f, EceRcvd: 0x1010, SendStall: 0x1011,
	QuenchRcvd: 0x1012, RetranThresh: 0x1013, SndDupAckEpisodes: 0x1014,
	SumBytesReordered: 0x1015, NonRecovDa: 0x1016, NonRecovDaEpisodes: 0x1017,
	AckAfterFr: 0x1018, DsackDups: 0x1019,
	SampleRtt: 31, SmoothedRtt: 23, RttVar: 5, MaxRtt: 140, MinRtt: 9,
	SumRtt: 0x101f, CountRtt: 0x1020, CurRto: 0x1021, MaxRto: 0x1022,
	MinRto: 0x1023, CurMss: 0x1024, MaxMss: 0x1025, MinMss: 0x1026,
	SpuriousRtoDetections: 0x1027,
}

func TestDecodeDataRODFixture(t *testing.T) {
	b := readFixture(t, "data_rod.bin")
	if len(b) != DataRODSize {
		t.Fatalf("fixture is %d bytes, want %d", len(b), DataRODSize)
	}
	got, err := DecodeDataROD(b)
	if err != nil {
		t.Fatal(err)
	}
	if got != wantData {
		t.Errorf("DecodeDataROD =\n%+v\nwant\n%+v", got, wantData)
	}
	// Padding bytes (after SndMax and RcvNxt) and trailing bytes are ignored.
	p := append(bytes.Clone(b), 0xff, 0xff)
	for _, off := range []int{68, 69, 70, 71, 84, 85, 86, 87} {
		p[off] = 0xff
	}
	if got, err := DecodeDataROD(p); err != nil || got != wantData {
		t.Errorf("with padding set: %+v, %v", got, err)
	}
}

func TestDecodePathRODFixture(t *testing.T) {
	b := readFixture(t, "path_rod.bin")
	if len(b) != PathRODSize {
		t.Fatalf("fixture is %d bytes, want %d", len(b), PathRODSize)
	}
	got, err := DecodePathROD(b)
	if err != nil {
		t.Fatal(err)
	}
	if got != wantPath {
		t.Errorf("DecodePathROD =\n%+v\nwant\n%+v", got, wantPath)
	}
}

func TestStats(t *testing.T) {
	got := Stats(wantData, wantPath)
	// Bytes are the acknowledged/received payload octets (ThruBytes*), not
	// DataBytesOut/In, which count retransmissions too.
	want := Counters{RTTms: 23, RTTVarMs: 5, BytesSent: 0x0123456789ABCDEF, BytesReceived: 0xFEDCBA9876543210, SegsSent: 100001, SegsReceived: 200002}
	if got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if got.Zero() {
		t.Error("Zero() on non-zero counters")
	}
	if !Stats(DataROD{SegsOut: 3, SndNxt: 9}, PathROD{CurMss: 1460}).Zero() {
		t.Error("Zero() false for counters without traffic or RTT")
	}
}

func TestDecodeTruncated(t *testing.T) {
	for _, n := range []int{0, 1, DataRODSize - 1} {
		_, err := DecodeDataROD(make([]byte, n))
		if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "TCP_ESTATS_DATA_ROD_v0") || !strings.Contains(err.Error(), strconv.Itoa(n)+" bytes, want 96") {
			t.Errorf("DecodeDataROD(%d bytes) error = %v", n, err)
		}
	}
	for _, n := range []int{0, 3, PathRODSize - 1} {
		_, err := DecodePathROD(make([]byte, n))
		if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "TCP_ESTATS_PATH_ROD_v0") || !strings.Contains(err.Error(), strconv.Itoa(n)+" bytes, want 160") {
			t.Errorf("DecodePathROD(%d bytes) error = %v", n, err)
		}
	}
}

func TestTCPRow(t *testing.T) {
	want := readFixture(t, "tcprow.bin")
	local := netip.MustParseAddrPort("192.168.1.10:51234")
	remote := netip.MustParseAddrPort("203.0.113.7:443")
	got, err := TCPRow(local, remote)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:], want) {
		t.Errorf("TCPRow = % x\nwant   % x", got, want)
	}
	// Port 443 = 0x01bb in network byte order in the low 16 bits.
	if !bytes.Equal(got[16:20], []byte{0x01, 0xbb, 0, 0}) {
		t.Errorf("remote port bytes % x", got[16:20])
	}
	// IPv4-mapped addresses give the same row.
	m, err := TCPRow(netip.MustParseAddrPort("[::ffff:192.168.1.10]:51234"), netip.MustParseAddrPort("[::ffff:203.0.113.7]:443"))
	if err != nil || m != got {
		t.Errorf("mapped: % x, %v", m, err)
	}
	if _, err := TCPRow(netip.MustParseAddrPort("[2001:db8::1]:1"), remote); err == nil {
		t.Error("TCPRow accepted an IPv6 address")
	}
	if _, err := TCPRow(netip.AddrPort{}, remote); err == nil {
		t.Error("TCPRow accepted an invalid address")
	}
}

func TestTCP6Row(t *testing.T) {
	want := readFixture(t, "tcp6row.bin")
	local := netip.MustParseAddrPort("[2001:db8::1]:50000")
	remote := netip.MustParseAddrPort("[fe80::abcd%12]:3389")
	got, err := TCP6Row(local, remote)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:], want) {
		t.Errorf("TCP6Row = % x\nwant    % x", got, want)
	}
	if !bytes.Equal(got[48:52], []byte{0x0d, 0x3d, 0, 0}) { // 3389 = 0x0d3d
		t.Errorf("remote port bytes % x", got[48:52])
	}
	// IPv4 addresses are written IPv4-mapped.
	v4, err := TCP6Row(netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v4[4:20], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}) {
		t.Errorf("mapped local address % x", v4[4:20])
	}
	if _, err := TCP6Row(local, netip.AddrPort{}); err == nil {
		t.Error("TCP6Row accepted an invalid address")
	}
}

func TestScopeID(t *testing.T) {
	for in, want := range map[string]uint32{
		"fe80::1":      0,
		"fe80::1%12":   12,
		"fe80::1%eth0": 0,
		"fe80::1%-1":   0,
		"10.0.0.1":     0,
	} {
		if got := ScopeID(netip.MustParseAddr(in)); got != want {
			t.Errorf("ScopeID(%s) = %d, want %d", in, got, want)
		}
	}
}

// TestLayoutMatchesSDK compares the sizes and offsets the mingw-w64 compiler
// gave the SDK structures (testdata/layout_windows_amd64.txt, written by
// testdata/layout.sh) with the constants and offsets this package uses.
func TestLayoutMatchesSDK(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "layout_windows_amd64.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 2 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		v, err := strconv.ParseUint(fs[1], 10, 64)
		if err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		got[fs[0]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{
		"MIB_TCPROW_size": TCPRowSize, "MIB_TCPROW_dwState": 0, "MIB_TCPROW_dwLocalAddr": 4,
		"MIB_TCPROW_dwLocalPort": 8, "MIB_TCPROW_dwRemoteAddr": 12, "MIB_TCPROW_dwRemotePort": 16,
		"MIB_TCP6ROW_size": TCP6RowSize, "MIB_TCP6ROW_State": 0, "MIB_TCP6ROW_LocalAddr": 4,
		"MIB_TCP6ROW_dwLocalScopeId": 20, "MIB_TCP6ROW_dwLocalPort": 24, "MIB_TCP6ROW_RemoteAddr": 28,
		"MIB_TCP6ROW_dwRemoteScopeId": 44, "MIB_TCP6ROW_dwRemotePort": 48,
		"MIB_TCP_STATE_ESTAB": StateEstablished, "sizeof_MIB_TCP_STATE": 4,
		"DATA_ROD_size": DataRODSize, "DATA_ROD_DataBytesOut": 0, "DATA_ROD_DataSegsOut": 8,
		"DATA_ROD_DataBytesIn": 16, "DATA_ROD_DataSegsIn": 24, "DATA_ROD_SegsOut": 32,
		"DATA_ROD_SegsIn": 40, "DATA_ROD_SoftErrors": 48, "DATA_ROD_SoftErrorReason": 52,
		"DATA_ROD_SndUna": 56, "DATA_ROD_SndNxt": 60, "DATA_ROD_SndMax": 64,
		"DATA_ROD_ThruBytesAcked": 72, "DATA_ROD_RcvNxt": 80, "DATA_ROD_ThruBytesReceived": 88,
		"DATA_RW_size": RWSize, "PATH_RW_size": RWSize,
		"PATH_ROD_size": PathRODSize, "PATH_ROD_SampleRtt": 104, "PATH_ROD_SmoothedRtt": 108,
		"PATH_ROD_RttVar": 112, "PATH_ROD_MaxRtt": 116, "PATH_ROD_MinRtt": 120,
		"PATH_ROD_SumRtt": 124, "PATH_ROD_CountRtt": 128, "PATH_ROD_CurRto": 132,
		"PATH_ROD_CurMss": 144, "PATH_ROD_SpuriousRtoDetections": 156,
		"TcpConnectionEstatsData": TypeData, "TcpConnectionEstatsPath": TypePath,
		"ERROR_NOT_FOUND": ErrorNotFound, "ERROR_ACCESS_DENIED": ErrorAccessDenied,
		"ERROR_INVALID_PARAMETER": ErrorInvalidParameter, "ERROR_NOT_SUPPORTED": ErrorNotSupported,
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s missing from the layout file", k)
		} else if g != w {
			t.Errorf("%s = %d in the SDK, %d here", k, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("layout file has %d entries, test knows %d", len(got), len(want))
	}
}

func FuzzDecodeDataROD(f *testing.F) {
	f.Add(readFixture(f, "data_rod.bin"))
	f.Add([]byte{})
	f.Add(make([]byte, DataRODSize-1))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeDataROD(b)
		if len(b) < DataRODSize {
			if err == nil || !errors.Is(err, ErrTruncated) {
				t.Fatalf("%d bytes: err = %v", len(b), err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		// Decoding depends on the first DataRODSize bytes only.
		if d2, _ := DecodeDataROD(bytes.Clone(b[:DataRODSize])); d2 != d {
			t.Fatalf("prefix decodes differently: %+v vs %+v", d2, d)
		}
		_ = Stats(d, PathROD{})
	})
}

func FuzzDecodePathROD(f *testing.F) {
	f.Add(readFixture(f, "path_rod.bin"))
	f.Add([]byte{})
	f.Add(make([]byte, PathRODSize-1))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePathROD(b)
		if len(b) < PathRODSize {
			if err == nil || !errors.Is(err, ErrTruncated) {
				t.Fatalf("%d bytes: err = %v", len(b), err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if p2, _ := DecodePathROD(bytes.Clone(b[:PathRODSize])); p2 != p {
			t.Fatalf("prefix decodes differently: %+v vs %+v", p2, p)
		}
		c := Stats(DataROD{}, p)
		if c.RTTms != float64(p.SmoothedRtt) || c.RTTVarMs != float64(p.RttVar) {
			t.Fatalf("Stats RTT %v/%v from %d/%d", c.RTTms, c.RTTVarMs, p.SmoothedRtt, p.RttVar)
		}
	})
}

// FuzzRows checks that the row builders never panic and put the ports and
// addresses where Windows reads them.
func FuzzRows(f *testing.F) {
	f.Add([]byte{192, 168, 1, 10}, uint16(51234), []byte{203, 0, 113, 7}, uint16(443))
	f.Add([]byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint16(50000), []byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd}, uint16(3389))
	f.Fuzz(func(t *testing.T, la []byte, lp uint16, ra []byte, rp uint16) {
		l, ok1 := netip.AddrFromSlice(la)
		r, ok2 := netip.AddrFromSlice(ra)
		if !ok1 || !ok2 {
			return
		}
		local, remote := netip.AddrPortFrom(l, lp), netip.AddrPortFrom(r, rp)
		row6, err := TCP6Row(local, remote)
		if err != nil {
			t.Fatal(err)
		}
		if row6[24] != byte(lp>>8) || row6[25] != byte(lp) || row6[50] != 0 || row6[51] != 0 {
			t.Fatalf("local port %d as % x", lp, row6[24:28])
		}
		if l16 := l.As16(); !bytes.Equal(row6[4:20], l16[:]) {
			t.Fatalf("local address %v as % x", l, row6[4:20])
		}
		row4, err := TCPRow(local, remote)
		if l.Unmap().Is4() && r.Unmap().Is4() {
			if err != nil {
				t.Fatal(err)
			}
			if row4[16] != byte(rp>>8) || row4[17] != byte(rp) {
				t.Fatalf("remote port %d as % x", rp, row4[16:20])
			}
			if r4 := r.Unmap().As4(); !bytes.Equal(row4[12:16], r4[:]) {
				t.Fatalf("remote address %v as % x", r, row4[12:16])
			}
		} else if err == nil {
			t.Fatalf("TCPRow accepted %v -> %v", local, remote)
		}
	})
}
