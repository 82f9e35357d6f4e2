// Package version holds the build's version, set by the linker
// (-X github.com/farmwatch/farmwatch/internal/version.Version=...).
package version

import "runtime"

// Version of this build; "dev" when built without the Makefile.
var Version = "dev"

// String is the one-line version shown by `farmwatch-agent version`.
func String(binary string) string {
	return binary + " " + Version + " (" + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}
