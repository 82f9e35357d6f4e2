// Package kvmgadget is farmwatch's IP-KVM lab: it boots Debian's kernel
// under QEMU with a small Go /init (./guest) that builds USB gadgets
// through configfs on dummy_hcd, so the same kernel's USB host side
// enumerates them exactly as a laptop enumerates a plugged-in PiKVM,
// TinyPilot or JetKVM. The real farmwatch-agent then scans the guest and
// its JSON findings come back over a second serial port.
//
// This file holds the scenarios (shared by the host side and the guest);
// lab.go builds the initramfs and runs QEMU.
package kvmgadget

import "encoding/hex"

// Function is one USB gadget function (configfs functions/<kind>.<n>).
type Function struct {
	Kind string // "hid" or "mass_storage"
	// HID
	Protocol, SubClass, ReportLength int
	ReportDesc                       []byte
	// Mass storage: SCSI INQUIRY vendor (8) + product (16) + revision (4);
	// empty keeps the kernel's "Linux File-Stor Gadget".
	Inquiry string
	CDROM   bool
}

// Gadget is a USB device identity as configfs sets it.
type Gadget struct {
	VID, PID, BCDDevice uint16
	// Lang is the string-table language. 0x409 (US English) is what every
	// KVM uses. Another language hides f_hid's fixed "HID Interface"
	// string (its table exists in 0x409 only and hosts read strings in the
	// first language the device lists), so the host sees a keyboard
	// without a gadget-only interface string, like a real keyboard.
	Lang                                         uint16
	Manufacturer, Product, Serial, Configuration string
	Functions                                    []Function
}

// Scenario is one device plugged into the emulated laptop.
type Scenario struct {
	Name        string
	Description string
	Gadget      Gadget
	// EDID is the name of an EDID file (in the initramfs under
	// /lab/edid/) forced onto the guest's display connector through DRM's
	// debugfs edid_override; "" keeps QEMU's own monitor EDID.
	EDID string
	// Hotplug plugs the gadget in while `farmwatch-agent run` is already
	// watching, and measures how long the agent takes to report it.
	Hotplug bool
}

