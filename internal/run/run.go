// Package run is the one place farmwatch starts goroutines: Group runs
// actors (functions bound to a context), recovers and logs their panics as
// errors, and stops them all when one returns or the context ends, waiting
// a bounded time for them to finish.
package run

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"go.uber.org/zap"
)

// ErrStopTimeout is returned by Wait when actors did not return within the
// group's stop timeout after cancellation.
var ErrStopTimeout = errors.New("actors did not stop in time")

// Group runs actors until the first one returns or ctx ends.
type Group struct {
	// StopTimeout bounds how long Wait waits for actors after cancellation
	// (default 5 s).
	StopTimeout time.Duration
	Logger      *zap.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	first  error
	done   chan struct{}
	once   sync.Once
}

// NewGroup returns a group whose actors share a context derived from ctx.
func NewGroup(ctx context.Context, log *zap.Logger) *Group {
	if log == nil {
		log = zap.NewNop()
	}
	g := &Group{StopTimeout: 5 * time.Second, Logger: log, done: make(chan struct{})}
	g.ctx, g.cancel = context.WithCancel(ctx)
	return g
}

// Go starts an actor. When it returns (or panics), the group is cancelled.
func (g *Group) Go(name string, actor func(ctx context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		err := Safely(name, g.Logger, func() error { return actor(g.ctx) })
		if err != nil && !errors.Is(err, context.Canceled) {
			g.Logger.Warn("actor_stopped", zap.String("actor", name), zap.Error(err))
		}
		g.mu.Lock()
		if g.first == nil && err != nil && !errors.Is(err, context.Canceled) {
			g.first = fmt.Errorf("%s: %w", name, err)
		}
		g.mu.Unlock()
		g.cancel()
	}()
}

// Stop cancels every actor. Safe to call more than once and before Go.
func (g *Group) Stop() { g.cancel() }

// Wait blocks until every actor returned after the group ended, or until
// StopTimeout passed since cancellation. It returns the first actor error.
func (g *Group) Wait() error {
	g.once.Do(func() {
		go func() { g.wg.Wait(); close(g.done) }()
	})
	select {
	case <-g.done:
	case <-g.ctx.Done():
		select {
		case <-g.done:
		case <-time.After(g.StopTimeout):
			return ErrStopTimeout
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.first
}

// Safely calls fn, turning a panic into an error with its stack.
func Safely(name string, log *zap.Logger, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in %s: %v", name, p)
			if log != nil {
				log.Error("actor_panic", zap.String("actor", name), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
			}
		}
	}()
	return fn()
}
