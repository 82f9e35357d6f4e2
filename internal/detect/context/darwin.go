package hostcontext

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"howett.net/plist"
)

// macOS files read under the root (and copied into snapshots).
const (
	darwinGlobalPrefs = "Library/Preferences/.GlobalPreferences.plist"
	darwinHIToolbox   = "Library/Preferences/com.apple.HIToolbox.plist" // under Users/<name>/
	darwinUsers       = "Users"
)

// GlobalPrefs are the locale keys of .GlobalPreferences.plist.
type GlobalPrefs struct {
	AppleLocale    string   `plist:"AppleLocale"`
	AppleLanguages []string `plist:"AppleLanguages"`
}

// parseGlobalPrefs decodes a (binary or XML) .GlobalPreferences.plist.
func parseGlobalPrefs(b []byte) (GlobalPrefs, error) {
	var g GlobalPrefs
	_, err := plist.Unmarshal(b, &g)
	return g, err
}

// inputSourceEntry is one AppleEnabledInputSources item.
type inputSourceEntry struct {
	Kind       string `plist:"InputSourceKind"`
	LayoutName string `plist:"KeyboardLayout Name"`
	LayoutID   int64  `plist:"KeyboardLayout ID"`
	BundleID   string `plist:"Bundle ID"`
	InputMode  string `plist:"Input Mode"`
}

type hiToolbox struct {
	Enabled []inputSourceEntry `plist:"AppleEnabledInputSources"`
}

// macLang maps input-source identifiers (bundle ids, modes, layout names)
// to languages, by substring.
var macLang = []struct{ key, lang string }{
	{"korean", "ko"}, {"hangul", "ko"}, {"2setkorean", "ko"}, {"scim", "zh"}, {"tcim", "zh"}, {"pinyin", "zh"},
	{"chinese", "zh"}, {"zhuyin", "zh"}, {"cangjie", "zh"}, {"wubi", "zh"}, {"kotoeri", "ja"}, {"japanese", "ja"},
	{"kana", "ja"}, {"russian", "ru"}, {"ukrainian", "uk"}, {"vietnamese", "vi"}, {"thai", "th"}, {"german", "de"},
	{"french", "fr"}, {"spanish", "es"}, {"persian", "fa"}, {"arabic", "ar"},
	{"abc", "en"}, {"u.s.", "en"}, {"keylayout.us", "en"}, {"british", "en"}, {"australian", "en"}, {"canadian", "en"},
}

func macInputLang(id string) string {
	l := strings.ToLower(id)
	if l == "us" || l == "abc" {
		return "en"
	}
	for _, m := range macLang {
		if strings.Contains(l, m.key) {
			return m.lang
		}
	}
	return ""
}

// parseHIToolbox returns the enabled input sources of a
// com.apple.HIToolbox.plist.
func parseHIToolbox(b []byte, where string) ([]InputSource, error) {
	var h hiToolbox
	if _, err := plist.Unmarshal(b, &h); err != nil {
		return nil, err
	}
	// A method enabled with its input modes lists both: keep the modes.
	hasModes := map[string]bool{}
	for _, e := range h.Enabled {
		if e.Kind == "Input Mode" && e.BundleID != "" {
			hasModes[e.BundleID] = true
		}
	}
	var out []InputSource
	for _, e := range h.Enabled {
		if e.Kind == "Keyboard Input Method" && hasModes[e.BundleID] {
			continue
		}
		switch e.Kind {
		case "Keyboard Layout":
			if e.LayoutName == "" {
				continue
			}
			out = append(out, InputSource{Name: "keylayout:" + e.LayoutName, Lang: macInputLang(e.LayoutName), Where: where})
		case "Input Mode", "Keyboard Input Method":
			id := e.InputMode
			if id == "" {
				id = e.BundleID
			}
			if id == "" {
				continue
			}
			lang := macInputLang(id)
			if lang == "" {
				continue // palettes, emoji, dictation and the like
			}
			out = append(out, InputSource{Name: id, Lang: lang, IME: lang != "en", Where: where})
		}
	}
	return out, nil
}

// parseIoregIdle finds HIDIdleTime (nanoseconds) in `ioreg -a -c
// IOHIDSystem` output.
func parseIoregIdle(b []byte) (time.Duration, bool) {
	var v any
	if _, err := plist.Unmarshal(b, &v); err != nil {
		return 0, false
	}
	var walk func(any, int) (time.Duration, bool)
	walk = func(v any, depth int) (time.Duration, bool) {
		if depth > 32 {
			return 0, false
		}
		switch t := v.(type) {
		case map[string]any:
			if x, ok := t["HIDIdleTime"]; ok {
				switch n := x.(type) {
				case uint64:
					return time.Duration(n), true
				case int64:
					if n >= 0 {
						return time.Duration(n), true
					}
				}
			}
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if d, ok := walk(t[k], depth+1); ok {
					return d, true
				}
			}
		case []any:
			for _, x := range t {
				if d, ok := walk(x, depth+1); ok {
					return d, true
				}
			}
		}
		return 0, false
	}
	return walk(v, 0)
}

// readDarwinFacts reads a macOS tree under root.
func readDarwinFacts(root string) (*Facts, error) {
	f := &Facts{OS: "darwin"}
	var errs []error
	f.TimeZone = readLocaltime(root)
	f.TimeZoneRaw = f.TimeZone
	if b, err := readSmall(filepath.Join(root, darwinGlobalPrefs)); err == nil && len(b) > 0 {
		g, perr := parseGlobalPrefs(b)
		if perr != nil {
			errs = append(errs, perr)
		}
		seen := map[string]bool{}
		for _, l := range append([]string{g.AppleLocale}, g.AppleLanguages...) {
			if l != "" && localeLang(l) != "" && !seen[l] {
				seen[l] = true
				f.Locales = append(f.Locales, l)
			}
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	users, _ := os.ReadDir(filepath.Join(root, darwinUsers))
	for _, u := range users {
		p := filepath.Join(root, darwinUsers, u.Name(), darwinHIToolbox)
		b, err := readSmall(p)
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		ins, perr := parseHIToolbox(b, "/Users/"+u.Name()+"/"+darwinHIToolbox)
		if perr != nil {
			errs = append(errs, perr)
		}
		f.Inputs = append(f.Inputs, ins...)
	}
	return f, errors.Join(errs...)
}
