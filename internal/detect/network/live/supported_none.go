//go:build !linux && !darwin

package live

// Supported reports whether this OS has a live capture source.
const Supported = false
