//go:build !linux && !darwin

package traffic

// defaultRouteInterfaces: no route source here; the caller falls back to
// every up, non-loopback interface (unused on Windows, which reads the
// connection table instead of capturing).
func defaultRouteInterfaces(string) []string { return nil }
