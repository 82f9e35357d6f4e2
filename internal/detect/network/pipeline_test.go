package network

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/detect/network/internal/pcaptest"
	"github.com/farmwatch/farmwatch/internal/detect/network/pcapfile"
	"github.com/farmwatch/farmwatch/internal/report"
)

// TestTruncatedCapture cuts a real capture in the middle of a packet: the
// findings from before the cut are still returned, with an error that
// names the file and the exact byte offset of the broken record.
func TestTruncatedCapture(t *testing.T) {
	dir := sharedPcaps(t)
	data, err := os.ReadFile(filepath.Join(dir, "zeek+zeek", "rdp-to-ssl.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, data[:100000], 0o644); err != nil {
		t.Fatal(err)
	}
	// The record boundaries of the original file.
	starts := map[int64]bool{}
	for off := int64(24); off+16 <= int64(len(data)); {
		starts[off] = true
		caplen := int64(data[off+8]) | int64(data[off+9])<<8 | int64(data[off+10])<<16 | int64(data[off+11])<<24
		off += 16 + caplen
	}
	fs, _, err := AnalyzeFiles(context.Background(), Config{}, []string{cut}, nil)
	var oe *pcapfile.OffsetError
	if !errors.As(err, &oe) {
		t.Fatalf("want an offset error, got %v", err)
	}
	if !starts[oe.Offset] || oe.Offset > 100000 || oe.Offset < 100000-1600 || !strings.Contains(err.Error(), "cut.pcap") {
		t.Errorf("offset %d is not the start of the cut record (%v)", oe.Offset, err)
	}
	if find(fs, "network.rdp.session", "rdp") == nil {
		t.Errorf("findings before the cut were lost: %s", summarize(fs))
	}
}

func TestFlowTableBounds(t *testing.T) {
	c := pcaptest.New()
	for i := 0; i < 50; i++ {
		k := c.UDPConn("192.168.1.10:"+itoa(10000+i), "203.0.113.1:9999")
		k.Send(true, []byte("x"))
		c.Advance(time.Second)
	}
	e := New(Config{Flow: flow.Config{MaxFlows: 10, UDPIdle: 5 * time.Second}})
	for _, f := range c.Frames {
		e.Packet(f.Time, 1, f.Data)
	}
	st := e.Stats().Flows
	if st.Active > 10 || st.Created != 50 || st.Expired == 0 {
		t.Errorf("flow stats %+v", st)
	}
	e2 := New(Config{Flow: flow.Config{MaxFlows: 10, UDPIdle: time.Hour}})
	for _, f := range c.Frames {
		e2.Packet(f.Time, 1, f.Data)
	}
	if st := e2.Stats().Flows; st.Evicted != 40 || st.Active != 10 {
		t.Errorf("eviction stats %+v", st)
	}
}

// seeds returns small synthetic pcaps covering many analyzers.
func seeds(t testing.TB) [][]byte {
	c := pcaptest.New()
	tlsSession(c, "192.168.1.10:50000", "203.0.113.30:443", clientHello("x.opengw.net", "h2"), nil)
	k := c.TCP("192.168.1.20:40000", "192.168.1.10:4000", time.Millisecond)
	k.Send(false, []byte("RFB 003.008\n"))
	k.Send(true, []byte("SSH-2.0-x\r\n"))
	u := c.UDPConn("192.168.1.10:50000", "162.159.192.1:2408")
	u.Send(true, append([]byte{1, 1, 1, 1}, make([]byte, 144)...))
	c.UDPConn("192.168.1.10:5353", "192.168.1.1:53").Send(true, dnsQuery("a.parsec.app", 1))
	b, err := c.Pcap()
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{b}
}

// FuzzPcap feeds arbitrary bytes as a capture file through the whole
// pipeline: reader, decoder, flow table, every inspector and classifier.
func FuzzPcap(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := pcapfile.NewReader("fuzz", bytes.NewReader(b))
		if err != nil {
			return
		}
		fs, _, _ := AnalyzeReaders(context.Background(), Config{}, []*pcapfile.Reader{r}, 0, nil)
		for i := range fs {
			if err := fs[i].Validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzFrames feeds arbitrary frames (each input split into frames at 0xff
// 0xfe) into one engine on Ethernet and raw-IP links.
func FuzzFrames(f *testing.F) {
	c := pcaptest.New()
	tlsSession(c, "192.168.1.10:50000", "203.0.113.30:443", clientHello("a.ngrok.io"), nil)
	for _, fr := range c.Frames {
		f.Add(fr.Data)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e := New(Config{})
		ts := time.Unix(1, 0)
		for _, fr := range bytes.Split(b, []byte{0xff, 0xfe}) {
			e.Packet(ts, 1, fr)
			e.Packet(ts, 101, fr)
			ts = ts.Add(time.Second)
		}
		e.Close()
	})
}

// corpusPcap concatenates every Ethernet capture of the shared corpus into
// one time-ordered in-memory pcap, repeated reps times.
func corpusPcap(b *testing.B, reps int) ([]byte, int) { return corpusPcapTB(b, reps) }

func corpusPcapTB(b testing.TB, reps int) ([]byte, int) {
	dir := sharedPcaps(b)
	var files []string
	for _, e := range readManifest(b, dir) {
		files = append(files, filepath.Join(dir, e.file))
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		b.Fatal(err)
	}
	next := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	for rep := 0; rep < reps; rep++ {
		for _, path := range files {
			r, err := pcapfile.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			var first time.Time
			last := next
			for {
				var p pcapfile.Packet
				if err := r.Next(&p); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
				if p.LinkType != 1 {
					continue
				}
				if first.IsZero() {
					first = p.Time
				}
				d := p.Time.Sub(first)
				if d < 0 || d > time.Hour {
					d = 0 // merged captures spanning months: keep order, not gaps
				}
				ts := next.Add(d)
				if ts.Before(last) {
					ts = last
				}
				last = ts
				if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(p.Data), Length: len(p.Data)}, p.Data); err != nil {
					b.Fatal(err)
				}
				n++
			}
			r.Close()
			next = last.Add(time.Second)
		}
	}
	return buf.Bytes(), n
}

// BenchmarkPipeline measures the whole offline pipeline (pcap reader,
// decoder, flow table, inspectors, classifiers) on the public corpus.
func BenchmarkPipeline(b *testing.B) {
	data, n := corpusPcap(b, 8)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := pcapfile.NewReader("corpus", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		fs, st, err := AnalyzeReaders(context.Background(), Config{Host: report.Host{Name: "bench", ID: "bench"}}, []*pcapfile.Reader{r}, 0, nil)
		if err != nil || len(fs) == 0 || st.Packets != uint64(n) {
			b.Fatalf("err %v findings %d packets %d/%d", err, len(fs), st.Packets, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64(n), "pkts/op")
}

// TestSteadyStateNoAllocs: once a flow is established and inspected,
// each further packet costs no allocation (decode, filter-free lookup,
// statistics).
func TestSteadyStateNoAllocs(t *testing.T) {
	c := pcaptest.New()
	k := c.TCP("192.168.1.10:40000", "203.0.113.5:443", time.Millisecond)
	for i := 0; i < 60; i++ {
		k.Send(true, bytesN(100, 'c'))
		k.Send(false, bytesN(1400, 's'))
		c.Advance(10 * time.Millisecond)
	}
	e := New(Config{})
	for _, f := range c.Frames {
		e.Packet(f.Time, 1, f.Data)
	}
	last := c.Frames[len(c.Frames)-2:]
	ts := c.Now
	allocs := testing.AllocsPerRun(1000, func() {
		ts = ts.Add(time.Millisecond)
		e.Packet(ts, 1, last[0].Data)
		e.Packet(ts, 1, last[1].Data)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per steady-state packet pair", allocs)
	}
}

// TestManyFilesOneCapture: a conversation split across two files (every
// other packet in each) is analysed as one capture merged by time.
func TestManyFilesOneCapture(t *testing.T) {
	c := pcaptest.New()
	tlsSession(c, "192.168.1.10:50000", "3.125.1.1:443", clientHello("connect.ngrok-agent.com"), nil)
	a, b := pcaptest.New(), pcaptest.New()
	for i, f := range c.Frames {
		if i%2 == 0 {
			a.Frames = append(a.Frames, f)
		} else {
			b.Frames = append(b.Frames, f)
		}
	}
	dir := t.TempDir()
	var paths []string
	for i, part := range []*pcaptest.Capture{a, b} {
		data, err := part.Pcap()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "part"+itoa(i)+".pcap")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	fs, st, err := AnalyzeFiles(context.Background(), Config{}, paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := find(fs, "network.ngrok.session", "ngrok"); f == nil || f.Count != 1 || st.Flows.Created != 1 {
		t.Fatalf("split capture not analysed as one: %s (flows %d)", summarize(fs), st.Flows.Created)
	}
}

// TestSnapshot: a long session still open is reported by Snapshot, and the
// engine's own result at Close counts it once.
func TestSnapshot(t *testing.T) {
	c := pcaptest.New()
	k := c.TCP("203.0.113.5:40000", "192.168.1.10:3389", time.Millisecond)
	cr := cat([]byte("\xe0\x00\x00\x00\x00\x00Cookie: mstshash=bob\r\n"), []byte{1, 0, 8, 0, 3, 0, 0, 0})
	k.Send(true, cat([]byte{3, 0}, u16(4+1+len(cr)), []byte{byte(len(cr))}, cr))
	cc := []byte{0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 2, 0, 0, 0}
	k.Send(false, cat([]byte{3, 0}, u16(4+1+len(cc)), []byte{byte(len(cc))}, cc))
	for i := 0; i < 100; i++ {
		c.Advance(time.Second)
		k.Send(true, bytesN(30, 'i'))
		k.Send(false, bytesN(1000, 's'))
	}
	e := New(Config{})
	for _, f := range c.Frames {
		e.Packet(f.Time, 1, f.Data)
	}
	snap := e.Snapshot(c.Now, time.Minute)
	if f := find(snap, "network.rdp.session", "rdp"); f == nil || f.Count != 1 {
		t.Fatalf("open session not in snapshot: %s", summarize(snap))
	}
	if len(e.Snapshot(c.Now, time.Hour)) != 0 {
		t.Error("a flow younger than minAge was reported")
	}
	fs := e.Close()
	if f := find(fs, "network.rdp.session", "rdp"); f == nil || f.Count != 1 {
		t.Fatalf("close after snapshot: %s", summarize(fs))
	}
}
