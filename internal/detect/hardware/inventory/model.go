package inventory

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/farmwatch/farmwatch/internal/detect/hardware/edid"
	"github.com/farmwatch/farmwatch/internal/detect/hardware/hid"
)

// Inventory is the hardware a host shows, in a form shared by all OSes.
type Inventory struct {
	OS       string
	USB      []*USBDevice
	HID      []*HIDDevice // HID devices not attached to a USB interface (I2C, Bluetooth)
	Inputs   []InputDevice
	Displays []*Display
	Storage  []Storage // mass-storage identities not attributed to a USB device
	// Lid is "open", "closed" or "" when unknown.
	Lid string
	// VM is set when the host is a virtual machine; VMReason says why.
	VM       bool
	VMReason string
}

// USBDevice is one USB device (not interface).
type USBDevice struct {
	// Path locates the device: sysfs name ("1-1.2"), IORegistry location id,
	// or Windows device instance id.
	Path          string
	VID, PID      uint16
	BCDDevice     uint16
	BCDUSB        uint16
	SpeedMbps     float64 // 0 when unknown
	MaxPacket0    int     // 0 when unknown
	Class         uint8
	SubClass      uint8
	Protocol      uint8
	Manufacturer  string
	Product       string
	Serial        string
	Configuration string
	// StringsKnown is set when the reader saw the device's string
	// descriptors (Linux, macOS); Windows PnP data does not carry them, and
	// its Serial is the instance id suffix.
	StringsKnown bool
	Interfaces   []*USBInterface
}

// USBInterface is one interface of a USB device's active configuration.
type USBInterface struct {
	Number   int
	Class    uint8
	SubClass uint8
	Protocol uint8
	Name     string // iInterface string
	Driver   string
	// HID report descriptors of HID devices bound to this interface.
	HID []*hid.Descriptor
	// HIDKinds are what the OS says the interface's HID collections are
	// when no descriptor is available (Windows: "keyboard", "mouse").
	HIDKinds []string
	// SCSI inquiry identity of a mass-storage interface.
	SCSIVendor, SCSIModel string
}

// HIDDevice is a HID device outside USB (or whose USB parent is unknown).
type HIDDevice struct {
	Path       string
	Bus        uint16
	VID, PID   uint16
	Name       string
	Descriptor *hid.Descriptor
}

// InputDevice is one /proc/bus/input/devices entry.
type InputDevice struct {
	Bus, Vendor, Product, Version uint16
	Name, Phys, Sysfs             string
	Handlers                      []string
}

// Display is one display connector or attached monitor.
type Display struct {
	Connector string
	Internal  bool
	Connected bool
	Enabled   bool
	EDID      *edid.EDID
	// Identity fields when no full EDID is available (Windows WmiMonitorID,
	// macOS system_profiler): they mirror the EDID fields.
	Manufacturer string
	ProductCode  uint16
	HasProduct   bool
	Serial32     uint32
	HasSerial32  bool
	Name         string
	SerialText   string
	Week, Year   int
}

// Identity returns the display's identity, from the EDID when present.
func (d *Display) Identity() (mfg string, product uint16, hasProduct bool, serial uint32, hasSerial bool, name, serialText string) {
	if d.EDID != nil {
		e := d.EDID
		return e.Manufacturer, e.ProductCode, true, e.Serial, true, e.MonitorName, e.SerialText
	}
	return d.Manufacturer, d.ProductCode, d.HasProduct, d.Serial32, d.HasSerial32, d.Name, d.SerialText
}

// Storage is a mass-storage device identity (SCSI inquiry or Windows
// USBSTOR id) seen on its own.
type Storage struct {
	Path, Vendor, Model, Serial string
}

// VIDPID renders "1d6b:0104".
func (u *USBDevice) VIDPID() string { return fmt.Sprintf("%04x:%04x", u.VID, u.PID) }

// MaxString bounds any string taken from a device.
const MaxString = 128

// Clean sanitises a string a device reported: invalid UTF-8 and control
// characters become '?', surrounding space is trimmed, and it is cut to
// MaxString runes, so evidence is always safe to print.
func Clean(s string) string {
	if len(s) > 4*MaxString {
		s = s[:4*MaxString]
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s) && n < MaxString; {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size <= 1 || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
