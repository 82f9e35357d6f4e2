package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
)

type bpfRec struct {
	sec, usec int32
	hdrlen    uint16
	datalen   uint32
	data      []byte
}

// bpfBuffer lays records out as XNU's catchpacket does: each at a 4-byte
// aligned offset, no padding after the last one.
func bpfBuffer(recs ...bpfRec) []byte {
	var b []byte
	for i, r := range recs {
		h := make([]byte, r.hdrlen)
		binary.LittleEndian.PutUint32(h[0:], uint32(r.sec))
		binary.LittleEndian.PutUint32(h[4:], uint32(r.usec))
		binary.LittleEndian.PutUint32(h[8:], uint32(len(r.data)))
		binary.LittleEndian.PutUint32(h[12:], r.datalen)
		binary.LittleEndian.PutUint16(h[16:], r.hdrlen)
		b = append(append(b, h...), r.data...)
		if i+1 < len(recs) {
			for len(b)%4 != 0 {
				b = append(b, 0xee)
			}
		}
	}
	return b
}

func seq(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func TestBPFIterRecords(t *testing.T) {
	recs := []bpfRec{
		{sec: 1700000000, usec: 123456, hdrlen: 18, datalen: 60, data: seq(60, 1)}, // 78 → 80
		{sec: 1700000001, usec: 1, hdrlen: 20, datalen: 1500, data: seq(33, 100)},  // snapped, odd
		{sec: 1700000002, usec: 999999, hdrlen: 18, datalen: 0, data: nil},         // empty
		{sec: 1700000003, usec: 5, hdrlen: 18, datalen: 7, data: seq(7, 200)},      // last: no pad
	}
	buf := bpfBuffer(recs...)
	var it bpfIter
	it.reset(buf)
	for i, r := range recs {
		data, ci, ok, err := it.next()
		if err != nil || !ok {
			t.Fatalf("record %d: ok=%v err=%v", i, ok, err)
		}
		if !bytes.Equal(data, r.data) {
			t.Errorf("record %d: data %x, want %x", i, data, r.data)
		}
		if ci.CaptureLength != len(r.data) || ci.Length != int(r.datalen) {
			t.Errorf("record %d: lengths %d/%d", i, ci.CaptureLength, ci.Length)
		}
		if want := time.Unix(int64(r.sec), int64(r.usec)*1000); !ci.Timestamp.Equal(want) {
			t.Errorf("record %d: time %v, want %v", i, ci.Timestamp, want)
		}
		if cap(data) != len(data) {
			t.Errorf("record %d: slice capacity %d leaks the next record", i, cap(data))
		}
	}
	if _, _, ok, err := it.next(); ok || err != nil {
		t.Fatalf("after the last record: ok=%v err=%v", ok, err)
	}
	// Reuse with an empty buffer.
	it.reset(nil)
	if _, _, ok, err := it.next(); ok || err != nil {
		t.Fatalf("empty: ok=%v err=%v", ok, err)
	}
}

func TestBPFIterCorrupt(t *testing.T) {
	// Two records: 18+3 bytes padded to 24, then the one to corrupt.
	mut := func(f func(b []byte)) []byte {
		b := bpfBuffer(bpfRec{hdrlen: 18, datalen: 3, data: seq(3, 9)}, bpfRec{hdrlen: 18, datalen: 10, data: seq(10, 0)})
		f(b[24:])
		return b
	}
	cases := map[string][]byte{
		"short tail":      append(bpfBuffer(bpfRec{hdrlen: 18, datalen: 3, data: seq(3, 9)}), make([]byte, 1+10)...),
		"hdrlen 0":        mut(func(b []byte) { binary.LittleEndian.PutUint16(b[16:], 0) }),
		"hdrlen 17":       mut(func(b []byte) { binary.LittleEndian.PutUint16(b[16:], 17) }),
		"hdrlen huge":     mut(func(b []byte) { binary.LittleEndian.PutUint16(b[16:], 0xffff) }),
		"caplen past end": mut(func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 11) }),
		"caplen max":      mut(func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 0xffffffff) }),
		"datalen < cap":   mut(func(b []byte) { binary.LittleEndian.PutUint32(b[12:], 9) }),
	}
	for name, buf := range cases {
		var it bpfIter
		it.reset(buf)
		data, _, ok, err := it.next() // the first record is intact
		if !ok || err != nil || !bytes.Equal(data, seq(3, 9)) {
			t.Fatalf("%s: first record: ok=%v err=%v data=%x", name, ok, err, data)
		}
		_, _, ok, err = it.next()
		if ok || !errors.Is(err, errBPFRecord) {
			t.Errorf("%s: ok=%v err=%v, want errBPFRecord", name, ok, err)
		}
		if _, _, ok, err = it.next(); ok || err != nil {
			t.Errorf("%s: after the error the buffer must be abandoned: ok=%v err=%v", name, ok, err)
		}
	}
}

func TestBPFIterNoAlloc(t *testing.T) {
	buf := bpfBuffer(
		bpfRec{hdrlen: 18, datalen: 61, data: seq(61, 1)},
		bpfRec{hdrlen: 18, datalen: 62, data: seq(62, 1)},
		bpfRec{hdrlen: 18, datalen: 63, data: seq(63, 1)},
	)
	var it bpfIter
	allocs := testing.AllocsPerRun(100, func() {
		it.reset(buf)
		for {
			_, _, ok, err := it.next()
			if !ok || err != nil {
				break
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per buffer", allocs)
	}
}

func TestLinkForDLT(t *testing.T) {
	for dlt, want := range map[int]int{0: decode.LinkNull, 1: decode.LinkEthernet, 12: decode.LinkRaw, 108: decode.LinkLoop} {
		got, err := linkForDLT(dlt)
		if err != nil || got != want {
			t.Errorf("DLT %d: %d, %v; want %d", dlt, got, err, want)
		}
	}
	for _, dlt := range []int{105, 127, 14, 149} {
		if _, err := linkForDLT(dlt); err == nil {
			t.Errorf("DLT %d accepted", dlt)
		}
	}
}

func FuzzBPFBuffer(f *testing.F) {
	f.Add(bpfBuffer(
		bpfRec{sec: 1, usec: 2, hdrlen: 18, datalen: 60, data: seq(60, 1)},
		bpfRec{sec: 3, usec: 4, hdrlen: 20, datalen: 99, data: seq(33, 1)},
	))
	f.Add([]byte{})
	f.Add(make([]byte, 18))
	f.Fuzz(func(t *testing.T, buf []byte) {
		var it bpfIter
		it.reset(buf)
		for n := 0; ; n++ {
			if n > len(buf) {
				t.Fatalf("more records (%d) than bytes (%d)", n, len(buf))
			}
			data, ci, ok, err := it.next()
			if !ok {
				if err != nil && !errors.Is(err, errBPFRecord) {
					t.Fatalf("error %v does not wrap errBPFRecord", err)
				}
				return
			}
			if ci.CaptureLength != len(data) || ci.Length < ci.CaptureLength {
				t.Fatalf("capture info %+v for %d bytes", ci, len(data))
			}
		}
	})
}
