package inventory

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"howett.net/plist"

	"github.com/farmwatch/farmwatch/internal/detect/hardware/edid"
	"github.com/farmwatch/farmwatch/internal/detect/hardware/hid"
)

// ioregNode is one IORegistry entry as `ioreg -l -a` prints it; fields
// cover both IOUSBHostDevice (IOUSB plane) and IOHIDDevice entries.
type ioregNode struct {
	Name     string      `plist:"IORegistryEntryName"`
	Class    string      `plist:"IOObjectClass"`
	Children []ioregNode `plist:"IORegistryEntryChildren"`

	// IOUSBHostDevice
	IDVendor    *uint64 `plist:"idVendor"`
	IDProduct   uint64  `plist:"idProduct"`
	BCDDevice   uint64  `plist:"bcdDevice"`
	BCDUSB      uint64  `plist:"bcdUSB"`
	DeviceClass uint64  `plist:"bDeviceClass"`
	DeviceSub   uint64  `plist:"bDeviceSubClass"`
	DeviceProto uint64  `plist:"bDeviceProtocol"`
	MaxPacket0  uint64  `plist:"bMaxPacketSize0"`
	Speed       *uint64 `plist:"Device Speed"`
	LinkSpeed   *uint64 `plist:"UsbLinkSpeed"` // bits per second
	// USBSpeed is what newer macOS (Apple silicon) writes instead of
	// "Device Speed": a tIOUSBHostConnectionSpeed (XHCI 1.0 table 147
	// order: none, full, low, high, super, super+, super+ 2x2), as in
	// the real ioreg dump of libusb/libusb issue #958.
	HostSpeed     *uint64 `plist:"USBSpeed"`
	LocationID    uint64  `plist:"locationID"`
	VendorName    string  `plist:"USB Vendor Name"`
	ProductName   string  `plist:"USB Product Name"`
	SerialNumber  string  `plist:"USB Serial Number"`
	KVendor       string  `plist:"kUSBVendorString"`
	KProduct      string  `plist:"kUSBProductString"`
	KSerial       string  `plist:"kUSBSerialNumberString"`
	InterfaceNum  *uint64 `plist:"bInterfaceNumber"`
	InterfaceName string  `plist:"kUSBString"`

	// IOHIDDevice
	VendorID         *uint64 `plist:"VendorID"`
	ProductID        uint64  `plist:"ProductID"`
	Product          string  `plist:"Product"`
	Manufacturer     string  `plist:"Manufacturer"`
	HIDSerial        string  `plist:"SerialNumber"`
	Transport        string  `plist:"Transport"`
	HIDLocationID    uint64  `plist:"LocationID"`
	ReportDescriptor []byte  `plist:"ReportDescriptor"`

	// IOPMrootDomain
	Clamshell *bool `plist:"AppleClamshellState"`
}

// maxIoregNodes bounds how many registry entries are examined.
const maxIoregNodes = 20000

// parseIoregNodes decodes an ioreg -a plist whose root is one entry (IOUSB
// plane dump) or an array of entries (ioreg -r).
func parseIoregNodes(name string, data []byte) (nodes []ioregNode, err error) {
	if len(data) == 0 {
		return nil, nil
	}
	defer func() {
		if p := recover(); p != nil {
			nodes, err = nil, fmt.Errorf("%s: malformed plist: %v", name, p)
		}
	}()
	var arr []ioregNode
	if _, err := plist.Unmarshal(data, &arr); err == nil {
		return arr, nil
	}
	var one ioregNode
	if _, err := plist.Unmarshal(data, &one); err != nil {
		return nil, fmt.Errorf("%s: not an ioreg plist: %w", name, err)
	}
	return []ioregNode{one}, nil
}

