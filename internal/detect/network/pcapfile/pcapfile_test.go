package pcapfile

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func classic(t *testing.T, times ...int) []byte {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, s := range times {
		data := bytes.Repeat([]byte{byte(s)}, 60)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(s) * time.Second), CaptureLength: 60, Length: 60}, data); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func ng(t *testing.T, times ...int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, layers.LinkTypeLinuxSLL)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range times {
		data := bytes.Repeat([]byte{byte(s)}, 40)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(s) * time.Second), CaptureLength: 40, Length: 40}, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readAll(t *testing.T, r *Reader) ([]Packet, error) {
	var out []Packet
	for {
		var p Packet
		err := r.Next(&p)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		p.Data = append([]byte(nil), p.Data...)
		out = append(out, p)
	}
}

func TestFormats(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(ng(t, 1, 2, 3))
	zw.Close()
	for name, data := range map[string][]byte{"pcap": classic(t, 1, 2, 3), "pcapng": ng(t, 1, 2, 3), "pcapng.gz": gz.Bytes()} {
		r, err := NewReader(name, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ps, err := readAll(t, r)
		if err != nil || len(ps) != 3 {
			t.Fatalf("%s: %d packets, %v", name, len(ps), err)
		}
		if !ps[2].Time.Equal(t0.Add(3 * time.Second)) {
			t.Errorf("%s: time %v", name, ps[2].Time)
		}
		want := 1
		if name != "pcap" {
			want = 113
		}
		if ps[0].LinkType != want {
			t.Errorf("%s: link type %d", name, ps[0].LinkType)
		}
	}
}

// TestTruncated cuts a capture in the middle of the third packet: two
// packets come out, then an error naming the exact offset of the third
// record (24-byte header + 2 × (16 + 60)).
func TestTruncated(t *testing.T) {
	data := classic(t, 1, 2, 3)
	cut := data[:len(data)-30]
	r, err := NewReader("cut.pcap", bytes.NewReader(cut))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := readAll(t, r)
	if len(ps) != 2 {
		t.Fatalf("got %d packets before the cut", len(ps))
	}
	var oe *OffsetError
	if !errors.As(err, &oe) || oe.Offset != 24+2*76 || oe.Uncompressed || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v", err)
	}
}

// TestTruncatedPcapng: the offset is the start of the first block that
// could not be read.
func TestTruncatedPcapng(t *testing.T) {
	full := ng(t, 1, 2, 3)
	two := ng(t, 1, 2)
	r, err := NewReader("cut.pcapng", bytes.NewReader(full[:len(full)-10]))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := readAll(t, r)
	var oe *OffsetError
	if len(ps) != 2 || !errors.As(err, &oe) || oe.Offset != int64(len(two)) {
		t.Fatalf("%d packets, err %v (want offset %d)", len(ps), err, len(two))
	}
}

func TestNotACapture(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("hello world, not a pcap file at all")} {
		if _, err := NewReader("x", bytes.NewReader(b)); err == nil {
			t.Errorf("%q accepted", b)
		}
	}
}

func TestMergeByTime(t *testing.T) {
	a, _ := NewReader("a", bytes.NewReader(classic(t, 1, 4, 5)))
	b, _ := NewReader("b", bytes.NewReader(ng(t, 2, 3, 6)))
	m := NewMerger(a, b)
	var got []int
	for m.Next(func(p *Packet) { got = append(got, int(p.Time.Sub(t0)/time.Second)) }) == nil {
	}
	for i, s := range got {
		if s != i+1 {
			t.Fatalf("merged order %v", got)
		}
	}
	if len(got) != 6 || len(m.Errs()) != 0 {
		t.Fatalf("got %v errs %v", got, m.Errs())
	}
}
