// Package spool is the agent's on-disk queue between detection and
// delivery: an item is appended and fsync'd before it counts as reported,
// delivered at least once (items not acknowledged before a restart are sent
// again), and the queue is capped in bytes — when full, the oldest segment is
// dropped and the dropped items are counted, persistently, so the loss itself
// is reported.
//
// Layout: segment files seg-<first seq, 20 digits>.log holding records
// [uint32 length][uint32 CRC-32C][payload], and state.json holding the
// acknowledged sequence and the drop counter, replaced atomically.
package spool

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// DefaultMaxBytes is the default cap of the spool on disk.
const DefaultMaxBytes = 256 << 20

// MaxRecordBytes bounds one item.
const MaxRecordBytes = 8 << 20

const headerLen = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrClosed is returned after Close.
var ErrClosed = errors.New("spool closed")

// Record is one spooled item with its sequence number (1, 2, 3, …; never
// reused, also across restarts).
type Record struct {
	Seq  uint64
	Data []byte
}

// Stats describe the spool for heartbeats.
type Stats struct {
	Bytes   int64  `json:"spool_bytes"`
	Pending int    `json:"spool_pending"`
	Dropped uint64 `json:"spool_dropped"`
	LastSeq uint64 `json:"last_seq"`
	Acked   uint64 `json:"acked_seq"`
}

type segment struct {
	first, last uint64 // seq range held (last < first when empty)
	path        string
	size        int64
}

type state struct {
	Acked   uint64 `json:"acked"`
	Dropped uint64 `json:"dropped"`
}

// Spool is safe for concurrent use.
type Spool struct {
	dir          string
	maxBytes     int64
	segmentBytes int64

	mu     sync.Mutex
	segs   []*segment
	cur    *os.File
	next   uint64
	st     state
	closed bool
	rotate bool // the current segment failed a write: start a new one
	notify chan struct{}
}

// Open opens (creating) a spool in dir capped at maxBytes (≤ 0: default).
// A record torn by a crash at the end of the last segment is cut off.
func Open(dir string, maxBytes int64) (*Spool, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: create %s: %w", dir, err)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, segmentBytes: min(4<<20, max(maxBytes/8, 4096)), next: 1, notify: make(chan struct{}, 1)}
	if err := s.loadState(); err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	if err != nil {
		return nil, fmt.Errorf("spool: list segments: %w", err)
	}
	sort.Strings(names)
	for i, n := range names {
		first, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(n), "seg-"), ".log"), 10, 64)
		if err != nil {
			continue
		}
		seg := &segment{first: first, last: first - 1, path: n}
		if err := s.scanSegment(seg, i == len(names)-1); err != nil {
			return nil, err
		}
		s.segs = append(s.segs, seg)
		if seg.last >= seg.first {
			s.next = max(s.next, seg.last+1)
		} else {
			s.next = max(s.next, seg.first)
		}
	}
	s.next = max(s.next, s.st.Acked+1)
	return s, nil
}

