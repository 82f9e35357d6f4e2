//go:build !linux

package hotplug

import "errors"

// openUevent: kernel uevents exist only on Linux; elsewhere the agent
// rescans on its poll interval.
func openUevent() (conn, error) {
	return nil, errors.New("kernel uevents are Linux-only; rescan on the poll interval instead")
}
