package spool

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func items(from, n int) [][]byte {
	var out [][]byte
	for i := from; i < from+n; i++ {
		out = append(out, []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, bytes.Repeat([]byte("x"), 100))))
	}
	return out
}

func TestAppendNextAckAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Append(items(0, 10)...)
	if err != nil || first != 1 {
		t.Fatalf("Append = %d, %v", first, err)
	}
	recs, err := s.Next(4, 1<<20)
	if err != nil || len(recs) != 4 || recs[0].Seq != 1 || recs[3].Seq != 4 {
		t.Fatalf("Next = %+v %v", recs, err)
	}
	if err := s.Ack(4); err != nil {
		t.Fatal(err)
	}
	// Records 5..6 are "in flight" (read, not acked) when the agent dies.
	if _, err := s.Next(2, 1<<20); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close() // twice is safe

	s, err = Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, _ = s.Next(100, 1<<20)
	if len(recs) != 6 || recs[0].Seq != 5 || string(recs[0].Data) != string(items(4, 1)[0]) {
		t.Fatalf("after restart, in-flight records not re-sent: %d records, first %+v", len(recs), recs)
	}
	first, _ = s.Append(items(10, 1)...)
	if first != 11 {
		t.Fatalf("sequence reused after restart: %d", first)
	}
	if st := s.Stats(); st.Pending != 7 || st.Acked != 4 || st.LastSeq != 11 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTornTailIsCutOff(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, 0)
	s.Append(items(0, 3)...)
	s.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	f, _ := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{200, 0, 0, 0, 1, 2}) // half a header of a 4th record
	f.Close()
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, err := s.Next(10, 1<<20)
	if err != nil || len(recs) != 3 {
		t.Fatalf("torn tail: %d records, %v", len(recs), err)
	}
	if seq, _ := s.Append(items(3, 1)...); seq != 4 {
		t.Fatalf("append after torn tail got seq %d", seq)
	}
	recs, _ = s.Next(10, 1<<20)
	if len(recs) != 4 || recs[3].Seq != 4 {
		t.Fatalf("record after repaired tail unreadable: %+v", recs)
	}
}

func TestCapDropsOldestAndCounts(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 8192) // segments of 4 KiB
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if _, err := s.Append(items(i, 1)...); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Bytes > 8192+4096 {
		t.Fatalf("spool grew to %d bytes past its cap", st.Bytes)
	}
	if st.Dropped == 0 || st.Dropped+uint64(st.Pending) != 200 {
		t.Fatalf("drops not counted: %+v", st)
	}
	recs, _ := s.Next(1000, 1<<30)
	if len(recs) != st.Pending || recs[len(recs)-1].Seq != 200 {
		t.Fatalf("newest records lost: %d pending, %d read", st.Pending, len(recs))
	}
	s.Close()
	s, _ = Open(dir, 8192)
	defer s.Close()
	if s.Stats().Dropped != st.Dropped {
		t.Fatal("drop count not persisted across restart")
	}
}

func TestAckedSegmentsAreRemoved(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, 32768) // segments of 4 KiB, no drops for 100 items
	defer s.Close()
	for i := 0; i < 100; i++ {
		s.Append(items(i, 1)...)
	}
	if err := s.Ack(100); err != nil {
		t.Fatal(err)
	}
	s.Append(items(100, 1)...)
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	if s.Stats().Dropped != 0 {
		t.Fatalf("drops counted without pressure: %d", s.Stats().Dropped)
	}
	if len(segs) > 2 || s.Stats().Dropped != 0 {
		t.Fatalf("acked segments kept (%d) or counted as drops (%d)", len(segs), s.Stats().Dropped)
	}
}

func FuzzOpenCorruptSegment(f *testing.F) {
	f.Add([]byte{5, 0, 0, 0, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "seg-00000000000000000001.log"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, 0)
		if err != nil {
			return
		}
		defer s.Close()
		if _, err := s.Next(10, 1<<20); err != nil {
			t.Fatalf("Next after repair: %v", err)
		}
		if _, err := s.Append([]byte("x")); err != nil {
			t.Fatal(err)
		}
	})
}

// PendingBytes counts only unacknowledged records, across segments and a
// restart, while Stats.Bytes still holds acknowledged ones on disk.
func TestPendingBytes(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 64<<10) // 8 KiB segments: the records span several
	if err != nil {
		t.Fatal(err)
	}
	recs := items(0, 200)
	if _, err := s.Append(recs...); err != nil {
		t.Fatal(err)
	}
	size := func(from, to int) int64 { // on-disk bytes of records from..to-1
		var n int64
		for _, r := range recs[from:to] {
			n += int64(headerLen + len(r))
		}
		return n
	}
	check := func(want int64) {
		t.Helper()
		got, err := s.PendingBytes()
		if err != nil || got != want {
			t.Fatalf("PendingBytes = %d, %v; want %d", got, err, want)
		}
	}
	check(size(0, 200))
	if err := s.Ack(77); err != nil { // mid-segment
		t.Fatal(err)
	}
	check(size(77, 200))
	if st := s.Stats(); st.Pending != 123 || st.Bytes <= size(77, 200) {
		t.Fatalf("stats %+v: want 123 pending and acknowledged bytes still on disk", st)
	}
	s.Close()
	if s, err = Open(dir, 64<<10); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(size(77, 200))
	if err := s.Ack(200); err != nil {
		t.Fatal(err)
	}
	check(0)
}
