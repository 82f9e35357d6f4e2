// Package command is farmwatch's one way to run an operating-system program:
// by absolute path (no PATH lookup), under a timeout, with its output capped,
// in the C locale, and with an error that names the program and carries the
// tail of what it wrote to stderr.
//
// Every detector and the service code run programs through Run; nothing else
// in farmwatch imports os/exec.
package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Defaults applied when an Options field is zero.
const (
	DefaultTimeout   = 15 * time.Second
	DefaultMaxOutput = 64 << 20
	// stderrTail is how much of stderr an error carries.
	stderrTail = 1 << 10
	// waitDelay bounds the wait for output pipes after the process is
	// killed (a grandchild may hold them open).
	waitDelay = 2 * time.Second
)

// DefaultEnv is the environment programs run with unless Options.Env or
// Options.InheritEnv says otherwise: the C locale (stable, parseable output)
// and a fixed PATH for the programs they start themselves.
var DefaultEnv = []string{"LANG=C", "LC_ALL=C", "PATH=/usr/bin:/bin:/usr/sbin:/sbin"}

// ErrOutputLimit is wrapped by the error of a program whose output exceeded
// Options.MaxOutput; the program is stopped and the output up to the limit
// returned.
var ErrOutputLimit = errors.New("output limit exceeded")

// Options are the bounds of one run. The zero value is DefaultTimeout,
// DefaultMaxOutput and DefaultEnv.
type Options struct {
	Timeout   time.Duration
	MaxOutput int
	// Env replaces DefaultEnv; InheritEnv runs with the agent's own
	// environment instead (service managers that read it).
	Env        []string
	InheritEnv bool
	// Combined returns stdout and stderr interleaved (as the program
	// printed them) instead of stdout alone.
	Combined bool
}

// Run runs argv[0] (an absolute path) with the default bounds and returns
// its standard output.
func Run(ctx context.Context, argv ...string) ([]byte, error) {
	return RunWith(ctx, Options{}, argv...)
}

// RunWith runs argv[0] (an absolute path) with opts. On failure the output
// read so far is returned with an error naming the command, the cause
// (exit status, timeout, output limit) and the tail of stderr.
func RunWith(ctx context.Context, opts Options, argv ...string) ([]byte, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("command: empty command line")
	}
	if !filepath.IsAbs(argv[0]) && !isWindowsAbs(argv[0]) {
		return nil, fmt.Errorf("command: %s: not an absolute path", argv[0])
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = DefaultMaxOutput
	}
	cctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	switch {
	case opts.InheritEnv:
		cmd.Env = os.Environ()
	case opts.Env != nil:
		cmd.Env = opts.Env
	default:
		cmd.Env = DefaultEnv
	}
	cmd.WaitDelay = waitDelay
	out := &capped{max: opts.MaxOutput, cancel: cancel}
	tail := &tailBuffer{max: stderrTail}
	cmd.Stdout = out
	if opts.Combined {
		cmd.Stderr = multi{out, tail}
	} else {
		cmd.Stderr = tail
	}
	err := cmd.Run()
	b := out.bytes()
	switch {
	case out.exceeded():
		err = fmt.Errorf("%s: %w (%d bytes)", name(argv), ErrOutputLimit, opts.MaxOutput)
	case err != nil && cctx.Err() != nil && ctx.Err() == nil:
		err = fmt.Errorf("%s: timed out after %s: %w", name(argv), opts.Timeout, context.DeadlineExceeded)
	case err != nil && ctx.Err() != nil:
		err = fmt.Errorf("%s: %w", name(argv), ctx.Err())
	case err != nil:
		err = fmt.Errorf("%s: %w", name(argv), err)
	}
	if err != nil {
		if t := strings.TrimSpace(tail.String()); t != "" {
			err = fmt.Errorf("%w: stderr: %s", err, t)
		}
		return b, err
	}
	return b, nil
}

func name(argv []string) string { return strings.Join(argv, " ") }

// isWindowsAbs accepts C:\... when the agent is built for another OS but
// asked about a Windows path (tests); filepath.IsAbs covers the native case.
func isWindowsAbs(p string) bool {
	return len(p) > 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

// capped keeps up to max bytes and stops the program when it writes more.
type capped struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	max    int
	over   bool
	cancel context.CancelFunc
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.over {
		return 0, ErrOutputLimit
	}
	if room := c.max - c.buf.Len(); len(p) > room {
		c.buf.Write(p[:room])
		c.over = true
		c.cancel()
		return room, ErrOutputLimit
	}
	return c.buf.Write(p)
}

func (c *capped) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf.Len() == 0 {
		return nil
	}
	return append([]byte(nil), c.buf.Bytes()...)
}

func (c *capped) exceeded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.over
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

type multi []interface{ Write([]byte) (int, error) }

func (m multi) Write(p []byte) (int, error) {
	for _, w := range m {
		if _, err := w.Write(p); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