// EDIDFiles maps the EDID names scenarios use to files under the shared
// research data's data/kvm/edid/ directory (hex dumps as published).
var EDIDFiles = map[string]string{
	"pikvm-v3": "pikvm/v3.hex",
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// HID report descriptors, as the devices' gadget scripts write them (also in
// testdata/hardware/linux/*/…/report_descriptor).
var (
	// Boot keyboard (Documentation/usb/gadget_hid.rst, PiKVM, TinyPilot, JetKVM).
	descBootKeyboard = mustHex("05010906a101050719e029e71500250175019508810295017508810395057501050819012905910295017503910395067508150025650507190029658100c0")
	// PiKVM / TinyPilot absolute mouse: 8 buttons, X/Y 0..32767, wheel, h-wheel.
	descAbsMouse = mustHex("05010902a1010901a1000509190129081500250195087501810205010930093116000026ff7f75109502810209381581257f750895018106050c0a38021581257f750895018106c0c0")
	// PiKVM "mouse_alt" / JetKVM relative mouse.
	descRelMouse = mustHex("05010902a1010901a1000509190129051500250195057501810295017503810305010930093109381581257f750895038106c0c0")
	// JetKVM absolute mouse with report ids 1 (pointer) and 2 (wheel).
	descJetKVMAbsMouse = mustHex("05010902a10185010901a1000509190129051500250175019505810295017503810305010930093116000026ff7f36000046ff7f751095028102c0850209381581257f35004500750895018106050c0a38021581257f750895018106c0")
)

func keyboard() Function {
	return Function{Kind: "hid", Protocol: 1, SubClass: 1, ReportLength: 8, ReportDesc: descBootKeyboard}
}

func mouse(desc []byte, length int) Function {
	return Function{Kind: "hid", Protocol: 2, SubClass: 0, ReportLength: length, ReportDesc: desc}
}

// Scenarios, in the order one boot runs them.
var Scenarios = []Scenario{
	{
		Name:        "pikvm",
		Description: "PiKVM OTG gadget (kvmd defaults: keyboard, absolute + relative mouse, CD-ROM) and the PiKVM V3 EDID on the display",
		Gadget: Gadget{
			VID: 0x1d6b, PID: 0x0104, BCDDevice: 0x0100, Lang: 0x409,
			Manufacturer: "PiKVM", Product: "PiKVM Composite Device", Serial: "CAFEBABE",
			Functions: []Function{keyboard(), mouse(descAbsMouse, 6), mouse(descRelMouse, 4),
				{Kind: "mass_storage", Inquiry: "PiKVM   Optical Drive   1.00", CDROM: true}},
		},
		EDID: "pikvm-v3",
	},
	{
		Name:        "tinypilot",
		Description: "TinyPilot gadget (init-usb-gadget: keyboard + absolute mouse)",
		Gadget: Gadget{
			VID: 0x1d6b, PID: 0x0104, BCDDevice: 0x0100, Lang: 0x409,
			Manufacturer: "tinypilot", Product: "Multifunction USB Device", Serial: "6b65796d696d6570690",
			Configuration: "Config 1: ECM network",
			Functions:     []Function{keyboard(), mouse(descAbsMouse, 6)},
		},
	},
	{
		Name:        "hotplug-tinypilot",
		Description: "TinyPilot plugged in while the running agent watches kernel uevents (reported within 2 s)",
		Gadget: Gadget{
			VID: 0x1d6b, PID: 0x0104, BCDDevice: 0x0100, Lang: 0x409,
			Manufacturer: "tinypilot", Product: "Multifunction USB Device", Serial: "6b65796d696d6570690",
			Configuration: "Config 1: ECM network",
			Functions:     []Function{keyboard(), mouse(descAbsMouse, 6)},
		},
		Hotplug: true,
	},
	{
		Name:        "jetkvm-logitech",
		Description: "JetKVM with the UI's spoofed Logitech preset (046d:c52b, \"Logitech (x64)\", N&xxxxxxx&0&1 serial)",
		Gadget: Gadget{
			VID: 0x046d, PID: 0xc52b, BCDDevice: 0x0100, Lang: 0x409,
			Manufacturer: "Logitech (x64)", Product: "Logitech USB Input Device", Serial: "3&1a2b3c4&0&1",
			Configuration: "Config 1: HID",
			Functions: []Function{keyboard(), mouse(descJetKVMAbsMouse, 6), mouse(descRelMouse, 4),
				{Kind: "mass_storage", Inquiry: "JetKVM  Virtual Media   0.01", CDROM: true}},
		},
	},
	{
		Name:        "gadget-keyboard",
		Description: "a made-up vendor's boot keyboard built as a Linux gadget (host sees f_hid's \"HID Interface\" string)",
		Gadget: Gadget{
			VID: 0x3f3f, PID: 0x0101, BCDDevice: 0x0110, Lang: 0x409,
			Manufacturer: "Acme Peripherals", Product: "Acme USB Keyboard", Serial: "AK1000001",
			Functions: []Function{keyboard()},
		},
	},
	{
		Name:        "plain-keyboard",
		Description: "negative control: the same boot keyboard with its strings in German only, so the host reads no gadget-only interface string (as with a real keyboard)",
		Gadget: Gadget{
			VID: 0x3f3f, PID: 0x0101, BCDDevice: 0x0110, Lang: 0x407,
			Manufacturer: "Acme Peripherals", Product: "Acme USB Keyboard", Serial: "AK1000001",
			Functions: []Function{keyboard()},
		},
	},
}

// ScenarioByName returns the named scenario.
func ScenarioByName(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Markers around each scenario's agent output on the results serial port.
const (
	MarkBegin  = "@@FARMWATCH-LAB BEGIN "  // + scenario
	MarkEnd    = "@@FARMWATCH-LAB END "    // + scenario + " exit=N"
	MarkInfo   = "@@FARMWATCH-LAB INFO "   // + scenario + ": text (what the host side enumerated)"
	MarkStderr = "@@FARMWATCH-LAB STDERR " // + scenario + ": agent stderr line"
	MarkDone   = "@@FARMWATCH-LAB DONE"
)
