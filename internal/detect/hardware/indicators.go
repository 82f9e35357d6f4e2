package hardware

import (
	"regexp"
	"strings"

	"github.com/farmwatch/farmwatch/internal/report"
)

// Tool ids.
const (
	ToolPiKVM       = "pikvm"
	ToolTinyPilot   = "tinypilot"
	ToolJetKVM      = "jetkvm"
	ToolNanoKVM     = "nanokvm"
	ToolGLiNetComet = "glinet-comet"
	ToolBliKVM      = "blikvm"
	ToolIPKVM       = "ip-kvm"
	ToolKVMSwitch   = "kvm-switch"
	ToolJiggler     = "mouse-jiggler"
	ToolVM          = "virtual-machine"
)

// usbIdentity is one USB identity from the KVM research
// (shared/data/kvm/indicators.yaml). Zero VID/PID and empty strings are
// wildcards; anyPID matches every product of the vendor.
type usbIdentity struct {
	tool         string
	device       string
	vid, pid     uint16
	anyPID       bool
	manufacturer string // case-insensitive exact
	product      string // case-insensitive exact
	noStrings    bool   // matches only when the device reports no strings
	sev          report.Severity
}

var usbIdentities = []usbIdentity{
	{tool: ToolPiKVM, device: "PiKVM OTG gadget", vid: 0x1d6b, pid: 0x0104, manufacturer: "PiKVM", product: "PiKVM Composite Device", sev: report.SeverityCritical},
	{tool: ToolPiKVM, device: "PiKVM Pico HID", vid: 0x1209, pid: 0xeda2, sev: report.SeverityCritical},
	{tool: ToolPiKVM, device: "PiKVM Pico HID Bridge", vid: 0x1209, pid: 0xeda3, sev: report.SeverityCritical},
	{tool: ToolPiKVM, device: "PiKVM HID", manufacturer: "PiKVM", sev: report.SeverityHigh},
	{tool: ToolTinyPilot, device: "TinyPilot gadget", vid: 0x1d6b, pid: 0x0104, manufacturer: "tinypilot", product: "Multifunction USB Device", sev: report.SeverityCritical},
	{tool: ToolTinyPilot, device: "TinyPilot gadget (strings)", manufacturer: "tinypilot", sev: report.SeverityHigh},
	{tool: ToolJetKVM, device: "JetKVM gadget", vid: 0x1d6b, pid: 0x0104, manufacturer: "JetKVM", sev: report.SeverityCritical},
	{tool: ToolJetKVM, device: "JetKVM gadget (strings)", manufacturer: "JetKVM", sev: report.SeverityHigh},
	{tool: ToolJetKVM, device: "JetKVM gadget (product string)", product: "JetKVM USB Emulation Device", sev: report.SeverityHigh},
	{tool: ToolNanoKVM, device: "Sipeed NanoKVM", vid: 0x3346, pid: 0x1009, sev: report.SeverityCritical},
	{tool: ToolNanoKVM, device: "Sipeed NanoKVM (strings)", manufacturer: "sipeed", product: "NanoKVM", sev: report.SeverityCritical},
	{tool: ToolGLiNetComet, device: "GL.iNet Comet (GLKVM)", vid: 0x38eb, anyPID: true, sev: report.SeverityCritical},
	{tool: ToolGLiNetComet, device: "GL.iNet Comet (strings)", manufacturer: "Glinet", product: "Glinet Composite Device", sev: report.SeverityCritical},
	{tool: ToolGLiNetComet, device: "GL.iNet Comet, older firmware", vid: 0x1d6b, pid: 0x0104, manufacturer: "GLKVM", product: "Composite KVM Device", sev: report.SeverityCritical},
	{tool: ToolGLiNetComet, device: "GL.iNet Comet (strings)", manufacturer: "GLKVM", sev: report.SeverityHigh},
	{tool: ToolBliKVM, device: "BliKVM gadget", vid: 0x1d6b, pid: 0x0106, manufacturer: "smart-kvm", product: "Multifunction USB Device", sev: report.SeverityCritical},
	{tool: ToolBliKVM, device: "BliKVM gadget (strings)", manufacturer: "smart-kvm", sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "DIY Raspberry Pi HID gadget (isticktoit)", product: "iSticktoit.net USB Device", sev: report.SeverityCritical},
	{tool: ToolIPKVM, device: "CH9329 serial-to-HID (Openterface, NanoKVM-USB, KVM-over-USB cables)", vid: 0x1a86, pid: 0xe129, sev: report.SeverityHigh},
	{tool: ToolJiggler, device: "Flipper Zero HID (Mouse Jiggler app)", vid: 0x046d, pid: 0xc529, noStrings: true, sev: report.SeverityHigh},
	{tool: ToolJiggler, device: "CH552 MouseWiggler", vid: 0x16c0, pid: 0x27da, sev: report.SeverityHigh},
	{tool: ToolJiggler, device: "CH552 MouseWiggler (strings)", manufacturer: "wagiminator", product: "MouseWiggler", sev: report.SeverityHigh},
	{tool: ToolJiggler, device: "CRU/WiebeTech Mouse Jiggler MJ-1", vid: 0x0e90, pid: 0x0028, sev: report.SeverityHigh},
	{tool: ToolJiggler, device: "CRU/WiebeTech Mouse Jiggler MJ-3", vid: 0x0e90, pid: 0x0045, sev: report.SeverityHigh},
	// Commercial KVM-over-IP dongles, KVM switches and BMC virtual devices
	// (usb.ids). A laptop has no BMC: these mean a server-style KVM drives it.
	{tool: ToolKVMSwitch, device: "Raritan D2CIM-VUSB KVM connector", vid: 0x14dd, pid: 0x1007, sev: report.SeverityHigh},
	{tool: ToolKVMSwitch, device: "Raritan KVM dongle", vid: 0x0430, pid: 0xcdab, sev: report.SeverityHigh},
	{tool: ToolKVMSwitch, device: "ATEN virtual mouse/keyboard", vid: 0x0557, pid: 0x2419, sev: report.SeverityHigh},
	{tool: ToolKVMSwitch, device: "ATEN CS124U KVM switch", vid: 0x0557, pid: 0x2202, sev: report.SeverityMedium},
	{tool: ToolKVMSwitch, device: "ATEN CS682 KVM switch", vid: 0x0557, pid: 0x2213, sev: report.SeverityMedium},
	{tool: ToolKVMSwitch, device: "ATEN CE700A KVM extender", vid: 0x0557, pid: 0x2701, sev: report.SeverityMedium},
	{tool: ToolKVMSwitch, device: "Avocent virtual hub", vid: 0x0624, pid: 0x0248, sev: report.SeverityHigh},
	{tool: ToolKVMSwitch, device: "Avocent virtual keyboard/mouse", vid: 0x0624, pid: 0x0249, sev: report.SeverityHigh},
	{tool: ToolKVMSwitch, device: "Avocent virtual mass storage", vid: 0x0624, pid: 0x0251, sev: report.SeverityHigh},
	{tool: ToolKVMSwitch, device: "Avocent Dell 03R874 KVM dongle", vid: 0x0624, pid: 0x0294, sev: report.SeverityHigh},
	{tool: ToolKVMSwitch, device: "Avocent Cisco virtual keyboard and mouse", vid: 0x0624, pid: 0x0402, sev: report.SeverityHigh},
	{tool: ToolKVMSwitch, device: "ASIX AX68002 KVM switch SoC", vid: 0x0b95, pid: 0x6802, sev: report.SeverityMedium},
	{tool: ToolKVMSwitch, device: "Uni Class KVM HID composite", vid: 0x10d5, pid: 0x5552, sev: report.SeverityMedium},
	{tool: ToolIPKVM, device: "AMI BMC virtual keyboard and mouse", vid: 0x046b, pid: 0xff10, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "AMI BMC virtual CD-ROM", vid: 0x046b, pid: 0xff20, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "HP iLO virtual keyboard and mouse", vid: 0x03f0, pid: 0x1027, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "HP iLO virtual CD-ROM", vid: 0x03f0, pid: 0x1227, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "HP iLO virtual hub", vid: 0x03f0, pid: 0x1327, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "Dell DRAC 5 virtual keyboard and mouse", vid: 0x413c, pid: 0x0000, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "Dell DRAC 5 virtual media", vid: 0x413c, pid: 0x0001, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "Lenovo BMC virtual keyboard and mouse", vid: 0x17ef, pid: 0xb000, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "Lenovo BMC virtual keyboard/mouse/mass storage", vid: 0x17ef, pid: 0xb003, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "Cisco BMC virtual keyboard/mouse", vid: 0x05a6, pid: 0x0a01, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "Aspeed AST1500/1510 PC-over-LAN virtual hub", vid: 0x2245, pid: 0x1500, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "Epiphan KVM2USB", vid: 0x5555, pid: 0x1120, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "Epiphan KVM2USB Pro", vid: 0x5555, pid: 0x3337, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "Epiphan KVM2USB LR", vid: 0x5555, pid: 0x3344, sev: report.SeverityHigh},
}

