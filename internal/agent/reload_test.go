package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
)

// streamEvents records the streaming test detector's starts and stops
// ("start a", "stop a") in order.
var streamEvents = make(chan string, 64)

type streamSettings struct {
	Label string `yaml:"label"`
}

type streamDetector struct{ label string }

func (streamDetector) Detect(context.Context, detect.Env) ([]report.Finding, error) { return nil, nil }

func (d streamDetector) Stream(ctx context.Context, _ detect.Env, _ func([]report.Finding)) error {
	streamEvents <- "start " + d.label
	<-ctx.Done()
	streamEvents <- "stop " + d.label
	return ctx.Err()
}

func init() {
	detect.Register(detect.Registration{
		Name:              "agentstream",
		DisabledByDefault: true,
		NewSettings:       func() any { return &streamSettings{Label: "default"} },
		New:               func(s any) (detect.Detector, error) { return streamDetector{s.(*streamSettings).Label}, nil },
	})
}

func nextEvent(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-streamEvents:
		if got != want {
			t.Fatalf("streaming detector: got %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("streaming detector: no %q within 10 s", want)
	}
}

// TestReloadRestartsAndStopsStreams: a reload that retunes a streaming
// detector stops the old stream and starts one with the new settings; one
// that disables it stops it for good; a changed report output is named as
// needing a restart.
func TestReloadRestartsAndStopsStreams(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := "detectors:\n  agenttest: {enabled: false}\n"
	write(base + "  agentstream: {enabled: true, settings: {label: a}}\nreport: {stdout: true}\n")
	core, logs := observer.New(zap.InfoLevel)
	reload := make(chan struct{}, 1)
	a := &Agent{ConfigPath: cfg, Version: "test", Stdout: &lockedBuffer{}, Logger: zap.New(core), Reload: reload}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	nextEvent(t, "start a")

	waitLog := func(msg string, n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for logs.FilterMessage(msg).Len() < n {
			if time.Now().After(deadline) {
				t.Fatalf("no %d× %q log within 10 s; logs: %v", n, msg, logs.All())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Retune: the stream restarts with the new label.
	write(base + "  agentstream: {enabled: true, settings: {label: b}}\nreport: {stdout: true}\n")
	reload <- struct{}{}
	nextEvent(t, "stop a")
	nextEvent(t, "start b")
	waitLog("config_reloaded", 1)
	if n := logs.FilterMessage("config_reload_needs_restart").Len(); n != 0 {
		t.Fatalf("unchanged report flagged as needing a restart: %v", logs.All())
	}

	// Unchanged settings: the stream keeps running (no stop, no start).
	reload <- struct{}{}
	waitLog("config_reloaded", 2)

	// Disable it and change the report output: the stream stops; the
	// output change is named as needing a restart.
	write(base + "  agentstream: {enabled: false}\nreport: {stdout: false, file: " + filepath.Join(dir, "f.jsonl") + "}\n")
	reload <- struct{}{}
	nextEvent(t, "stop b")
	waitLog("config_reloaded", 3)
	rs := logs.FilterMessage("config_reload_needs_restart").All()
	if len(rs) != 1 {
		t.Fatalf("want one config_reload_needs_restart log, got %v", logs.All())
	}
	if got := rs[0].ContextMap()["settings"]; len(got.([]any)) != 2 || got.([]any)[0] != "report.stdout" || got.([]any)[1] != "report.file" {
		t.Fatalf("settings needing a restart: %v", got)
	}
	if logs.FilterMessage("live_actor_stopped").Len() != 1 || logs.FilterMessage("live_actor_restarted").Len() != 1 {
		t.Fatalf("live actor logs: %v", logs.All())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not stop")
	}
	select {
	case e := <-streamEvents:
		t.Fatalf("disabled stream came back: %q", e)
	default:
	}
}
