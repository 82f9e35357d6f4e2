package source

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
)

// machineSerial reads the DMI product serial (root-readable only), or the
// device tree's serial-number on boards without DMI.
func machineSerial(_ context.Context, root string) (string, error) {
	var errs []error
	for _, p := range []string{linuxDMISerial, linuxDTSerial} {
		b, err := ReadFileCapped(filepath.Join(root, p), 4096)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if s := cleanSerial(b); s != "" {
			return s, nil
		}
	}
	return "", errors.Join(errs...)
}
