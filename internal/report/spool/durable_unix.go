//go:build !windows

package spool

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// syncDir makes the directory's entries (a created segment, a renamed state
// file) durable: fsync on the directory. On macOS os.File.Sync is
// F_FULLFSYNC; where a file system refuses that on a directory, plain fsync
// is used.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: open directory for fsync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		if errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.ENOTTY) {
			if err := syscall.Fsync(int(d.Fd())); err != nil {
				return fmt.Errorf("spool: fsync directory %s: %w", dir, err)
			}
			return nil
		}
		return fmt.Errorf("spool: fsync directory %s: %w", dir, err)
	}
	return nil
}

// replaceFile renames from over to; syncDir afterwards makes it durable.
func replaceFile(from, to string) error { return os.Rename(from, to) }
