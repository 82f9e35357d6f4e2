package hardware

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/detect/hardware/edid"
	"github.com/farmwatch/farmwatch/internal/detect/hardware/internal/descs"
	"github.com/farmwatch/farmwatch/internal/detect/hardware/inventory"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

const (
	info     = report.SeverityInfo
	medium   = report.SeverityMedium
	high     = report.SeverityHigh
	critical = report.SeverityCritical
)

func TestLinuxFixtures(t *testing.T) {
	cases := map[string][]want{
		"linux/pikvm": {
			{RuleUSBIdentity, ToolPiKVM, critical, []string{TraitIdentity, TraitHIDInterfaceName, TraitBootKbAbs, TraitRelMouse, TraitMassStorage, TraitKVMSCSIVendor, TraitLinuxFoundation, TraitKVMSerial}},
			{RuleDisplayEDID, ToolPiKVM, high, []string{TraitKVMEDID, TraitKVMMonitorName}},
		},
		"linux/pikvm-pico":       {{RuleUSBIdentity, ToolPiKVM, critical, []string{TraitIdentity, TraitBootKbAbs}}},
		"linux/tinypilot":        {{RuleUSBIdentity, ToolTinyPilot, critical, []string{TraitIdentity, TraitHIDInterfaceName, TraitBootKbAbs, TraitKVMSerial}}, {RuleDisplayEDID, ToolTinyPilot, high, []string{TraitKVMEDID}}},
		"linux/jetkvm-default":   {{RuleUSBIdentity, ToolJetKVM, critical, []string{TraitIdentity, TraitBootKbAbs, TraitRelMouse, TraitMassStorage, TraitAudio, TraitKVMSCSIVendor}}, {RuleDisplayCapture, ToolJetKVM, medium, []string{TraitCaptureEDID}}},
		"linux/jetkvm-logitech":  {{RuleUSBSpoofed, ToolJetKVM, critical, []string{TraitSpoofStrings, TraitSpoofSpeed, TraitSpoofPacket, TraitSpoofInterfaces, TraitJetKVMSerial, TraitKVMSCSIVendor}}, {RuleDisplayEDID, ToolJetKVM, high, []string{TraitKVMEDID}}},
		"linux/jetkvm-microsoft": {{RuleUSBSpoofed, ToolJetKVM, critical, []string{TraitSpoofSpeed, TraitSpoofPacket, TraitJetKVMSerial}}, {RuleDisplayEDID, ToolJetKVM, high, []string{TraitKVMEDID}}},
		"linux/jetkvm-dell":      {{RuleUSBSpoofed, ToolJetKVM, critical, []string{TraitSpoofSpeed, TraitSpoofInterfaces, TraitJetKVMSerial}}, {RuleDisplayEDID, ToolJetKVM, high, []string{TraitKVMEDID}}},
		"linux/nanokvm":          {{RuleUSBIdentity, ToolNanoKVM, critical, []string{TraitIdentity, TraitBootKbAbs, TraitRelMouse, TraitKVMSerial}}, {RuleDisplayEDID, ToolNanoKVM, high, []string{TraitKVMEDID}}},
		"linux/nanokvm-hid-only": {{RuleUSBIdentity, ToolNanoKVM, critical, []string{TraitIdentity}}, {RuleDisplayEDID, ToolNanoKVM, high, []string{TraitKVMEDID}}},
		"linux/glinet-comet":     {{RuleUSBIdentity, ToolGLiNetComet, critical, []string{TraitIdentity, TraitAudio, TraitMassStorage, TraitKVMSerial}}, {RuleDisplayEDID, ToolPiKVM, high, []string{TraitKVMEDID}}},
		"linux/glinet-comet-old": {{RuleUSBIdentity, ToolGLiNetComet, critical, []string{TraitIdentity, TraitLinuxFoundation}}},
		"linux/blikvm":           {{RuleUSBIdentity, ToolBliKVM, critical, []string{TraitIdentity, TraitBootKbAbs}}, {RuleDisplayEDID, ToolBliKVM, high, []string{TraitKVMEDID}}},
		"linux/isticktoit":       {{RuleUSBIdentity, ToolIPKVM, critical, []string{TraitIdentity, TraitHIDInterfaceName, TraitLinuxFoundation}}},
		"linux/gadget-spoofed":   {{RuleUSBStructure, ToolIPKVM, critical, []string{TraitHIDInterfaceName, TraitGadgetSCSI, TraitBootKbAbs, TraitRelMouse, TraitMassStorage}}},
		"linux/ch9329":           {{RuleUSBIdentity, ToolIPKVM, critical, []string{TraitIdentity, TraitBootKbAbs, TraitRelMouse}}},
		"linux/flipper-jiggler":  {{RuleUSBIdentity, ToolJiggler, high, []string{TraitIdentity}}},
		"linux/mousewiggler":     {{RuleUSBIdentity, ToolJiggler, high, []string{TraitIdentity}}},
		"linux/cru-jiggler":      {{RuleUSBIdentity, ToolJiggler, high, []string{TraitIdentity}}},
		"linux/raritan-d2cim":    {{RuleUSBIdentity, ToolKVMSwitch, high, []string{TraitIdentity, TraitBootKbAbs}}},
		"linux/aten-cs682":       {{RuleUSBIdentity, ToolKVMSwitch, medium, []string{TraitIdentity}}},
		"linux/hp-ilo":           {{RuleUSBIdentity, ToolIPKVM, high, []string{TraitIdentity}}},
		"linux/macrosilicon-capture-lid-closed": {
			{RuleDisplayCapture, ToolIPKVM, medium, []string{TraitCaptureEDID}},
			{RuleLidClosedKVM, ToolIPKVM, critical, []string{TraitLidClosed}},
		},
		"linux/pikvm-lid-closed": {{RuleLidClosedKVM, ToolPiKVM, critical, []string{TraitLidClosed}}, {RuleUSBIdentity, ToolPiKVM, critical, nil}},
		"linux/qemu-vm":          {{RuleUSBVM, ToolVM, info, []string{TraitVM}}},
		"linux/vmware-vm":        {{RuleUSBVM, ToolVM, info, []string{TraitVM}}},
	}
	checkFixtures(t, cases, map[string]report.Severity{"linux/qemu-vm": info, "linux/vmware-vm": info})
	// Every Linux fixture directory is covered by the table.
	ents, _ := os.ReadDir(filepath.Join(fixtureRoot, "linux"))
	for _, e := range ents {
		if _, ok := cases["linux/"+e.Name()]; !ok && !strings.HasPrefix(e.Name(), "ordinary-") {
			t.Errorf("fixture linux/%s has no expectations", e.Name())
		}
	}
}

