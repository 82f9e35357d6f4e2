package inventory

import (
	"fmt"
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

// TestIoregUSBSpeedKey: newer macOS writes "USBSpeed" (a
// tIOUSBHostConnectionSpeed) where older releases wrote "Device Speed"; the
// real `ioreg -p IOUSB -l` in libusb/libusb issue #958 shows a USB 2.0
// device (bcdUSB 512) with "USBSpeed" = 3 (high speed). The entries here are
// synthetic (that dump is text, and cut before the device's idVendor); only
// the key and its value scale come from it.
func TestIoregUSBSpeedKey(t *testing.T) {
	for speed, want := range map[int]float64{1: 12, 2: 1.5, 3: 480, 4: 5000, 5: 10000, 6: 20000, 0: 0} {
		dump := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
	<key>IOObjectClass</key><string>IOUSBHostDevice</string>
	<key>USBSpeed</key><integer>%d</integer>
	<key>idVendor</key><integer>4617</integer>
	<key>idProduct</key><integer>1</integer>
	<key>bcdUSB</key><integer>512</integer>
	<key>locationID</key><integer>34678064</integer>
</dict></plist>`, speed)
		inv, err := ParseIoreg([]byte(dump), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.USB) != 1 || inv.USB[0].SpeedMbps != want || inv.USB[0].Path != "0x02112530" {
			t.Errorf("USBSpeed %d: %+v", speed, inv.USB)
		}
	}
	// "Device Speed", when present, wins (its own scale: 2 is high speed).
	both := `<plist version="1.0"><dict><key>idVendor</key><integer>1</integer><key>Device Speed</key><integer>2</integer><key>USBSpeed</key><integer>1</integer></dict></plist>`
	if inv, err := ParseIoreg([]byte(both), nil); err != nil || len(inv.USB) != 1 || inv.USB[0].SpeedMbps != 480 {
		t.Errorf("both keys: %v %+v", err, inv)
	}
}