// walkIoreg visits entries depth-first, bounded in count and depth.
func walkIoreg(nodes []ioregNode, fn func(n *ioregNode)) {
	count := 0
	var walk func(ns []ioregNode, depth int)
	walk = func(ns []ioregNode, depth int) {
		if depth > 64 {
			return
		}
		for i := range ns {
			if count >= maxIoregNodes {
				return
			}
			count++
			fn(&ns[i])
			walk(ns[i].Children, depth+1)
		}
	}
	walk(nodes, 0)
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

var darwinSpeeds = map[uint64]float64{0: 1.5, 1: 12, 2: 480, 3: 5000, 4: 10000, 5: 20000}

// hostConnectionSpeeds maps tIOUSBHostConnectionSpeed (the USBSpeed key).
var hostConnectionSpeeds = map[uint64]float64{1: 12, 2: 1.5, 3: 480, 4: 5000, 5: 10000, 6: 20000}

// ParseIoreg builds USB devices from `ioreg -p IOUSB -l -w0 -a` and HID
// devices from `ioreg -r -c IOHIDDevice -l -w0 -a`, attaching each USB HID
// device's report descriptor to its USB device by location id.
func ParseIoreg(usbPlist, hidPlist []byte) (*Inventory, error) {
	inv := &Inventory{OS: "darwin"}
	usbNodes, err := parseIoregNodes(FileIoregUSB, usbPlist)
	if err != nil {
		return nil, err
	}
	byLoc := map[uint64]*USBDevice{}
	walkIoreg(usbNodes, func(n *ioregNode) {
		if n.IDVendor == nil {
			return
		}
		u := &USBDevice{
			Path:         fmt.Sprintf("0x%08x", n.LocationID),
			VID:          uint16(*n.IDVendor),
			PID:          uint16(n.IDProduct),
			BCDDevice:    uint16(n.BCDDevice),
			BCDUSB:       uint16(n.BCDUSB),
			Class:        uint8(n.DeviceClass),
			SubClass:     uint8(n.DeviceSub),
			Protocol:     uint8(n.DeviceProto),
			MaxPacket0:   int(n.MaxPacket0),
			Manufacturer: Clean(first(n.KVendor, n.VendorName)),
			Product:      Clean(first(n.KProduct, n.ProductName)),
			Serial:       Clean(first(n.KSerial, n.SerialNumber)),
			StringsKnown: true,
		}
		switch {
		case n.Speed != nil:
			u.SpeedMbps = darwinSpeeds[*n.Speed]
		case n.LinkSpeed != nil:
			u.SpeedMbps = float64(*n.LinkSpeed) / 1e6
		case n.HostSpeed != nil:
			u.SpeedMbps = hostConnectionSpeeds[*n.HostSpeed]
		}
		// Interfaces appear as children when the plane shows them.
		for i := range n.Children {
			c := &n.Children[i]
			if c.InterfaceNum != nil && len(u.Interfaces) < 64 {
				u.Interfaces = append(u.Interfaces, &USBInterface{Number: int(*c.InterfaceNum), Name: Clean(c.InterfaceName)})
			}
		}
		if len(inv.USB) < maxUSBEntries {
			inv.USB = append(inv.USB, u)
			byLoc[n.LocationID] = u
		}
		if _, ok := VMDevice(u); ok {
			inv.VM, inv.VMReason = true, "virtual USB device "+u.VIDPID()
		}
	})
	hidNodes, err := parseIoregNodes(FileIoregHID, hidPlist)
	if err != nil {
		return nil, err
	}
	walkIoreg(hidNodes, func(n *ioregNode) {
		if n.VendorID == nil && n.ReportDescriptor == nil {
			return
		}
		var desc *hid.Descriptor
		if len(n.ReportDescriptor) > 0 {
			desc, _ = hid.Parse(n.ReportDescriptor)
		}
		if strings.EqualFold(n.Transport, "USB") {
			if u := byLoc[n.HIDLocationID]; u != nil {
				num := len(u.Interfaces)
				if n.InterfaceNum != nil {
					num = int(*n.InterfaceNum)
				}
				in := &USBInterface{Number: num, Class: 0x03}
				if desc != nil {
					in.HID = []*hid.Descriptor{desc}
					if desc.BootKeyboardLayout() {
						in.SubClass, in.Protocol = 1, 1
					}
				}
				if len(u.Interfaces) < 64 {
					u.Interfaces = append(u.Interfaces, in)
				}
				return
			}
		}
		if len(inv.HID) >= maxHIDEntries {
			return
		}
		h := &HIDDevice{Path: fmt.Sprintf("%s@0x%08x", Clean(n.Transport), n.HIDLocationID), Name: Clean(n.Product), Descriptor: desc}
		if n.VendorID != nil {
			h.VID = uint16(*n.VendorID)
		}
		h.PID = uint16(n.ProductID)
		switch strings.ToLower(n.Transport) {
		case "usb":
			h.Bus = 0x0003
		case "bluetooth", "bluetooth low energy":
			h.Bus = 0x0005
		default:
			h.Bus = 0x0018
		}
		inv.HID = append(inv.HID, h)
	})
	for _, u := range inv.USB {
		sort.SliceStable(u.Interfaces, func(i, j int) bool { return u.Interfaces[i].Number < u.Interfaces[j].Number })
	}
	return inv, nil
}

// ParseSPDisplays reads `system_profiler -json SPDisplaysDataType`.
func ParseSPDisplays(data []byte) ([]*Display, error) {
	if len(data) == 0 {
		return nil, nil
	}
	var doc struct {
		Displays []struct {
			Name string           `json:"_name"`
			Ndrv []map[string]any `json:"spdisplays_ndrvs"`
		} `json:"SPDisplaysDataType"`
	}
	if err := checkJSON(FileDisplays, data); err != nil {
		return nil, err
	}
	// Decode leniently: system_profiler adds keys between releases.
	if err := decodeLenient(FileDisplays, data, &doc); err != nil {
		return nil, err
	}
	var out []*Display
	for _, gpu := range doc.Displays {
		for _, m := range gpu.Ndrv {
			if len(out) >= maxDRMEntries {
				break
			}
			str := func(k string) string { s, _ := m[k].(string); return s }
			d := &Display{
				Connector: Clean(first(str("_spdisplays_displayport"), str("spdisplays_connection_type"), gpu.Name)),
				Internal:  str("spdisplays_connection_type") == "spdisplays_internal" || strings.Contains(str("spdisplays_display_type"), "built-in"),
				Connected: true,
				Enabled:   str("spdisplays_online") != "spdisplays_no",
				Name:      Clean(str("_name")),
			}
			if v := str("_spdisplays_display-vendor-id"); v != "" {
				if n, err := strconv.ParseUint(v, 16, 16); err == nil {
					d.Manufacturer = pnpFromCode(uint16(n))
				}
			}
			if v := str("_spdisplays_display-product-id"); v != "" {
				if n, err := strconv.ParseUint(v, 16, 16); err == nil {
					d.ProductCode, d.HasProduct = uint16(n), true
				}
			}
			if v := str("_spdisplays_display-serial-number"); v != "" {
				if n, err := strconv.ParseUint(v, 16, 32); err == nil {
					d.Serial32, d.HasSerial32 = uint32(n), true
				}
			}
			d.Week, _ = strconv.Atoi(str("_spdisplays_display-week"))
			d.Year, _ = strconv.Atoi(str("_spdisplays_display-year"))
			if v := str("_spdisplays_edid"); v != "" {
				if b, err := edid.Decode([]byte(v)); err == nil {
					if e, err := edid.Parse(b); err == nil {
						d.EDID = e
					}
				}
			}
			if d.Name == "" && d.EDID != nil {
				d.Name = d.EDID.MonitorName
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// pnpFromCode turns the big-endian EDID manufacturer word into its letters.
func pnpFromCode(v uint16) string {
	l := func(c uint16) byte {
		if c >= 1 && c <= 26 {
			return byte('A' + c - 1)
		}
		return '?'
	}
	return string([]byte{l(v >> 10 & 0x1f), l(v >> 5 & 0x1f), l(v & 0x1f)})
}

// ParseClamshell reads `ioreg -r -k AppleClamshellState -d 1 -a` (the
// power-management root domain): "closed", "open", or "" when the Mac has
// no lid or the file is absent.
func ParseClamshell(data []byte) (string, error) {
	nodes, err := parseIoregNodes(FileClamshell, data)
	if err != nil {
		return "", err
	}
	lid := ""
	walkIoreg(nodes, func(n *ioregNode) {
		if n.Clamshell != nil && lid == "" {
			lid = "open"
			if *n.Clamshell {
				lid = "closed"
			}
		}
	})
	return lid, nil
}

// ParseDarwin combines the macOS sources; any may be absent.
func ParseDarwin(usbPlist, hidPlist, displaysJSON, clamshell []byte) (*Inventory, error) {
	if usbPlist == nil && hidPlist == nil && displaysJSON == nil {
		// Nothing recorded (a snapshot of processes only): no devices, not an error.
		return &Inventory{}, nil
	}
	inv, err := ParseIoreg(usbPlist, hidPlist)
	if err != nil {
		return nil, err
	}
	if inv.Lid, err = ParseClamshell(clamshell); err != nil {
		return nil, err
	}
	ds, err := ParseSPDisplays(displaysJSON)
	inv.Displays = ds
	return inv, err
}