func TestDarwinFixtures(t *testing.T) {
	checkFixtures(t, map[string][]want{
		"darwin/pikvm":           {{RuleUSBIdentity, ToolPiKVM, critical, []string{TraitIdentity, TraitBootKbAbs, TraitRelMouse, TraitLinuxFoundation, TraitKVMSerial}}, {RuleDisplayEDID, ToolPiKVM, high, []string{TraitKVMEDID}}},
		"darwin/jetkvm-default":  {{RuleUSBIdentity, ToolJetKVM, critical, []string{TraitIdentity, TraitBootKbAbs}}, {RuleDisplayCapture, ToolJetKVM, medium, []string{TraitCaptureEDID}}},
		"darwin/jetkvm-logitech": {{RuleUSBSpoofed, ToolJetKVM, critical, []string{TraitSpoofStrings, TraitSpoofSpeed, TraitSpoofPacket, TraitJetKVMSerial, TraitBootKbAbs}}, {RuleDisplayEDID, ToolJetKVM, high, []string{TraitKVMEDID}}},
		"darwin/glinet-comet":    {{RuleUSBIdentity, ToolGLiNetComet, critical, []string{TraitIdentity, TraitKVMSerial}}, {RuleDisplayEDID, ToolPiKVM, high, nil}},
		"darwin/pikvm-clamshell": {{RuleLidClosedKVM, ToolPiKVM, critical, []string{TraitLidClosed}}, {RuleUSBIdentity, ToolPiKVM, critical, nil}},
	}, nil)
}

