package run

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestGroupStopsAllWhenOneReturns(t *testing.T) {
	g := NewGroup(context.Background(), nil)
	stopped := make(chan struct{})
	g.Go("waiter", func(ctx context.Context) error { <-ctx.Done(); close(stopped); return ctx.Err() })
	g.Go("failer", func(context.Context) error { return errors.New("boom") })
	err := g.Wait()
	if err == nil || !strings.Contains(err.Error(), "failer: boom") {
		t.Fatalf("Wait = %v", err)
	}
	select {
	case <-stopped:
	case <-time.After(time.Second):
		t.Fatal("other actor not cancelled")
	}
}

func TestPanicBecomesError(t *testing.T) {
	g := NewGroup(context.Background(), nil)
	g.Go("p", func(context.Context) error { panic("oops") })
	if err := g.Wait(); err == nil || !strings.Contains(err.Error(), "panic in p: oops") {
		t.Fatalf("Wait = %v", err)
	}
}

func TestStopSafeTwiceAndBeforeGo(t *testing.T) {
	g := NewGroup(context.Background(), nil)
	g.Stop()
	g.Stop()
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait on empty stopped group = %v", err)
	}
}

func TestWaitBoundedWhenActorIgnoresContext(t *testing.T) {
	g := NewGroup(context.Background(), nil)
	g.StopTimeout = 50 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	g.Go("stubborn", func(context.Context) error { <-release; return nil })
	g.Stop()
	start := time.Now()
	if err := g.Wait(); !errors.Is(err, ErrStopTimeout) {
		t.Fatalf("Wait = %v, want ErrStopTimeout", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Wait not bounded")
	}
}
