// Package route is farmwatch's one default-route reader: which interfaces
// carry this host's default routes. Linux reads proc/net/route under the
// configured root (so fixtures work), macOS the kernel routing table through
// a route-socket sysctl dump; other systems have no reader here and get
// nil (the caller falls back to every up interface).
package route

import "github.com/farmwatch/farmwatch/internal/source/hostpath"

// DefaultInterfaces returns the names of the interfaces of the default
// routes (IPv4 on Linux; IPv4 and IPv6 on macOS), each once, in table order.
func DefaultInterfaces(root hostpath.Root) []string { return defaultInterfaces(root) }

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
