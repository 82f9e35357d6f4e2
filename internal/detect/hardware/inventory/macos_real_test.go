package inventory

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSPDisplaysRealM3Pro reads a real `system_profiler -json
// SPDisplaysDataType` of an M3 Pro Mac with a Dell U2722DE (testdata/
// macos-real/README.md says where it was published).
func TestSPDisplaysRealM3Pro(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "macos-real", "spdisplays-m3pro-dell-u2722de.json"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ParseSPDisplays(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("%d displays", len(ds))
	}
	d := ds[0]
	mfg, product, hasProduct, serial, hasSerial, name, _ := d.Identity()
	// 0x10ac is the EDID manufacturer word of "DEL".
	if mfg != "DEL" || product != 0x4231 || !hasProduct || serial != 0x4254554c || !hasSerial || name != "DELL U2722DE" {
		t.Errorf("identity %q %#x/%v %#x/%v %q", mfg, product, hasProduct, serial, hasSerial, name)
	}
	if d.Week != 14 || d.Year != 2022 || d.Internal || !d.Connected || !d.Enabled || d.EDID != nil {
		t.Errorf("display %+v", *d)
	}
	// The whole macOS parse with only the displays recorded.
	inv, err := ParseDarwin(nil, nil, b, nil)
	if err != nil || len(inv.Displays) != 1 || len(inv.USB) != 0 || inv.Lid != "" {
		t.Errorf("ParseDarwin: %v %+v", err, inv)
	}
}
