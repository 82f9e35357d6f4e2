package config

import (
	"errors"
	"io/fs"
	"os"
)

// managedPlist is where macOS puts a configuration profile's settings for
// the com.farmwatch.agent domain.
const managedPlist = "/Library/Managed Preferences/com.farmwatch.agent.plist"

func readManaged() (Managed, error) {
	data, err := os.ReadFile(managedPlist)
	if errors.Is(err, fs.ErrNotExist) {
		return Managed{}, nil
	}
	if err != nil {
		return Managed{}, err
	}
	return ParseManagedPlist(data)
}
