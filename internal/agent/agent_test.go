package agent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
)

var runs atomic.Int32

type countingDetector struct{}

func (countingDetector) Detect(context.Context, detect.Env) ([]report.Finding, error) {
	n := runs.Add(1)
	return []report.Finding{{ID: fmt.Sprintf("run-%d", n), Rule: "agenttest.run", Category: report.CategoryAgent,
		Severity: report.SeverityInfo, Confidence: 1, Summary: fmt.Sprintf("run %d", n)}}, nil
}

func init() {
	detect.Register(detect.Registration{
		Name:            "agenttest",
		DefaultInterval: time.Hour, // only the start-up run and the trigger
		New:             func(any) (detect.Detector, error) { return countingDetector{}, nil },
		Trigger: func(ctx context.Context, fire func()) error {
			select {
			case <-time.After(300 * time.Millisecond):
				fire()
			case <-ctx.Done():
			}
			<-ctx.Done()
			return nil
		},
	})
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRunsAtStartAndOnTrigger: one run at start, one as soon as the
// detector's trigger fires (long before its hourly interval), findings on
// stdout, and a clean stop.
func TestRunsAtStartAndOnTrigger(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("report:\n  stdout: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runs.Store(0) // -count=N: each run counts from 1
	var out lockedBuffer
	a := &Agent{ConfigPath: cfg, Version: "test", Stdout: &out}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if runs.Load() < 2 {
		t.Fatalf("detector ran %d times; the trigger did not run it", runs.Load())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("agent did not stop within 5 s")
	}
	if s := out.String(); !strings.Contains(s, `"summary":"run 1"`) || !strings.Contains(s, `"summary":"run 2"`) {
		t.Fatalf("stdout:\n%s", s)
	}
}

func TestWakeDetectionUsesWallClockGap(t *testing.T) {
	a := &Agent{Version: "t", started: time.Now()}
	hb := a.heartbeat(report.EventWake, 90*time.Second, time.Minute)
	if hb.Event != report.EventWake || hb.SleptSeconds != 90 || hb.IntervalSeconds != 60 || hb.RSSBytes == 0 {
		t.Fatalf("heartbeat %+v", hb)
	}
}
