//go:build darwin

package inventory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/farmwatch/farmwatch/internal/source/command"
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

func runDarwin(ctx context.Context) (outs [4][]byte, err error) {
	var errs []error
	for i, c := range darwinCommands {
		out, rerr := command.Run(ctx, c.argv...)
		if rerr != nil {
			errs = append(errs, rerr)
		} else {
			outs[i] = out
		}
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
