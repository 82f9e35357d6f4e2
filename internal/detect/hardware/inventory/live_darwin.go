//go:build darwin

package inventory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// darwinCommands are the macOS sources, run by absolute path.
var darwinCommands = []struct {
	file string
	argv []string
}{
	{FileIoregUSB, []string{"/usr/sbin/ioreg", "-p", "IOUSB", "-l", "-w0", "-a"}},
	{FileIoregHID, []string{"/usr/sbin/ioreg", "-r", "-c", "IOHIDDevice", "-l", "-w0", "-a"}},
	{FileDisplays, []string{"/usr/sbin/system_profiler", "-json", "SPDisplaysDataType"}},
	{FileClamshell, []string{"/usr/sbin/ioreg", "-r", "-k", "AppleClamshellState", "-d", "1", "-a"}},
}

// maxCommandOutput bounds one command's output.
const maxCommandOutput = 64 << 20

type limitedBuffer struct {
	buf []byte
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if len(b.buf)+len(p) > b.max {
		return 0, fmt.Errorf("output larger than %d bytes", b.max)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func runDarwin(ctx context.Context) (outs [4][]byte, err error) {
	var errs []error
	for i, c := range darwinCommands {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		out := &limitedBuffer{max: maxCommandOutput}
		cmd := exec.CommandContext(cctx, c.argv[0], c.argv[1:]...)
		cmd.Stdout = out
		cmd.Env = []string{"LANG=C", "PATH=/usr/bin:/bin:/usr/sbin:/sbin"}
		if rerr := cmd.Run(); rerr != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.argv[0], rerr))
		} else {
			outs[i] = out.buf
		}
		cancel()
	}
	return outs, errors.Join(errs...)
}

func LiveDarwin(ctx context.Context) (*Inventory, error) {
	outs, err := runDarwin(ctx)
	inv, perr := ParseDarwin(outs[0], outs[1], outs[2], outs[3])
	return inv, errors.Join(err, perr)
}

func CollectDarwin(ctx context.Context, dir string) error {
	outs, err := runDarwin(ctx)
	errs := []error{err}
	for i, c := range darwinCommands {
		if outs[i] == nil {
			continue
		}
		if werr := os.WriteFile(filepath.Join(dir, c.file), outs[i], 0o644); werr != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", c.file, werr))
		}
	}
	return errors.Join(errs...)
}

func LiveWindows(context.Context) (*Inventory, error) {
	return nil, errors.New("hardware: a live Windows host can only be read on Windows; record a snapshot there")
}

func CollectWindows(context.Context, string) error {
	return errors.New("hardware: Windows sources can only be collected on Windows")
}
