package inventory

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/hardware/edid"
	"github.com/farmwatch/farmwatch/internal/detect/hardware/hid"
)

// PnPDevice is one entry of pnp-devices.json: the output of
//
//	Get-PnpDevice -PresentOnly | Select-Object InstanceId,FriendlyName,Manufacturer,Class,Status | ConvertTo-Json
//
// or farmwatch's own collector, which writes the same fields from SetupAPI
// plus BusReportedDeviceDesc (DEVPKEY_Device_BusReportedDeviceDesc: the
// USB iProduct string of a device node, the iInterface string of an
// interface node), which the responder's command can add too.
type PnPDevice struct {
	InstanceID            string `json:"InstanceId"`
	FriendlyName          string `json:"FriendlyName"`
	Manufacturer          string `json:"Manufacturer"`
	Class                 string `json:"Class"`
	Status                string `json:"Status"`
	BusReportedDeviceDesc string `json:"BusReportedDeviceDesc,omitempty"`
	// HidCaps is a HID collection's capabilities (HidP_GetCaps and the input
	// HidP_GetValueCaps), recorded by farmwatch's own collector.
	HidCaps *HIDCaps `json:"HidCaps,omitempty"`
}

// HIDCaps is what Windows' HID parser reports of a top-level collection.
type HIDCaps struct {
	UsagePage uint16        `json:"UsagePage"`
	Usage     uint16        `json:"Usage"`
	Values    []HIDValueCap `json:"Values,omitempty"`
}

// HIDValueCap is one input value capability (an axis, a wheel).
type HIDValueCap struct {
	UsagePage  uint16 `json:"UsagePage"`
	UsageMin   uint16 `json:"UsageMin"`
	UsageMax   uint16 `json:"UsageMax"`
	ReportID   uint8  `json:"ReportID"`
	Absolute   bool   `json:"Absolute"`
	LogicalMin int32  `json:"LogicalMin"`
	LogicalMax int32  `json:"LogicalMax"`
}

// maxValueCaps bounds the value capabilities taken from one collection.
const maxValueCaps = 64

// capsDescriptor turns Windows HID capabilities into the descriptor model,
// so the same pointer rules (absolute 0..32767, relative axes) apply.
func capsDescriptor(c *HIDCaps) *hid.Descriptor {
	app := hid.MakeUsage(c.UsagePage, c.Usage)
	d := &hid.Descriptor{Applications: []hid.Usage{app}}
	ids := map[uint8]bool{}
	for i, v := range c.Values {
		if i >= maxValueCaps {
			d.Truncated = true
			break
		}
		f := hid.Field{
			Kind: "input", Application: app, ReportID: v.ReportID, UsagePage: v.UsagePage,
			LogicalMin: v.LogicalMin, LogicalMax: v.LogicalMax, Variable: true, Relative: !v.Absolute,
		}
		if v.UsageMax > v.UsageMin {
			f.UsageMin, f.UsageMax = hid.MakeUsage(v.UsagePage, v.UsageMin), hid.MakeUsage(v.UsagePage, v.UsageMax)
		} else {
			f.Usages = []hid.Usage{hid.MakeUsage(v.UsagePage, v.UsageMin)}
		}
		d.Fields = append(d.Fields, f)
		if v.ReportID != 0 && !ids[v.ReportID] {
			ids[v.ReportID] = true
			d.ReportIDs = append(d.ReportIDs, v.ReportID)
		}
	}
	return d
}

// Monitor is one entry of monitors.json: the output of
//
//	Get-CimInstance -Namespace root\wmi WmiMonitorID | ConvertTo-Json
//
// (strings as arrays of character codes). EDID is farmwatch's addition:
// the registry EDID as hex, when the collector could read it.
type Monitor struct {
	Active            bool   `json:"Active"`
	InstanceName      string `json:"InstanceName"`
	ManufacturerName  []int  `json:"ManufacturerName"`
	ProductCodeID     []int  `json:"ProductCodeID"`
	SerialNumberID    []int  `json:"SerialNumberID"`
	UserFriendlyName  []int  `json:"UserFriendlyName"`
	WeekOfManufacture int    `json:"WeekOfManufacture"`
	YearOfManufacture int    `json:"YearOfManufacture"`
	EDID              string `json:"EDID,omitempty"`
}

