//go:build !darwin && !windows

package config

// readManaged: Linux fleets are configured through the config file itself
// (apt/dnf, configuration management), so there is no managed store.
func readManaged() (Managed, error) { return Managed{}, nil }