// scanSegment counts the valid records of a segment; in the last segment a
// torn or corrupt tail is truncated, elsewhere corruption ends the segment.
func (s *Spool) scanSegment(seg *segment, last bool) error {
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("spool: open %s: %w", seg.path, err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var off int64
	n := uint64(0)
	for {
		data, err := readRecord(r)
		if err != nil {
			break
		}
		off += int64(headerLen + len(data))
		n++
	}
	seg.last = seg.first + n - 1
	seg.size = off
	if st, err := f.Stat(); err == nil && st.Size() != off && last {
		if err := f.Truncate(off); err != nil {
			return fmt.Errorf("spool: truncate torn tail of %s: %w", seg.path, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("spool: sync %s: %w", seg.path, err)
		}
	}
	return nil
}

func readRecord(r io.Reader) ([]byte, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(h[:4])
	if n > MaxRecordBytes {
		return nil, fmt.Errorf("record of %d bytes", n)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, err
	}
	if crc32.Checksum(data, castagnoli) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, errors.New("checksum mismatch")
	}
	return data, nil
}

func (s *Spool) loadState() error {
	b, err := os.ReadFile(filepath.Join(s.dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("spool: read state: %w", err)
	}
	if err := json.Unmarshal(b, &s.st); err != nil {
		// A corrupt state file must not lose the queue: resend everything.
		s.st = state{}
	}
	return nil
}

// saveState replaces state.json atomically and durably with st, and only
// then makes st the spool's state: a failed write or fsync leaves the old
// state in force (nothing newly counted as delivered or dropped). When the
// rename happened but could not be made durable, the old state is put back
// so that what a restart reads agrees with what the spool reported.
func (s *Spool) saveState(st state) error {
	if err := s.writeState(st); err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		_ = s.writeState(s.st)
		return err
	}
	s.st = st
	return nil
}

// writeState writes st to a temporary file, fsyncs it and renames it over
// state.json.
func (s *Spool) writeState(st state) error {
	b, _ := json.Marshal(st)
	tmp := filepath.Join(s.dir, "state.json.tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("spool: write state: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("spool: write state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("spool: sync state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("spool: close state: %w", err)
	}
	if err := replaceFile(tmp, filepath.Join(s.dir, "state.json")); err != nil {
		return fmt.Errorf("spool: replace state: %w", err)
	}
	return nil
}

// Append writes items as records, fsyncs, and returns the sequence of the
// first. When it returns nil the items survive a crash.
func (s *Spool) Append(items ...[]byte) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	first := s.next
	var buf []byte
	for _, it := range items {
		if len(it) > MaxRecordBytes {
			return 0, fmt.Errorf("spool: item of %d bytes exceeds %d", len(it), MaxRecordBytes)
		}
		var h [headerLen]byte
		binary.LittleEndian.PutUint32(h[:4], uint32(len(it)))
		binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(it, castagnoli))
		buf = append(append(buf, h[:]...), it...)
	}
	seg, err := s.writable(int64(len(buf)))
	if err != nil {
		return 0, err
	}
	if _, err := s.cur.Write(buf); err != nil {
		s.abandon(seg)
		return 0, fmt.Errorf("spool: append: %w", err)
	}
	if err := s.cur.Sync(); err != nil {
		s.abandon(seg)
		return 0, fmt.Errorf("spool: fsync: %w", err)
	}
	seg.size += int64(len(buf))
	seg.last = first + uint64(len(items)) - 1
	s.next = seg.last + 1
	if err := s.enforceCap(); err != nil {
		return 0, err
	}
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return first, nil
}

// abandon undoes a failed append: the segment is cut back to its last
// durable record and closed, and the next append starts a new segment, so
// records written but not fsync'd are never counted (nor read back with a
// sequence number of later records).
func (s *Spool) abandon(seg *segment) {
	if s.cur != nil {
		_ = s.cur.Truncate(seg.size)
		_ = s.cur.Close()
		s.cur = nil
	}
	s.rotate = true
}

// writable returns the segment to append n bytes to, rotating to a new
// segment when the current one would grow past the segment size.
func (s *Spool) writable(n int64) (*segment, error) {
	if len(s.segs) > 0 {
		seg := s.segs[len(s.segs)-1]
		if !s.rotate && (seg.size == 0 || seg.size+n <= s.segmentBytes) {
			if s.cur == nil {
				f, err := os.OpenFile(seg.path, os.O_WRONLY|os.O_APPEND, 0o600)
				if err != nil {
					return nil, fmt.Errorf("spool: open %s: %w", seg.path, err)
				}
				s.cur = f
			}
			return seg, nil
		}
	}
	if s.cur != nil {
		if err := s.cur.Close(); err != nil {
			return nil, fmt.Errorf("spool: close segment: %w", err)
		}
		s.cur = nil
	}
	if n := len(s.segs); n > 0 && s.segs[n-1].size == 0 {
		s.segs = s.segs[:n-1] // an abandoned empty segment: recreated below
	}
	seg := &segment{first: s.next, last: s.next - 1, path: filepath.Join(s.dir, fmt.Sprintf("seg-%020d.log", s.next))}
	f, err := os.OpenFile(seg.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: create segment: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		// Not durable: the segment may vanish in a crash, so nothing is
		// written to it.
		_ = f.Close()
		_ = os.Remove(seg.path)
		return nil, fmt.Errorf("spool: create segment: %w", err)
	}
	s.rotate = false
	s.cur = f
	s.segs = append(s.segs, seg)
	return seg, nil
}

