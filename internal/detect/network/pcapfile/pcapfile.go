// Package pcapfile reads pcap and pcapng captures (optionally gzip
// compressed) streaming with gopacket's pure-Go readers, and merges several
// files into one time-ordered packet stream. Read errors name the file and
// the byte offset at which the capture stopped making sense.
package pcapfile

import (
	"bufio"
	"compress/gzip"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// Packet is one captured frame. Data is only valid until the next call to
// Next on the reader that produced it.
type Packet struct {
	Time     time.Time
	LinkType int
	Data     []byte
	OrigLen  int
}

// Reader yields the packets of one capture.
type Reader struct {
	name  string
	count *countingReader // file bytes read (progress)
	// pos and buf locate the capture stream (decompressed for gzip):
	// pos.n - buf.Buffered() is the offset the pcap reader has consumed.
	pos    *countingReader
	buf    *bufio.Reader
	pcap   *pcapgo.Reader
	ng     *pcapgo.NgReader
	gz     bool
	offset int64 // end of the last complete record or block
	closer io.Closer
	done   bool
}

// OffsetError reports where a capture stopped being readable: Offset is
// the start of the first record (pcap) or block (pcapng) that could not be
// read, counted in the uncompressed stream for gzip input.
type OffsetError struct {
	File         string
	Offset       int64
	Uncompressed bool
	Err          error
}

func (e *OffsetError) Error() string {
	where := "at byte offset"
	if e.Uncompressed {
		where = "at uncompressed byte offset"
	}
	return fmt.Sprintf("%s: corrupt or truncated capture %s %d: %v", e.File, where, e.Offset, e.Err)
}

func (e *OffsetError) Unwrap() error { return e.Err }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Open opens a capture file.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture: %w", err)
	}
	r, err := NewReader(path, f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a capture from r; name is used in errors.
func NewReader(name string, r io.Reader) (*Reader, error) {
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 64<<10)
	rd := &Reader{name: name, count: cr, pos: cr, buf: br}
	magic, err := br.Peek(4)
	if err != nil {
		return nil, &OffsetError{File: name, Err: fmt.Errorf("reading file header: %w", noEOF(err))}
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, &OffsetError{File: name, Err: fmt.Errorf("gzip header: %w", err)}
		}
		rd.gz = true
		rd.pos = &countingReader{r: gz}
		rd.buf = bufio.NewReaderSize(rd.pos, 64<<10)
		if magic, err = rd.buf.Peek(4); err != nil {
			return nil, &OffsetError{File: name, Uncompressed: true, Err: fmt.Errorf("reading file header: %w", noEOF(err))}
		}
	}
	// pcapgo wraps its input in bufio.NewReader, which returns rd.buf
	// itself (it is large enough), so rd.buf's position is the reader's.
	if magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a {
		ng, err := pcapgo.NewNgReader(rd.buf, pcapgo.NgReaderOptions{})
		if err != nil {
			return nil, &OffsetError{File: name, Uncompressed: rd.gz, Err: fmt.Errorf("pcapng section header: %w", err)}
		}
		rd.ng = ng
		rd.offset = rd.consumed()
		return rd, nil
	}
	pr, err := pcapgo.NewReader(rd.buf)
	if err != nil {
		return nil, &OffsetError{File: name, Uncompressed: rd.gz, Err: fmt.Errorf("not a pcap or pcapng file: %w", err)}
	}
	// pcapgo accepts any snap length; records above 256 KiB are corrupt.
	rd.pcap = pr
	rd.offset = 24
	return rd, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Name returns the file name the reader was opened with.
func (r *Reader) Name() string { return r.name }

// Next returns the next packet, io.EOF at the clean end of the capture, or
// an *OffsetError.
func (r *Reader) Next(p *Packet) error {
	if r.done {
		return io.EOF
	}
	var (
		data []byte
		ci   gopacket.CaptureInfo
		err  error
	)
	if r.pcap != nil {
		data, ci, err = r.pcap.ZeroCopyReadPacketData()
		p.LinkType = int(r.pcap.LinkType())
	} else {
		data, ci, err = r.ng.ZeroCopyReadPacketData()
		if err == nil {
			p.LinkType = -1
			if iface, ierr := r.ng.Interface(ci.InterfaceIndex); ierr == nil {
				p.LinkType = int(iface.LinkType)
			}
		}
	}
	if err != nil {
		r.done = true
		if errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return io.EOF
		}
		return r.offsetError(err)
	}
	if r.pcap != nil {
		r.offset += 16 + int64(len(data))
	} else {
		r.offset = r.consumed()
	}
	p.Time, p.Data, p.OrigLen = ci.Timestamp, data, ci.Length
	return nil
}

func (r *Reader) offsetError(err error) error {
	return &OffsetError{File: r.name, Offset: r.offset, Uncompressed: r.gz, Err: err}
}

// consumed is the stream offset the pcap reader has read up to.
func (r *Reader) consumed() int64 { return r.pos.n - int64(r.buf.Buffered()) }

// Close closes the underlying file when Open opened it.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Merger interleaves several readers by packet timestamp (stable for equal
// timestamps: earlier files first). A reader that fails is dropped from the
// merge; its error is kept and returned by Errs.
type Merger struct {
	h    mergeHeap
	errs []error
}

type mergeItem struct {
	r   *Reader
	p   Packet
	idx int
}

type mergeHeap []*mergeItem

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if h[i].p.Time.Equal(h[j].p.Time) {
		return h[i].idx < h[j].idx
	}
	return h[i].p.Time.Before(h[j].p.Time)
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// NewMerger primes every reader.
func NewMerger(readers ...*Reader) *Merger {
	m := &Merger{}
	for i, r := range readers {
		it := &mergeItem{r: r, idx: i}
		if err := r.Next(&it.p); err != nil {
			if err != io.EOF {
				m.errs = append(m.errs, err)
			}
			continue
		}
		m.h = append(m.h, it)
	}
	heap.Init(&m.h)
	return m
}

// Next calls fn with the earliest pending packet and advances that reader.
// It returns io.EOF when every reader is exhausted. The packet passed to fn
// is only valid during the call.
func (m *Merger) Next(fn func(*Packet)) error {
	if len(m.h) == 0 {
		return io.EOF
	}
	it := m.h[0]
	fn(&it.p)
	if err := it.r.Next(&it.p); err != nil {
		if err != io.EOF {
			m.errs = append(m.errs, err)
		}
		heap.Pop(&m.h)
		return nil
	}
	if len(m.h) > 1 {
		heap.Fix(&m.h, 0)
	}
	return nil
}

// Errs returns the read errors met so far, one per failed file.
func (m *Merger) Errs() []error { return m.errs }

// Bytes returns the file bytes consumed so far by r (for progress).
func (r *Reader) Bytes() int64 { return r.count.n }