func TestWindowsFixtures(t *testing.T) {
	checkFixtures(t, map[string][]want{
		"windows/pikvm":                   {{RuleUSBIdentity, ToolPiKVM, critical, []string{TraitIdentity, TraitKVMSCSIVendor, TraitLinuxFoundation, TraitKVMSerial}}, {RuleDisplayEDID, ToolPiKVM, high, []string{TraitKVMEDID, TraitKVMMonitorName}}},
		"windows/pikvm-busdesc":           {{RuleUSBIdentity, ToolPiKVM, critical, []string{TraitIdentity, TraitHIDInterfaceName, TraitMSDInterfaceName, TraitKVMSCSIVendor, TraitLinuxFoundation}}},
		"windows/jetkvm-logitech-busdesc": {{RuleUSBSpoofed, ToolJetKVM, high, []string{TraitSpoofStrings, TraitHIDInterfaceName}}},
		"windows/jetkvm-default":          {{RuleUSBIdentity, ToolJetKVM, critical, []string{TraitKVMSCSIVendor, TraitLinuxFoundation}}, {RuleDisplayCapture, ToolJetKVM, medium, nil}},
		"windows/jetkvm-logitech":         {{RuleUSBSpoofed, ToolJetKVM, critical, []string{TraitSpoofInterfaces, TraitKVMSCSIVendor}}, {RuleDisplayEDID, ToolJetKVM, high, []string{TraitKVMEDID}}},
		"windows/glinet-comet":            {{RuleUSBIdentity, ToolGLiNetComet, critical, []string{TraitKVMSCSIVendor}}, {RuleDisplayEDID, ToolPiKVM, high, nil}},
	}, nil)
}

