package config

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// readManaged reads the values the MSI writes from its COLLECTOR_URL and
// ENROLL_SECRET properties.
func readManaged() (Managed, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\farmwatch`, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return Managed{}, nil
	}
	if err != nil {
		return Managed{}, fmt.Errorf("managed settings: %w", err)
	}
	defer k.Close()
	var m Managed
	m.CollectorURL, _, _ = k.GetStringValue("CollectorURL")
	m.EnrollSecret, _, _ = k.GetStringValue("EnrollSecret")
	return m, nil
}
