package macho

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"howett.net/plist"
)

// MaxInfoPlistSize is the largest Info.plist read.
const MaxInfoPlistSize = 4 << 20

// EnclosingApp returns the innermost application bundle (a directory whose
// name ends in .app and that holds the path under its Contents folder)
// enclosing exe, or "" when there is none. For
// /Applications/Foo.app/Contents/MacOS/foo it returns /Applications/Foo.app;
// for a helper app nested in Contents/Frameworks it returns the helper.
func EnclosingApp(exe string) string {
	cur := filepath.Dir(filepath.Clean(exe))
	for {
		parent := filepath.Dir(cur)
		if parent == cur {
			return ""
		}
		if filepath.Base(cur) == "Contents" && strings.HasSuffix(strings.ToLower(filepath.Base(parent)), ".app") {
			return parent
		}
		cur = parent
	}
}

// BundleID returns CFBundleIdentifier from appDir/Contents/Info.plist,
// which may be an XML or a binary property list.
func BundleID(appDir string) (string, error) {
	f, err := os.Open(filepath.Join(appDir, "Contents", "Info.plist"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxInfoPlistSize+1))
	if err != nil {
		return "", err
	}
	if len(data) > MaxInfoPlistSize {
		return "", fmt.Errorf("macho: %s/Contents/Info.plist is larger than %d bytes", appDir, MaxInfoPlistSize)
	}
	return BundleIDFromPlist(data)
}

// BundleIDFromPlist returns CFBundleIdentifier from the bytes of an
// Info.plist.
func BundleIDFromPlist(data []byte) (id string, err error) {
	defer func() {
		// The plist decoder works on untrusted bytes; a decoder bug must
		// not take the agent down.
		if r := recover(); r != nil {
			id, err = "", fmt.Errorf("macho: Info.plist: decoder failed: %v", r)
		}
	}()
	var info map[string]any
	if _, err := plist.Unmarshal(data, &info); err != nil {
		return "", fmt.Errorf("macho: Info.plist: %w", err)
	}
	v, ok := info["CFBundleIdentifier"]
	if !ok {
		return "", errors.New("macho: Info.plist has no CFBundleIdentifier")
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("macho: Info.plist CFBundleIdentifier is a %T, not a string", v)
	}
	return s, nil
}
