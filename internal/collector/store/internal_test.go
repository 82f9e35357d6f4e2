package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
)

func TestReopenSQLiteKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fw.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	f := report.Finding{ID: "0123456789abcdef01234567", Time: time.Now(), Host: report.Host{ID: "h1"}, Detector: "d", Rule: "a.b", Category: report.CategoryVPN, Summary: "s"}
	if _, err := s.Ingest(ctx, Batch{Host: f.Host, Items: []Item{{Seq: 1, Kind: KindFinding, Finding: &f}}}, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	var mode string
	if err := s.w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
	fs, err := s.Findings(ctx, "h1", false)
	if err != nil || len(fs) != 1 {
		t.Fatalf("findings after reopen = %v, %v", fs, err)
	}
}

func TestStatementsSplit(t *testing.T) {
	got := statements("-- c\nCREATE TABLE a (x INT);\n\nCREATE INDEX b ON a (x);\n")
	if len(got) != 2 || !strings.HasPrefix(got[1], "CREATE INDEX") {
		t.Fatalf("statements = %q", got)
	}
}

func TestRedact(t *testing.T) {
	if got := redact("postgres://u:secret@h/db"); strings.Contains(got, "secret") {
		t.Fatalf("redact = %s", got)
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "fw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.migrate(context.Background()); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	v, err := s.AppliedMigrations(context.Background())
	ms, _ := Migrations()
	if err != nil || len(v) != len(ms) {
		t.Fatalf("applied = %v, %v; embedded %d", v, err, len(ms))
	}
}

func TestCheckpointAndMaintain(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "fw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 20; i++ {
		f := report.Finding{ID: "0123456789abcdef01234567", Time: time.Now(), Host: report.Host{ID: "h1"}, Detector: "d", Rule: "a.b", Category: report.CategoryVPN, Summary: strings.Repeat("s", 2000)}
		if _, err := s.Ingest(ctx, Batch{Host: f.Host, Items: []Item{{Seq: int64(i), Kind: KindFinding, Finding: &f}}}, time.Now(), nil); err != nil {
			t.Fatal(err)
		}
	}
	frames, done, err := s.Checkpoint(ctx)
	if err != nil || frames == 0 || done != frames {
		t.Fatalf("checkpoint: frames %d checkpointed %d, %v", frames, done, err)
	}
	mctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.Maintain(mctx, 10*time.Millisecond, time.Now); err != context.DeadlineExceeded {
		t.Fatalf("Maintain = %v", err)
	}
}
