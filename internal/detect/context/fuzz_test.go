package hostcontext

import (
	"os"
	"path/filepath"
	"testing"
)

func seedFile(f *testing.F, rel string) {
	if b, err := os.ReadFile(filepath.Join(fixtures, rel)); err == nil {
		f.Add(b)
	}
}

func FuzzParseUtmp(f *testing.F) {
	seedFile(f, "linux-ibus-hangul/var/run/utmp")
	f.Add(make([]byte, 383))
	f.Fuzz(func(t *testing.T, b []byte) {
		es := parseUtmp(b)
		if len(es) != len(b)/utmpSize {
			t.Fatalf("%d entries from %d bytes", len(es), len(b))
		}
		_ = utmpSessions(b)
	})
}

func FuzzKeyValues(f *testing.F) {
	seedFile(f, "linux-ibus-hangul/etc/default/locale")
	seedFile(f, "linux-ibus-hangul/etc/default/keyboard")
	f.Add([]byte("LANG=\"\nXKBLAYOUT=,,\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = localesFromEnv(parseKeyValues(b))
		_ = parseXkbLayouts(b)
	})
}

func FuzzGlobalPrefs(f *testing.F) {
	seedFile(f, "macos-korean-ime/Library/Preferences/.GlobalPreferences.plist")
	f.Add([]byte("bplist00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseGlobalPrefs(b)
	})
}

func FuzzHIToolbox(f *testing.F) {
	seedFile(f, "macos-korean-ime/Users/jsmith/Library/Preferences/com.apple.HIToolbox.plist")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseHIToolbox(b, "x")
	})
}

func FuzzIoregIdle(f *testing.F) {
	f.Add([]byte(`<plist version="1.0"><array><dict><key>HIDIdleTime</key><integer>5</integer></dict></array></plist>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, ok := parseIoregIdle(b); ok && d < 0 {
			t.Fatalf("negative idle %v", d)
		}
	})
}

func FuzzWindowsContext(f *testing.F) {
	seedFile(f, "windows-korean-ime/context.json")
	seedFile(f, "windows-clean/context.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		wc, err := parseWindowsContext(b)
		if err != nil {
			return
		}
		fs := wc.Facts()
		s := DefaultSettings()
		s.ExpectedRegion = usRegion
		_ = decide(input{facts: fs}, s)
	})
}

func FuzzHistogram(f *testing.F) {
	seedFile(f, "windows-korean-ime/context-activity.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHistogram(b)
		if err != nil {
			return
		}
		for _, c := range h.Hours {
			if c < 0 {
				t.Fatal("negative count")
			}
		}
		m, ok := ForeignHours(h, expectedOffsets(usRegion), 1)
		if ok && (m.Best.Score < 0 || m.Best.Score > 1) {
			t.Fatalf("%+v", m)
		}
	})
}
