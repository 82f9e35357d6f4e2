//go:build !darwin && !windows

package inventory

import (
	"context"
	"errors"
)

// On Linux (and other Unixes) only snapshots of macOS and Windows hosts can
// be read; live acquisition needs the host's own APIs and tools.

func LiveDarwin(context.Context) (*Inventory, error) {
	return nil, errors.New("hardware: a live macOS host can only be read on macOS; record a snapshot there")
}

func CollectDarwin(context.Context, string) error {
	return errors.New("hardware: macOS sources can only be collected on macOS")
}

func LiveWindows(context.Context) (*Inventory, error) {
	return nil, errors.New("hardware: a live Windows host can only be read on Windows; record a snapshot there")
}

func CollectWindows(context.Context, string) error {
	return errors.New("hardware: Windows sources can only be collected on Windows")
}