func (id *usbIdentity) match(u *USBDevice) bool {
	if id.vid != 0 || id.pid != 0 || id.anyPID {
		if u.VID != id.vid || (!id.anyPID && u.PID != id.pid) {
			return false
		}
	}
	if id.manufacturer != "" && !strings.EqualFold(u.Manufacturer, id.manufacturer) {
		return false
	}
	if id.product != "" && !strings.EqualFold(u.Product, id.product) {
		return false
	}
	if id.noStrings && (!u.StringsKnown || u.Manufacturer != "" || u.Product != "") {
		return false
	}
	return true
}

// kvmSerials are the default serial strings of KVM gadgets.
var kvmSerials = map[string]string{
	"CAFEBABE":            "PiKVM / GLKVM default serial",
	"6b65796d696d6570690": "TinyPilot / BliKVM default serial",
	"fedcba9876543210":    "isticktoit gadget tutorial serial",
	"0123456789ABCDEF":    "NanoKVM default serial",
}

// scsiVendors are SCSI inquiry vendors of KVM virtual media.
var scsiVendors = map[string]string{
	"pikvm": ToolPiKVM, "jetkvm": ToolJetKVM, "nanokvm": ToolNanoKVM, "glinet": ToolGLiNetComet, "glkvm": ToolGLiNetComet,
}

