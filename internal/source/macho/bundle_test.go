package macho

import (
	"os"
	"path/filepath"
	"testing"

	"howett.net/plist"
)

func TestEnclosingApp(t *testing.T) {
	for _, tc := range []struct{ exe, want string }{
		{"/Applications/AnyDesk.app/Contents/MacOS/AnyDesk", "/Applications/AnyDesk.app"},
		{"/Applications/TeamViewer.app/Contents/Helpers/TeamViewer_Desktop", "/Applications/TeamViewer.app"},
		{"/Applications/Foo.app/Contents/Frameworks/Foo Helper.app/Contents/MacOS/Foo Helper", "/Applications/Foo.app/Contents/Frameworks/Foo Helper.app"},
		{"/Users/amy/Applications/Bar.APP/Contents/MacOS/bar", "/Users/amy/Applications/Bar.APP"},
		{"/Applications/Foo.app/Contents/MacOS/../MacOS/foo", "/Applications/Foo.app"},
		{"/usr/local/bin/ngrok", ""},
		{"/Applications/Foo.app/foo", ""},     // not under Contents
		{"/Applications/Foo.app", ""},         // the bundle itself
		{"/opt/x.app.d/Contents/MacOS/x", ""}, // not named .app
		{"/Library/Contents/MacOS/x", ""},     // Contents without a bundle
		{"relative/Tool.app/Contents/MacOS/tool", "relative/Tool.app"},
		{"", ""},
	} {
		if got := EnclosingApp(tc.exe); got != tc.want {
			t.Errorf("EnclosingApp(%q) = %q, want %q", tc.exe, got, tc.want)
		}
	}
}

func writeApp(t *testing.T, plistData []byte) string {
	t.Helper()
	app := filepath.Join(t.TempDir(), "Remote.app")
	if err := os.MkdirAll(filepath.Join(app, "Contents", "MacOS"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "Contents", "Info.plist"), plistData, 0o644); err != nil {
		t.Fatal(err)
	}
	return app
}

const xmlInfoPlist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleExecutable</key>
	<string>Remote</string>
	<key>CFBundleIdentifier</key>
	<string>com.example.remote-desktop</string>
	<key>CFBundleShortVersionString</key>
	<string>9.1</string>
	<key>LSUIElement</key>
	<true/>
</dict>
</plist>
`

func TestBundleIDXML(t *testing.T) {
	app := writeApp(t, []byte(xmlInfoPlist))
	id, err := BundleID(app)
	if err != nil || id != "com.example.remote-desktop" {
		t.Fatalf("BundleID = %q, %v", id, err)
	}
	// Through EnclosingApp, as the agent does.
	id, err = BundleID(EnclosingApp(filepath.Join(app, "Contents", "MacOS", "Remote")))
	if err != nil || id != "com.example.remote-desktop" {
		t.Fatalf("BundleID(EnclosingApp) = %q, %v", id, err)
	}
}

func TestBundleIDBinary(t *testing.T) {
	data, err := plist.Marshal(map[string]any{
		"CFBundleIdentifier":     "com.example.binary-plist",
		"CFBundleExecutable":     "Remote",
		"LSMinimumSystemVersion": "11.0",
	}, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	if string(data[:8]) != "bplist00" {
		t.Fatalf("encoder did not write a binary plist: %q", data[:8])
	}
	id, err := BundleID(writeApp(t, data))
	if err != nil || id != "com.example.binary-plist" {
		t.Fatalf("BundleID = %q, %v", id, err)
	}
}

func TestBundleIDErrors(t *testing.T) {
	for name, data := range map[string]string{
		"no identifier":    `<plist version="1.0"><dict><key>CFBundleName</key><string>x</string></dict></plist>`,
		"not a string":     `<plist version="1.0"><dict><key>CFBundleIdentifier</key><integer>7</integer></dict></plist>`,
		"not a dict":       `<plist version="1.0"><array><string>com.example</string></array></plist>`,
		"garbage":          "\x00\x01\x02 not a plist",
		"truncated bplist": "bplist00\xd1\x01\x02",
	} {
		t.Run(name, func(t *testing.T) {
			if id, err := BundleID(writeApp(t, []byte(data))); err == nil {
				t.Fatalf("BundleID = %q, want an error", id)
			}
		})
	}
	if _, err := BundleID(t.TempDir()); err == nil {
		t.Error("missing Info.plist: want an error")
	}
}