// maxPnP bounds how many PnP entries are examined.
const maxPnP = 20000

// decodeList decodes a ConvertTo-Json document, which is an array or, for
// a single item, a bare object, into out.
func decodeList[T any](name string, data []byte) ([]T, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	if err := checkJSON(name, data); err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	var out []T
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		if err := decodeLenient(name, trimmed, &out); err != nil {
			return nil, err
		}
	case len(trimmed) > 0 && trimmed[0] == '{':
		var one T
		if err := decodeLenient(name, trimmed, &one); err != nil {
			return nil, err
		}
		out = []T{one}
	default:
		return nil, fmt.Errorf("%s: want a JSON array or object", name)
	}
	return out, nil
}

var (
	reUSBID     = regexp.MustCompile(`(?i)^(USB|HID)\\VID_([0-9A-F]{4})&PID_([0-9A-F]{4})(?:&REV_[0-9A-F]{4})?(?:&MI_([0-9A-F]{2}))?(?:&COL[0-9A-F]{2})?\\(.*)$`)
	reUSBSTOR   = regexp.MustCompile(`(?i)^(?:USBSTOR|SCSI)\\(CDROM|DISK)&VEN_([^&\\]*)&PROD_([^&\\]*)(?:&REV_[^\\]*)?\\(.*)$`)
	reDisplayID = regexp.MustCompile(`(?i)^DISPLAY\\([A-Z@]{3})([0-9A-F]{4})\\`)
)

// ParsePnP builds USB devices, storage and display identities from PnP
// device entries.
func ParsePnP(data []byte) (*Inventory, error) {
	devs, err := decodeList[PnPDevice](FilePnPDevices, data)
	if err != nil {
		return nil, err
	}
	return InventoryFromPnP(devs), nil
}

// InventoryFromPnP builds the inventory from PnP entries (snapshot or live).
func InventoryFromPnP(devs []PnPDevice) *Inventory {
	devs = append([]PnPDevice(nil), devs...)
	if len(devs) > maxPnP {
		devs = devs[:maxPnP]
	}
	inv := &Inventory{OS: "windows"}
	type key struct{ vid, pid uint16 }
	byID := map[key]*USBDevice{}
	get := func(k key, path string) *USBDevice {
		if u := byID[k]; u != nil {
			return u
		}
		u := &USBDevice{Path: path, VID: k.vid, PID: k.pid}
		byID[k] = u
		inv.USB = append(inv.USB, u)
		return u
	}
	iface := func(u *USBDevice, n int) *USBInterface {
		for _, in := range u.Interfaces {
			if in.Number == n {
				return in
			}
		}
		if len(u.Interfaces) >= 64 {
			return &USBInterface{Number: n}
		}
		in := &USBInterface{Number: n}
		u.Interfaces = append(u.Interfaces, in)
		return in
	}
	var stor []PnPDevice
	// Devices first, then interfaces and HID collections, so that the
	// parent's instance id (and serial) is known.
	sort.SliceStable(devs, func(i, j int) bool { return len(devs[i].InstanceID) < len(devs[j].InstanceID) })
	for _, d := range devs {
		id := Clean(d.InstanceID)
		if m := reUSBID.FindStringSubmatch(id); m != nil {
			k := key{hex16(m[2]), hex16(m[3])}
			bus, mi, inst := strings.ToUpper(m[1]), m[4], m[5]
			switch {
			case bus == "USB" && mi == "":
				u := byID[k]
				if u == nil || u.Serial != "" {
					u = get(k, id)
				}
				u.Path, u.Serial = id, Clean(inst)
				if d.BusReportedDeviceDesc != "" {
					u.Product = Clean(d.BusReportedDeviceDesc)
				}
				switch {
				case strings.EqualFold(d.Class, "HIDClass"):
					// A single-interface HID device: the device is the interface.
					iface(u, 0).Class = 0x03
				case strings.Contains(strings.ToLower(d.FriendlyName), "mass storage"):
					iface(u, 0).Class = 0x08
				}
				if strings.EqualFold(d.Class, "USB") && strings.Contains(strings.ToLower(d.FriendlyName), "hub") {
					u.Class = 0x09
				}
			case bus == "USB":
				u := get(k, id)
				in := iface(u, int(hex8(mi)))
				in.Class = winIfaceClass(d.Class, d.FriendlyName)
				if d.BusReportedDeviceDesc != "" {
					in.Name = Clean(d.BusReportedDeviceDesc)
				}
			default: // HID collection
				u := get(k, id)
				n := 0
				if mi != "" {
					n = int(hex8(mi))
				}
				in := iface(u, n)
				in.Class = 0x03
				if kind := winHIDKind(d.Class, d.FriendlyName); kind != "" && len(in.HIDKinds) < 16 {
					in.HIDKinds = append(in.HIDKinds, kind)
				}
				if d.HidCaps != nil && len(in.HID) < 16 {
					in.HID = append(in.HID, capsDescriptor(d.HidCaps))
				}
			}
			if _, ok := VMDevice(&USBDevice{VID: k.vid, PID: k.pid}); ok {
				inv.VM, inv.VMReason = true, fmt.Sprintf("virtual USB device %04x:%04x", k.vid, k.pid)
			}
			continue
		}
		if reUSBSTOR.MatchString(id) {
			stor = append(stor, d)
			continue
		}
		if m := reDisplayID.FindStringSubmatch(id); m != nil && len(inv.Displays) < maxDRMEntries {
			inv.Displays = append(inv.Displays, &Display{
				Connector: id, Connected: strings.EqualFold(d.Status, "OK"), Enabled: strings.EqualFold(d.Status, "OK"),
				Manufacturer: strings.ToUpper(m[1]), ProductCode: hex16(m[2]), HasProduct: true,
			})
		}
	}
	attachStorage(inv, stor)
	for _, u := range inv.USB {
		sort.SliceStable(u.Interfaces, func(i, j int) bool { return u.Interfaces[i].Number < u.Interfaces[j].Number })
	}
	return inv
}