// enforceCap removes fully acknowledged segments, then — while over the cap —
// the oldest segments, counting their unacknowledged records as dropped.
func (s *Spool) enforceCap() error {
	for len(s.segs) > 1 {
		seg := s.segs[0]
		acked := seg.last < seg.first || seg.last <= s.st.Acked
		if !acked && s.total() <= s.maxBytes {
			break
		}
		if !acked {
			st := s.st
			st.Dropped += seg.last - max(seg.first, st.Acked+1) + 1
			st.Acked = max(st.Acked, seg.last)
			// The loss is counted durably before the segment goes.
			if err := s.saveState(st); err != nil {
				return err
			}
		}
		if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool: remove segment: %w", err)
		}
		s.segs = s.segs[1:]
	}
	return nil
}

func (s *Spool) total() int64 {
	var t int64
	for _, seg := range s.segs {
		t += seg.size
	}
	return t
}

// Next returns up to max unacknowledged records (at most maxBytes of data,
// but at least one), oldest first, without removing them.
func (s *Spool) Next(max int, maxBytes int) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	var out []Record
	size := 0
	for _, seg := range s.segs {
		if seg.last < seg.first || seg.last <= s.st.Acked {
			continue
		}
		f, err := os.Open(seg.path)
		if err != nil {
			return out, fmt.Errorf("spool: read %s: %w", seg.path, err)
		}
		r := bufio.NewReader(io.LimitReader(f, seg.size))
		for seq := seg.first; seq <= seg.last; seq++ {
			data, err := readRecord(r)
			if err != nil {
				f.Close()
				return out, fmt.Errorf("spool: read record %d: %w", seq, err)
			}
			if seq <= s.st.Acked {
				continue
			}
			if len(out) > 0 && (len(out) >= max || size+len(data) > maxBytes) {
				f.Close()
				return out, nil
			}
			out = append(out, Record{Seq: seq, Data: data})
			size += len(data)
		}
		f.Close()
	}
	return out, nil
}

// Ack marks every record up to seq delivered.
func (s *Spool) Ack(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if seq <= s.st.Acked {
		return nil
	}
	st := s.st
	st.Acked = min(seq, s.next-1)
	if err := s.saveState(st); err != nil {
		return err
	}
	return s.enforceCap()
}

// Ready is signalled (at most one pending signal) after each Append.
func (s *Spool) Ready() <-chan struct{} { return s.notify }

// Stats reports size, backlog and drops.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	pending := 0
	if s.next-1 > s.st.Acked {
		pending = int(s.next - 1 - s.st.Acked)
	}
	return Stats{Bytes: s.total(), Pending: pending, Dropped: s.st.Dropped, LastSeq: s.next - 1, Acked: s.st.Acked}
}

// PendingBytes is the size on disk of the records not yet acknowledged
// (Stats' Bytes also counts acknowledged records still in their segment).
// It reads the record headers of the segment holding the acknowledgement
// point, so call it at heartbeat pace, not in a loop.
func (s *Spool) PendingBytes() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	var n int64
	for _, seg := range s.segs {
		switch {
		case seg.last < seg.first || seg.last <= s.st.Acked:
		case seg.first > s.st.Acked:
			n += seg.size
		default:
			off, err := skipRecords(seg.path, seg.size, s.st.Acked-seg.first+1)
			if err != nil {
				return n, err
			}
			n += seg.size - off
		}
	}
	return n, nil
}

// skipRecords returns the offset after the first k records of a segment,
// reading only their headers.
func skipRecords(path string, size int64, k uint64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("spool: read %s: %w", path, err)
	}
	defer f.Close()
	var off int64
	var h [headerLen]byte
	for i := uint64(0); i < k; i++ {
		if _, err := f.ReadAt(h[:], off); err != nil {
			return 0, fmt.Errorf("spool: read record header in %s at %d: %w", path, off, err)
		}
		off += headerLen + int64(binary.LittleEndian.Uint32(h[:4]))
		if off > size {
			return 0, fmt.Errorf("spool: record in %s at %d runs past the segment", path, off)
		}
	}
	return off, nil
}

// Close closes the spool; safe to call twice.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cur != nil {
		err := s.cur.Close()
		s.cur = nil
		if err != nil {
			return fmt.Errorf("spool: close: %w", err)
		}
	}
	return nil
}