// jetkvmPresetSerial is the serial JetKVM's spoofing presets generate, made
// to look like a Windows-generated instance id.
var jetkvmPresetSerial = regexp.MustCompile(`^[1-9]&[0-9a-f.]{7}&0&1$`)

// famousDevice is a widely deployed keyboard/mouse/receiver identity that
// KVMs borrow; what the real product looks like.
type famousDevice struct {
	name          string
	manufacturers []string // acceptable iManufacturer strings (case-insensitive); nil = unchecked
	products      []string
	maxSpeedMbps  float64 // the real product's bus speed
	maxPacket0    int     // the real product's bMaxPacketSize0
	maxInterfaces int
}

var famousDevices = map[[2]uint16]famousDevice{
	{0x046d, 0xc52b}: {name: "Logitech Unifying Receiver", manufacturers: []string{"Logitech"}, products: []string{"USB Receiver"}, maxSpeedMbps: 12, maxPacket0: 32, maxInterfaces: 3},
	{0x046d, 0xc534}: {name: "Logitech Nano Receiver", manufacturers: []string{"Logitech"}, products: []string{"USB Receiver"}, maxSpeedMbps: 12, maxPacket0: 32, maxInterfaces: 2},
	{0x046d, 0xc548}: {name: "Logitech Bolt Receiver", manufacturers: []string{"Logitech"}, products: []string{"USB Receiver"}, maxSpeedMbps: 12, maxPacket0: 64, maxInterfaces: 3},
	{0x046d, 0xc529}: {name: "Logitech receiver (c529)", manufacturers: []string{"Logitech"}, products: []string{"USB Receiver"}, maxSpeedMbps: 12, maxPacket0: 32, maxInterfaces: 3},
	{0x046d, 0xc31c}: {name: "Logitech Keyboard K120", manufacturers: []string{"Logitech"}, products: []string{"USB Keyboard"}, maxSpeedMbps: 1.5, maxPacket0: 8, maxInterfaces: 2},
	{0x046d, 0xc077}: {name: "Logitech M105 mouse", manufacturers: []string{"Logitech"}, products: []string{"USB Optical Mouse"}, maxSpeedMbps: 1.5, maxPacket0: 8, maxInterfaces: 1},
	{0x045e, 0x005f}: {name: "Microsoft Wireless MultiMedia Keyboard", manufacturers: []string{"Microsoft"}, maxSpeedMbps: 12, maxPacket0: 8, maxInterfaces: 2},
	{0x045e, 0x0745}: {name: "Microsoft Nano Transceiver", manufacturers: []string{"Microsoft"}, maxSpeedMbps: 12, maxPacket0: 8, maxInterfaces: 3},
	{0x413c, 0x2011}: {name: "Dell Multimedia Pro Keyboard", manufacturers: []string{"Dell", "Dell Inc."}, maxSpeedMbps: 12, maxPacket0: 8, maxInterfaces: 2},
	{0x413c, 0x2113}: {name: "Dell KB216 keyboard", manufacturers: []string{"Dell", "Dell Inc.", "DELL"}, maxSpeedMbps: 1.5, maxPacket0: 8, maxInterfaces: 2},
}