func winIfaceClass(class, name string) uint8 {
	c, n := strings.ToLower(class), strings.ToLower(name)
	switch {
	case c == "hidclass":
		return 0x03
	case strings.Contains(n, "mass storage") || c == "diskdrive" || c == "cdrom":
		return 0x08
	case c == "media" || strings.Contains(n, "audio"):
		return 0x01
	case c == "net":
		return 0x02
	case c == "camera" || c == "image":
		return 0x0e
	case c == "ports":
		return 0x02
	case c == "smartcardreader":
		return 0x0b
	}
	return 0xff
}

func winHIDKind(class, name string) string {
	c, n := strings.ToLower(class), strings.ToLower(name)
	switch {
	case c == "keyboard" || strings.Contains(n, "keyboard"):
		return "keyboard"
	case c == "mouse" || strings.Contains(n, "mouse"):
		return "mouse"
	case strings.Contains(n, "touch screen") || strings.Contains(n, "pen"):
		return "digitizer"
	case strings.Contains(n, "consumer control"):
		return "consumer"
	case strings.Contains(n, "fido") || strings.Contains(n, "u2f"):
		return "fido"
	}
	return "hid"
}

func charCodes(cs []int) string {
	var b strings.Builder
	for _, c := range cs {
		if c == 0 {
			break
		}
		if b.Len() >= MaxString {
			break
		}
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		b.WriteByte(byte(c))
	}
	return strings.TrimSpace(b.String())
}

// ParseMonitors reads monitors.json (WmiMonitorID).
func ParseMonitors(data []byte) ([]*Display, error) {
	ms, err := decodeList[Monitor](FileMonitors, data)
	if err != nil {
		return nil, err
	}
	return DisplaysFromMonitors(ms), nil
}

// DisplaysFromMonitors converts WmiMonitorID-shaped entries.
func DisplaysFromMonitors(ms []Monitor) []*Display {
	var out []*Display
	for _, m := range ms {
		if len(out) >= maxDRMEntries {
			break
		}
		d := &Display{
			Connector: Clean(m.InstanceName), Connected: m.Active, Enabled: m.Active,
			Manufacturer: charCodes(m.ManufacturerName), Name: charCodes(m.UserFriendlyName),
			SerialText: charCodes(m.SerialNumberID), Week: m.WeekOfManufacture, Year: m.YearOfManufacture,
		}
		if v, err := strconv.ParseUint(charCodes(m.ProductCodeID), 16, 16); err == nil {
			d.ProductCode, d.HasProduct = uint16(v), true
		}
		if m.EDID != "" {
			if b, err := hex.DecodeString(m.EDID); err == nil {
				if e, err := edid.Parse(b); err == nil {
					d.EDID = e
				}
			}
		}
		out = append(out, d)
	}
	return out
}