// TestOrdinaryHosts: everyday hardware (docks, receivers, YubiKeys, webcams,
// Wacom, touchscreens, gaming mice, USB-C monitors) raises nothing at
// medium or above, and the fixtures really hold 10+ devices.
func TestOrdinaryHosts(t *testing.T) {
	for _, name := range []string{"linux/ordinary-laptop", "linux/ordinary-laptop-docked-lid-closed", "darwin/ordinary-mac", "darwin/ordinary-mac-clamshell", "windows/ordinary-laptop"} {
		src, err := source.OpenSnapshot(filepath.Join(fixtureRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		inv, err := readInventory(context.Background(), src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := len(inv.USB) + len(inv.HID); n < 10 {
			t.Errorf("%s: only %d devices", name, n)
		}
		for _, f := range scanFixture(t, name) {
			if f.Severity >= medium {
				t.Errorf("%s: false alarm: %s", name, describeFindings([]report.Finding{f}))
			}
		}
	}
}

func TestVMEvidence(t *testing.T) {
	fs := scanFixture(t, "linux/qemu-vm")
	if len(fs) == 0 {
		t.Fatal("no findings for the QEMU tablet")
	}
	for _, f := range fs {
		if f.Severity != info || f.Evidence["vm"] != true || f.Tool != ToolVM {
			t.Errorf("QEMU: %s vm=%v", describeFindings([]report.Finding{f}), f.Evidence["vm"])
		}
	}
}

// TestLinuxInventory checks the Linux reader's model of one fixture in detail.
func TestLinuxInventory(t *testing.T) {
	inv, err := inventory.ReadLinux(filepath.Join(fixtureRoot, "linux", "pikvm"))
	if err != nil {
		t.Fatal(err)
	}
	var u *USBDevice
	for _, d := range inv.USB {
		if d.VIDPID() == "1d6b:0104" {
			u = d
		}
	}
	if u == nil {
		t.Fatal("PiKVM gadget not read")
	}
	if u.Manufacturer != "PiKVM" || u.Serial != "CAFEBABE" || u.BCDDevice != 0x0100 || u.BCDUSB != 0x0200 || u.SpeedMbps != 480 || u.MaxPacket0 != 64 || len(u.Interfaces) != 4 {
		t.Fatalf("device %+v", u)
	}
	if in := u.Interfaces[3]; in.Class != 8 || in.SCSIVendor != "PiKVM" || in.SCSIModel != "Optical Drive" || in.Name != "Mass Storage" {
		t.Fatalf("msd %+v", in)
	}
	if len(u.Interfaces[0].HID) != 1 || !u.Interfaces[0].HID[0].BootKeyboardLayout() || !u.Interfaces[1].HID[0].KVMAbsoluteRange() {
		t.Fatal("HID descriptors not attached")
	}
	if inv.Lid != "open" || inv.VM || len(inv.Displays) != 2 || inv.Displays[0].Connector != "HDMI-A-1" || inv.Displays[0].Internal ||
		inv.Displays[0].EDID.MonitorName != "PiKVM V3" || inv.Displays[1].Connector != "eDP-1" || !inv.Displays[1].Internal {
		t.Fatalf("inventory %+v displays %+v", inv, inv.Displays)
	}
	if len(inv.Inputs) < 4 || inv.Inputs[0].Name != "Lid Switch" {
		t.Fatalf("inputs %+v", inv.Inputs)
	}
	ord, err := inventory.ReadLinux(filepath.Join(fixtureRoot, "linux", "ordinary-laptop"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ord.HID) != 1 || ord.HID[0].Bus != 0x0018 || !ord.HID[0].Descriptor.Digitizer() || ord.HID[0].Name != "ELAN2514:00 04F3:2514" {
		t.Fatalf("i2c touchscreen %+v", ord.HID)
	}
}

// TestCollectLinux records a fixture as if it were the live root and checks
// the recorded snapshot reads back to the same findings.
func TestCollectLinux(t *testing.T) {
	for _, name := range []string{"pikvm", "ordinary-laptop", "jetkvm-logitech"} {
		root := filepath.Join(fixtureRoot, "linux", name)
		dir := t.TempDir()
		if err := inventory.CollectLinux(root, dir); err != nil {
			t.Fatal(err)
		}
		a, err := inventory.ReadLinux(root)
		if err != nil {
			t.Fatal(err)
		}
		b, err := inventory.ReadLinux(dir)
		if err != nil {
			t.Fatal(err)
		}
		s := &Settings{ReportVM: true}
		fa, fb := decide(a, s, "h"), decide(b, s, "h")
		if !reflect.DeepEqual(fa, fb) || len(a.USB) != len(b.USB) || len(a.Displays) != len(b.Displays) {
			t.Errorf("%s: recorded snapshot differs:\n%s---\n%s", name, describeFindings(fa), describeFindings(fb))
		}
		if _, err := os.Stat(filepath.Join(dir, "sys/bus/usb/devices/1-1/idVendor")); err != nil {
			t.Errorf("%s: collect did not lay out sysfs: %v", name, err)
		}
	}
}

func TestSettings(t *testing.T) {
	inv, err := inventory.ReadLinux(filepath.Join(fixtureRoot, "linux", "pikvm"))
	if err != nil {
		t.Fatal(err)
	}
	fs := decide(inv, &Settings{IgnoreDevices: []string{"1d6b:0104"}, ExpectedDisplays: []string{"LNX:7771"}}, "h")
	if len(fs) != 0 {
		t.Fatalf("ignored devices reported:\n%s", describeFindings(fs))
	}
	if _, err := New(Settings{IgnoreDevices: []string{"pikvm"}}); err == nil {
		t.Fatal("bad ignore_devices accepted")
	}
	reg, ok := detect.Lookup(Name)
	if !ok || reg.Collect == nil || reg.NewSettings().(*Settings).ReportVM != true {
		t.Fatal("registration")
	}
}

// TestIndicatorsCoverage checks every identity of the shared research
// (indicators.yaml, the EDID corpus) is known to the rules.
func TestIndicatorsCoverage(t *testing.T) {
	shared := os.Getenv("FARMWATCH_SHARED")
	if shared == "" {
		testenv.Missing(t, "FARMWATCH_SHARED is not set (the Makefile sets it to ../shared)")
	}
	b, err := os.ReadFile(filepath.Join(shared, "data", "kvm", "indicators.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Commercial map[string]string `yaml:"commercial_kvm_bmc_usb_ids"`
		USB        []struct {
			Device string `yaml:"device"`
			VIDPID string `yaml:"vid_pid"`
		} `yaml:"usb_identities"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Commercial) < 20 {
		t.Fatalf("only %d commercial ids parsed", len(doc.Commercial))
	}
	for id, name := range doc.Commercial {
		var vid, pid uint16
		fmt.Sscanf(id, "%04x:%04x", &vid, &pid)
		u := &USBDevice{Path: "1-1", VID: vid, PID: pid, StringsKnown: true, Interfaces: []*USBInterface{{Class: 3, SubClass: 1, Protocol: 1}}}
		fs := decide(&Inventory{USB: []*USBDevice{u}}, &Settings{ReportVM: true}, "h")
		switch {
		case strings.Contains(name, "VMware"):
			if len(fs) != 1 || fs[0].Severity != info || fs[0].Evidence["vm"] != true {
				t.Errorf("%s %s: want info vm finding, got\n%s", id, name, describeFindings(fs))
			}
		case len(fs) != 1 || fs[0].Rule != RuleUSBIdentity || fs[0].Severity < medium || (fs[0].Tool != ToolKVMSwitch && fs[0].Tool != ToolIPKVM):
			t.Errorf("%s %s: got\n%s", id, name, describeFindings(fs))
		}
	}
	// Every VID:PID named in usb_identities is in the identity table.
	for _, e := range doc.USB {
		for _, part := range strings.Split(e.VIDPID, "/") {
			var vid, pid uint16
			if n, _ := fmt.Sscanf(strings.TrimSpace(part), "%04x:%04x", &vid, &pid); n != 2 {
				continue
			}
			found := false
			for _, id := range usbIdentities {
				if id.vid == vid && (id.pid == pid || id.anyPID) {
					found = true
				}
			}
			if !found && vid != 0x1d6b && vid != 0x38eb { // 1d6b gadgets match by strings and structure
				t.Errorf("usb_identities %q: %04x:%04x not in the identity table", e.Device, vid, pid)
			}
		}
	}
	// Every EDID of the corpus raises a display finding naming the right tool.
	wantTool := func(p string) string {
		switch {
		case strings.Contains(p, "pikvm"), strings.Contains(p, "glkvm"):
			return ToolPiKVM
		case strings.Contains(p, "jetkvm"):
			return ToolJetKVM
		case strings.Contains(p, "nanokvm"):
			return ToolNanoKVM
		case strings.Contains(p, "tinypilot"):
			return ToolTinyPilot
		case strings.Contains(p, "blikvm"):
			return ToolBliKVM
		}
		return ToolIPKVM
	}
	n := 0
	filepath.WalkDir(filepath.Join(shared, "data", "kvm", "edid"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		raw, err := edid.Decode(data)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		e, err := edid.Parse(raw)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		n++
		inv := &Inventory{Displays: []*Display{{Connector: "HDMI-A-1", Connected: true, Enabled: true, EDID: e}}}
		fs := decide(inv, &Settings{}, "h")
		if len(fs) != 1 || fs[0].Tool != wantTool(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p)) || fs[0].Severity < medium {
			t.Errorf("%s: got\n%s", p, describeFindings(fs))
		}
		return nil
	})
	if n < 20 {
		t.Fatalf("only %d EDIDs checked", n)
	}
}

// TestFamousDeviceVariance: a real receiver whose firmware differs from the
// table in one attribute is not reported; a high-speed one with a mass
// storage function is.
func TestFamousDeviceVariance(t *testing.T) {
	recv := func(speed float64, mps int, ifaces ...*USBInterface) *USBDevice {
		return &USBDevice{Path: "1-1", VID: 0x046d, PID: 0xc52b, SpeedMbps: speed, MaxPacket0: mps, Manufacturer: "Logitech", Product: "USB Receiver", StringsKnown: true, Interfaces: ifaces}
	}
	hidIf := func(n int) *USBInterface { return &USBInterface{Number: n, Class: 3} }
	if fs := decide(&Inventory{USB: []*USBDevice{recv(12, 64, hidIf(0), hidIf(1), hidIf(2))}}, &Settings{}, "h"); len(fs) != 0 {
		t.Fatalf("one differing attribute reported:\n%s", describeFindings(fs))
	}
	fs := decide(&Inventory{USB: []*USBDevice{recv(480, 64, hidIf(0), hidIf(1), &USBInterface{Number: 2, Class: 8})}}, &Settings{}, "h")
	if len(fs) != 1 || fs[0].Rule != RuleUSBSpoofed || fs[0].Severity != high || fs[0].Tool != ToolIPKVM {
		t.Fatalf("spoofed receiver:\n%s", describeFindings(fs))
	}
}

// TestOrdinaryDisplays: real monitors, including USB-C monitors and a
// projector-like EDID without size, raise nothing.
func TestOrdinaryDisplays(t *testing.T) {
	for _, e := range [][]byte{
		edid.Build("DEL", 0xa0c3, 0x4c4b4a32, 12, 2021, "DELL U2720Q", "8T2KJ13"),
		edid.Build("GSM", 0x5b7f, 0x0001e4f1, 255, 2022, "LG HDR 4K", ""),
		edid.Build("AUS", 0x2487, 0x01010101, 2, 2021, "PA248QV", "N1LMQS000001"), // a real PA248QV
		edid.Build("ACR", 0x0565, 0x01613f00, 16, 2020, "B246WL", "T8NEE0000001"), // a real B246WL
		edid.Build("SAM", 0x0f56, 0x01010101, 1, 2020, "C27F390", ""),
	} {
		p, _ := edid.Parse(e)
		fs := decide(&Inventory{Displays: []*Display{{Connector: "DP-1", Connected: true, EDID: p}}}, &Settings{}, "h")
		if len(fs) != 0 {
			t.Errorf("%s %q: false alarm\n%s", p.Manufacturer, p.MonitorName, describeFindings(fs))
		}
	}
}

// TestHostileStrings: control characters, bidi overrides, invalid UTF-8 and
// huge strings never reach evidence unsanitised.
func TestHostileStrings(t *testing.T) {
	evil := "PiKVM\x1b[31m\u202e\xff" + strings.Repeat("A", 100000)
	u := &USBDevice{Path: "1-1\n", VID: 0x1d6b, PID: 0x0104, Manufacturer: inventory.Clean(evil), Product: evil, Serial: evil, StringsKnown: true,
		Interfaces: []*USBInterface{{Class: 3, Name: "HID Interface\x00\x07"}}}
	fs := decide(&Inventory{USB: []*USBDevice{u}}, &Settings{}, "h")
	if len(fs) != 1 {
		t.Fatalf("got %d findings", len(fs))
	}
	check := func(v any) {
		s := fmt.Sprint(v)
		for _, r := range s {
			if r < 0x20 || r == 0x7f || r == 0x202e {
				t.Fatalf("unsanitised %q", s)
			}
		}
	}
	for k, v := range fs[0].Evidence {
		if s, ok := v.(string); ok && len(s) > 4*inventory.MaxString+8 {
			t.Errorf("evidence %s is %d bytes", k, len(s))
		}
		check(v)
	}
	check(fs[0].Summary)
	if c := inventory.Clean("a\x00b\u202ec\xffd"); c != "a?b?c?d" {
		t.Fatalf("clean = %q", c)
	}
}

func TestWindowsParsing(t *testing.T) {
	// A single device is a bare object in ConvertTo-Json.
	inv, err := inventory.ParsePnP([]byte(`{"InstanceId":"USB\\VID_3346\u0026PID_1009\\0123456789ABCDEF","FriendlyName":"USB Composite Device","Manufacturer":"(Standard USB Host Controller)","Class":"USB","Status":"OK"}`))
	if err != nil || len(inv.USB) != 1 || inv.USB[0].VID != 0x3346 || inv.USB[0].Serial != "0123456789ABCDEF" {
		t.Fatalf("%v %+v", err, inv)
	}
	if fs := decide(inv, &Settings{}, "h"); len(fs) != 1 || fs[0].Tool != ToolNanoKVM {
		t.Fatalf("NanoKVM on Windows:\n%s", describeFindings(fs))
	}
	_, err = inventory.ParsePnP([]byte("[\n{\"InstanceId\": 5}\n]"))
	if err == nil || !strings.Contains(err.Error(), FilePnPDevices) {
		t.Fatalf("type error not reported with file name: %v", err)
	}
	_, err = inventory.ParsePnP([]byte("[\n{\"InstanceId\": \n"))
	if err == nil || !strings.Contains(err.Error(), FilePnPDevices) {
		t.Fatalf("syntax error: %v", err)
	}
	ms, err := inventory.ParseMonitors([]byte(`[{"ManufacturerName":[76,78,88,0],"ProductCodeID":[55,55,55,49,0],"SerialNumberID":[67,65,70,69,66,65,66,69,0],"UserFriendlyName":[80,105,75,86,77,0],"Active":true,"Extra":{"x":1}}]`))
	if err != nil || len(ms) != 1 || ms[0].Manufacturer != "LNX" || ms[0].ProductCode != 0x7771 || ms[0].SerialText != "CAFEBABE" || ms[0].Name != "PiKVM" {
		t.Fatalf("%v %+v", err, ms)
	}
	// The live collector's monitors.json round-trips a registry EDID.
	raw := edid.Build("TSB", 0x9876, 0x88888800, 45, 2020, "TinyPilot", "")
	m := inventory.MonitorFromEDID(`DISPLAY\TSB9876\1`, true, raw)
	ds := inventory.DisplaysFromMonitors([]Monitor{m})
	if ds[0].EDID == nil || ds[0].EDID.MonitorName != "TinyPilot" || ds[0].Manufacturer != "TSB" || ds[0].ProductCode != 0x9876 {
		t.Fatalf("%+v", ds[0])
	}
}

func TestDarwinParsing(t *testing.T) {
	root := filepath.Join(fixtureRoot, "darwin", "pikvm")
	inv, err := readDarwinSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	var u *USBDevice
	for _, d := range inv.USB {
		if d.VID == 0x1d6b {
			u = d
		}
	}
	if u == nil || u.Product != "PiKVM Composite Device" || u.SpeedMbps != 480 || len(u.Interfaces) != 3 || len(inv.HID) != 3 {
		t.Fatalf("%+v %+v", u, inv.HID)
	}
	if len(inv.Displays) != 2 || !inv.Displays[0].Internal || inv.Displays[1].Manufacturer != "LNX" || inv.Displays[1].Serial32 != 0x01010101 {
		t.Fatalf("displays %+v %+v", inv.Displays[0], inv.Displays[1])
	}
	// Without "Device Speed" the link speed in bits per second is used.
	inv2, err := inventory.ParseIoreg([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>IORegistryEntryName</key><string>Root</string><key>IORegistryEntryChildren</key><array>
<dict><key>idVendor</key><integer>1133</integer><key>idProduct</key><integer>50475</integer><key>UsbLinkSpeed</key><integer>480000000</integer>
<key>USB Vendor Name</key><string>Logitech (x64)</string><key>locationID</key><integer>1048576</integer></dict></array></dict></plist>`), nil)
	if err != nil || len(inv2.USB) != 1 || inv2.USB[0].SpeedMbps != 480 || inv2.USB[0].Manufacturer != "Logitech (x64)" {
		t.Fatalf("link speed: %v %+v", err, inv2)
	}
	if _, err := inventory.ParseIoreg([]byte("<plist><dict><key>a</key>"), nil); err == nil {
		t.Fatal("truncated plist accepted")
	}
	if inv.Lid != "open" {
		t.Fatalf("clamshell state %q", inv.Lid)
	}
	if lid, err := inventory.ParseClamshell(nil); err != nil || lid != "" {
		t.Fatalf("no clamshell file: %q %v", lid, err)
	}
	// A snapshot that recorded no hardware (processes only) has no devices.
	if inv, err := readDarwinSnapshot(t.TempDir()); err != nil || len(inv.USB) != 0 {
		t.Fatalf("empty macOS snapshot: %v %v", inv, err)
	}
}

// BenchmarkScan scans a 30-device Linux snapshot end to end (sysfs reads,
// HID and EDID parsing, rules).
func BenchmarkScan(b *testing.B) {
	dir := b.TempDir()
	var usb []usbSpec
	base := []usbSpec{intelBT, webcam, fingerpr, unifying, yubikey, dockHub, dockEth, dockAudio, dockHID, wacom, razer, msNano, flash, monHub, billboard}
	for i := 0; len(usb) < 28; i++ {
		d := base[i%len(base)]
		d.sysname = fmt.Sprintf("%d-%d", 1+i/14, 1+i%14)
		usb = append(usb, d)
	}
	usb = append(usb, gadget(0x1d6b, 0x0104, 0x0100, "PiKVM", "PiKVM Composite Device", "CAFEBABE", "", hidKb, hidAbs, hidRel, msd("PiKVM", "Optical Drive")))
	usb[len(usb)-1].sysname = "3-1"
	usb = append(usb, gadget(0x046d, 0xc52b, 0x0100, "Logitech (x64)", "Logitech USB Input Device", "3&1a2b3c4&0&1", "", hidKb, hidJetAbs, hidRel))
	usb[len(usb)-1].sysname = "3-2"
	writeLinuxAt(b, dir, "bench", linuxSpec{usb: usb, i2cHID: map[string][]byte{"0018:04F3:2514.0009": descs.Touchscreen},
		displays: []displaySpec{internalPanel(), {connector: "HDMI-A-1", connected: true, edid: edid.Build("LNX", 0x7771, 0x01010101, 35, 2016, "PiKVM V3", "CAFEBABE")}},
		lid:      "open", vendor: "LENOVO", product: "21HD"})
	src, err := source.OpenSnapshot(dir)
	if err != nil {
		b.Fatal(err)
	}
	d, _ := New(Settings{ReportVM: true})
	env := detect.Env{Source: src, Host: report.Host{ID: "bench"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fs, err := d.Detect(context.Background(), env)
		if err != nil || len(fs) < 3 {
			b.Fatalf("%v %d", err, len(fs))
		}
	}
}
