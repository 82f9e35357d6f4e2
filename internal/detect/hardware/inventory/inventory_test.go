package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var fixtureRoot = filepath.Join("..", "..", "..", "..", "testdata", "hardware")

// checkInventory asserts the bounds and sanitising every reader promises.
func checkInventory(t *testing.T, inv *Inventory) {
	t.Helper()
	if len(inv.USB) > maxUSBEntries || len(inv.HID) > maxHIDEntries || len(inv.Displays) > maxDRMEntries {
		t.Fatalf("unbounded inventory: %d usb %d hid %d displays", len(inv.USB), len(inv.HID), len(inv.Displays))
	}
	for _, u := range inv.USB {
		for _, s := range []string{u.Manufacturer, u.Product, u.Serial, u.Path} {
			if len([]rune(s)) > MaxString || strings.ContainsAny(s, "\x00\x1b\n") {
				t.Fatalf("unsanitised %q", s)
			}
		}
		if len(u.Interfaces) > 64 {
			t.Fatalf("%d interfaces", len(u.Interfaces))
		}
	}
}

func TestParseProcInput(t *testing.T) {
	in := "I: Bus=0003 Vendor=1d6b Product=0104 Version=0101\nN: Name=\"PiKVM Composite Device\"\nP: Phys=usb-0000:00:14.0-1/input0\nS: Sysfs=/devices/x\nH: Handlers=sysrq kbd event3 leds\n\nI: Bus=0019 Vendor=0000 Product=0005 Version=0000\nN: Name=\"Lid Switch\"\n"
	got := ParseProcInput([]byte(in))
	if len(got) != 2 || got[0].Vendor != 0x1d6b || got[0].Name != "PiKVM Composite Device" || got[0].Handlers[1] != "kbd" || got[1].Bus != 0x19 {
		t.Fatalf("%+v", got)
	}
}

func FuzzParseIoreg(f *testing.F) {
	for _, n := range []string{"pikvm", "ordinary-mac", "jetkvm-logitech"} {
		u, _ := os.ReadFile(filepath.Join(fixtureRoot, "darwin", n, FileIoregUSB))
		h, _ := os.ReadFile(filepath.Join(fixtureRoot, "darwin", n, FileIoregHID))
		f.Add(u, h)
	}
	f.Add([]byte("bplist00"), []byte("<plist><array/></plist>"))
	f.Fuzz(func(t *testing.T, usb, hidp []byte) {
		inv, err := ParseIoreg(usb, hidp)
		if err != nil {
			return
		}
		checkInventory(t, inv)
	})
}

func FuzzParsePnP(f *testing.F) {
	for _, n := range []string{"pikvm", "ordinary-laptop", "jetkvm-logitech"} {
		p, _ := os.ReadFile(filepath.Join(fixtureRoot, "windows", n, FilePnPDevices))
		m, _ := os.ReadFile(filepath.Join(fixtureRoot, "windows", n, FileMonitors))
		f.Add(p, m)
	}
	f.Add([]byte(`{"InstanceId":"USBSTOR\\CDROM&VEN_&PROD_\\&"}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, pnp, mon []byte) {
		inv, err := ParseWindows(pnp, mon)
		if inv == nil || err != nil {
			return
		}
		checkInventory(t, inv)
	})
}

func TestWindowsHIDCaps(t *testing.T) {
	if got := hidInstanceID(`\\?\hid#vid_1d6b&pid_0104&mi_01#8&2c3d4e5f&0&0000#{4d1e55b2-f16f-11cf-88cb-001111000030}`); got != `HID\VID_1D6B&PID_0104&MI_01\8&2C3D4E5F&0&0000` {
		t.Fatalf("instance id %q", got)
	}
	d := capsDescriptor(&HIDCaps{UsagePage: 1, Usage: 2, Values: []HIDValueCap{
		{UsagePage: 1, UsageMin: 0x30, ReportID: 1, Absolute: true, LogicalMax: 32767},
		{UsagePage: 1, UsageMin: 0x31, ReportID: 1, Absolute: true, LogicalMax: 32767},
		{UsagePage: 1, UsageMin: 0x38, ReportID: 2, LogicalMin: -127, LogicalMax: 127}}})
	if !d.KVMAbsoluteRange() || d.RelativePointer() || len(d.ReportIDs) != 2 {
		t.Fatalf("abs mouse caps: %+v", d)
	}
	d = capsDescriptor(&HIDCaps{UsagePage: 0x0d, Usage: 4, Values: []HIDValueCap{{UsagePage: 1, UsageMin: 0x30, Absolute: true, LogicalMax: 32767}}})
	if d.KVMAbsoluteRange() || !d.Digitizer() {
		t.Fatal("touch screen caps taken for a KVM pointer")
	}
	d = capsDescriptor(&HIDCaps{UsagePage: 1, Usage: 2, Values: []HIDValueCap{{UsagePage: 1, UsageMin: 0x30, UsageMax: 0x31, LogicalMin: -127, LogicalMax: 127}}})
	if !d.RelativePointer() {
		t.Fatal("ranged relative axes not seen")
	}
}

// TestHostileSysfs: oversized, binary and control-character attribute files
// are bounded and sanitised; garbage EDIDs and descriptors are skipped.
func TestHostileSysfs(t *testing.T) {
	root := t.TempDir()
	put := func(rel string, data []byte) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := []byte(strings.Repeat("\x1b[2J\u202eEVIL\x00\xff", 200000))
	put("sys/bus/usb/devices/1-1/idVendor", []byte("1d6b\n"))
	put("sys/bus/usb/devices/1-1/idProduct", []byte("zzzz\n"))
	put("sys/bus/usb/devices/1-1/product", big)
	put("sys/bus/usb/devices/1-1/manufacturer", big)
	put("sys/bus/usb/devices/1-1/speed", []byte("NaN-ish"))
	put("sys/bus/usb/devices/1-1:1.0/bInterfaceClass", []byte("03\n"))
	put("sys/bus/usb/devices/1-1:1.0/interface", big)
	put("sys/bus/usb/devices/1-1:1.0/0003:1D6B:0104.0001/report_descriptor", big)
	put("sys/class/drm/card0-HDMI-A-1/status", []byte("connected\n"))
	put("sys/class/drm/card0-HDMI-A-1/edid", big)
	put("proc/bus/input/devices", []byte(strings.Repeat("N: Name=\""+strings.Repeat("x", 100000)+"\"\n", 20)))
	put("proc/acpi/button/lid/LID0/state", big)
	inv, err := ReadLinux(root)
	if err != nil {
		t.Fatal(err)
	}
	checkInventory(t, inv)
	if len(inv.USB) != 1 || inv.USB[0].PID != 0 || len(inv.USB[0].Product) > 4*MaxString || inv.USB[0].SpeedMbps != 0 {
		t.Fatalf("%+v", inv.USB[0])
	}
	if n := inv.USB[0].Interfaces[0].Name; strings.ContainsAny(n, "\x1b\x00\u202e") || len([]rune(n)) > MaxString {
		t.Fatalf("interface name %q", n)
	}
	if len(inv.Displays) != 1 || inv.Displays[0].EDID != nil {
		t.Fatalf("garbage EDID parsed: %+v", inv.Displays)
	}
}