// edidIdentity is a KVM or capture-chip EDID.
type edidIdentity struct {
	tool, device string
	mfg          string
	productLo    uint16
	productHi    uint16
	serial32     uint32 // checked when checkSerial
	checkSerial  bool
	serialText   string // checked when non-empty
	sev          report.Severity
	capture      bool // a generic capture-chip default, also on non-KVM boards
}

var edidIdentities = []edidIdentity{
	{tool: ToolPiKVM, device: "PiKVM / GLKVM EDID (LNX 7770-7773)", mfg: "LNX", productLo: 0x7770, productHi: 0x7773, serial32: 0x01010101, checkSerial: true, sev: report.SeverityHigh},
	{tool: ToolTinyPilot, device: "TinyPilot EDID", mfg: "TSB", productLo: 0x9876, productHi: 0x9876, serial32: 0x88888800, checkSerial: true, sev: report.SeverityHigh},
	{tool: ToolJetKVM, device: "JetKVM default EDID (Toshiba TC358749)", mfg: "TSB", productLo: 0x8801, productHi: 0x8801, serial32: 0x88888800, checkSerial: true, sev: report.SeverityMedium, capture: true},
	{tool: ToolJetKVM, device: "JetKVM preset EDID (Acer B246WL clone)", mfg: "ACR", productLo: 0x0565, productHi: 0x0565, serial32: 0x01613f8a, checkSerial: true, serialText: "T8NEE0038522", sev: report.SeverityHigh},
	{tool: ToolJetKVM, device: "JetKVM preset EDID (ASUS PA248QV clone)", mfg: "AUS", productLo: 0x2487, productHi: 0x2487, serialText: "M1LMQS052157", sev: report.SeverityHigh},
	{tool: ToolJetKVM, device: "JetKVM preset EDID (Dell D2721H clone)", mfg: "DEL", productLo: 0x2013, productHi: 0x2013, serialText: "3S5GQ23", sev: report.SeverityHigh},
	{tool: ToolNanoKVM, device: "NanoKVM EDID", mfg: "SPD", productLo: 0x3301, productHi: 0x3301, sev: report.SeverityHigh},
	{tool: ToolNanoKVM, device: "NanoKVM embedded EDID (Philips 342E2 clone)", mfg: "PHL", productLo: 0xc233, productHi: 0xc233, serialText: "UK02143047718", sev: report.SeverityHigh},
	{tool: ToolBliKVM, device: "BliKVM EDID (Toshiba-H2C)", mfg: "TSB", productLo: 0x8888, productHi: 0x8888, serial32: 0x88888800, checkSerial: true, sev: report.SeverityHigh},
	{tool: ToolIPKVM, device: "MacroSilicon USB capture dongle EDID", mfg: "MAC", productLo: 0x0101, productHi: 0x0101, serial32: 0x04030201, checkSerial: true, sev: report.SeverityMedium, capture: true},
}

// kvmMonitorNames are monitor names only KVMs use.
var kvmMonitorNames = map[string]string{
	"pikvm": ToolPiKVM, "pikvm v3": ToolPiKVM, "pikvm v4 mini": ToolPiKVM, "pikvm v4 plus": ToolPiKVM,
	"tinypilot": ToolTinyPilot, "nanokvm": ToolNanoKVM, "toshiba-h2c": ToolBliKVM, "t749-fhd720": ToolJetKVM,
	"macrosilicon": ToolIPKVM, "glkvm": ToolGLiNetComet,
}

// fakeSerials are 32-bit EDID serials that capture chips ship with.
var fakeSerials = map[uint32]bool{0x88888800: true, 0x01010101: true, 0x04030201: true, 0x12345678: true}