// ParseWindows combines pnp-devices.json and monitors.json; monitors
// replace the bare PnP display ids they describe.
func ParseWindows(pnp, monitors []byte) (*Inventory, error) {
	if pnp == nil && monitors == nil {
		// Nothing recorded (a snapshot of processes only): no devices, not an error.
		return &Inventory{}, nil
	}
	inv, err := ParsePnP(pnp)
	if err != nil {
		return nil, err
	}
	ms, err := ParseMonitors(monitors)
	if err != nil {
		return inv, err
	}
	if len(ms) > 0 {
		inv.Displays = ms
	}
	return inv, nil
}

// MonitorFromEDID renders a registry EDID as a WmiMonitorID-shaped entry
// (the live collector's monitors.json).
func MonitorFromEDID(instance string, active bool, raw []byte) Monitor {
	m := Monitor{Active: active, InstanceName: instance, EDID: hex.EncodeToString(raw)}
	codes := func(s string) []int {
		out := make([]int, 0, len(s))
		for _, c := range []byte(s) {
			out = append(out, int(c))
		}
		return out
	}
	if e, err := edid.Parse(raw); err == nil {
		m.ManufacturerName = codes(e.Manufacturer)
		m.ProductCodeID = codes(fmt.Sprintf("%04X", e.ProductCode))
		serial := e.SerialText
		if serial == "" {
			serial = strconv.FormatUint(uint64(e.Serial), 10)
		}
		m.SerialNumberID = codes(serial)
		m.UserFriendlyName = codes(e.MonitorName)
		m.WeekOfManufacture, m.YearOfManufacture = e.Week, e.Year
	}
	return m
}

// attachStorage attributes USBSTOR entries to the USB device's mass-storage
// interface: by serial (the USBSTOR instance id is the device serial plus
// "&LUN"), else, when exactly one device has an unattributed mass-storage
// interface, to that one. The rest stay standalone Storage.
func attachStorage(inv *Inventory, stor []PnPDevice) {
	var left []Storage
	free := func(u *USBDevice) *USBInterface {
		for _, in := range u.Interfaces {
			if in.Class == 0x08 && in.SCSIVendor == "" && in.SCSIModel == "" {
				return in
			}
		}
		return nil
	}
	for _, d := range stor {
		m := reUSBSTOR.FindStringSubmatch(Clean(d.InstanceID))
		st := Storage{Path: Clean(d.InstanceID), Vendor: strings.ReplaceAll(m[2], "_", " "), Model: strings.ReplaceAll(m[3], "_", " "), Serial: m[4]}
		attached := false
		for _, u := range inv.USB {
			if u.Serial == "" || !strings.HasPrefix(strings.ToUpper(m[4]), strings.ToUpper(u.Serial)+"&") {
				continue
			}
			if in := free(u); in != nil {
				in.SCSIVendor, in.SCSIModel = st.Vendor, st.Model
				attached = true
				break
			}
		}
		if !attached {
			left = append(left, st)
		}
	}
	for _, st := range left {
		var only *USBInterface
		n := 0
		for _, u := range inv.USB {
			if in := free(u); in != nil {
				only = in
				n++
			}
		}
		if n == 1 {
			only.SCSIVendor, only.SCSIModel = st.Vendor, st.Model
			continue
		}
		inv.Storage = append(inv.Storage, st)
	}
}

// hidInstanceID turns a HID interface path
// (\\?\HID#VID_1D6B&PID_0104&MI_01#8&2c3d&0&0000#{4d1e55b2-...}) into its
// device instance id (HID\VID_1D6B&PID_0104&MI_01\8&2C3D&0&0000).
func hidInstanceID(path string) string {
	p := strings.TrimPrefix(path, `\\?\`)
	if i := strings.LastIndex(p, "#{"); i >= 0 {
		p = p[:i]
	}
	return strings.ToUpper(strings.ReplaceAll(p, "#", `\`))
}
