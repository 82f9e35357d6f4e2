//go:build !linux && !darwin

package route

import "github.com/farmwatch/farmwatch/internal/source/hostpath"

// defaultInterfaces: no route reader here; the caller falls back to every
// up, non-loopback interface (unused on Windows, which reads the
// connection table instead of capturing).
func defaultInterfaces(hostpath.Root) []string { return nil }
