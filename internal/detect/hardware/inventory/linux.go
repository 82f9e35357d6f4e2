package inventory

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/hardware/edid"
	"github.com/farmwatch/farmwatch/internal/detect/hardware/hid"
	"github.com/farmwatch/farmwatch/internal/source/hostpath"
)

// Bounds on what one Linux scan reads.
const (
	maxUSBEntries   = 1024
	maxAttrBytes    = 4096
	maxEDIDBytes    = edid.MaxSize
	maxInputBytes   = 1 << 20
	maxDRMEntries   = 64
	maxHIDEntries   = 512
	maxSCSIPerIface = 8
)

// sysReader reads files under a root (live "/" or a snapshot directory).
// When record is set, every file read is also copied to the same relative
// path under record, which is how `collect` makes a Linux snapshot that
// holds exactly what the detector reads, with sysfs symlinks resolved into
// plain directories.
type sysReader struct {
	root   string
	record string
	errs   []error
}

func (r *sysReader) path(rel string) string { return hostpath.Root(r.root).File(rel) }

// read returns up to max bytes of root/rel; a missing file is (nil, false).
func (r *sysReader) read(rel string, max int64) ([]byte, bool) {
	f, err := os.Open(r.path(rel))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
			r.errs = append(r.errs, fmt.Errorf("read %s: %w", rel, err))
		}
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		// Some sysfs attributes fail to read on some hardware (EIO); that is
		// "not available", not a scan failure.
		return nil, false
	}
	if r.record != "" {
		dst := filepath.Join(r.record, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			r.errs = append(r.errs, fmt.Errorf("record %s: %w", rel, err))
		} else if err := os.WriteFile(dst, data, 0o644); err != nil {
			r.errs = append(r.errs, fmt.Errorf("record %s: %w", rel, err))
		}
	}
	return data, true
}

func (r *sysReader) attr(rel string) string {
	b, _ := r.read(rel, maxAttrBytes)
	return strings.TrimSpace(string(b))
}

func (r *sysReader) list(rel string, max int) []string {
	ents, err := os.ReadDir(r.path(rel))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if len(out) >= max {
			break
		}
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func (r *sysReader) glob(pattern string, max int) []string {
	m, _ := filepath.Glob(r.path(pattern))
	var out []string
	for _, p := range m {
		if len(out) >= max {
			break
		}
		rel, err := filepath.Rel(r.root, p)
		if err == nil {
			out = append(out, filepath.ToSlash(rel))
		}
	}
	return out
}

func hex16(s string) uint16 {
	v, _ := strconv.ParseUint(strings.TrimSpace(s), 16, 16)
	return uint16(v)
}

func hex8(s string) uint8 {
	v, _ := strconv.ParseUint(strings.TrimSpace(s), 16, 8)
	return uint8(v)
}

// bcdVersion parses sysfs "version" (" 2.00", "3.10") into bcdUSB 0x0200.
func bcdVersion(s string) uint16 {
	s = strings.TrimSpace(s)
	maj, min, ok := strings.Cut(s, ".")
	if !ok {
		return 0
	}
	a, err1 := strconv.ParseUint(maj, 16, 8)
	b, err2 := strconv.ParseUint(min, 16, 8)
	if err1 != nil || err2 != nil {
		return 0
	}
	return uint16(a)<<8 | uint16(b)
}

var (
	usbDeviceName = regexp.MustCompile(`^\d+-[\d.]+$`)
	usbIfaceName  = regexp.MustCompile(`^(\d+-[\d.]+):\d+\.\d+$`)
	hidDevName    = regexp.MustCompile(`^([0-9A-Fa-f]{4}):([0-9A-Fa-f]{4}):([0-9A-Fa-f]{4})\.[0-9A-Fa-f]+$`)
)

// ReadLinux reads the hardware inventory from sysfs/procfs under root.
func ReadLinux(root string) (*Inventory, error) {
	r := &sysReader{root: root}
	inv := r.inventory()
	return inv, errors.Join(r.errs...)
}

func (r *sysReader) inventory() *Inventory {
	inv := &Inventory{OS: "linux"}
	r.readUSB(inv)
	r.readHID(inv)
	r.readInputs(inv)
	r.readDRM(inv)
	r.readLid(inv)
	r.readDMI(inv)
	return inv
}

func (r *sysReader) readUSB(inv *Inventory) {
	const base = "sys/bus/usb/devices"
	names := r.list(base, maxUSBEntries)
	byName := map[string]*USBDevice{}
	for _, n := range names {
		if !usbDeviceName.MatchString(n) {
			continue // root hubs (usbN) and interfaces
		}
		d := base + "/" + n
		u := &USBDevice{
			Path:          n,
			VID:           hex16(r.attr(d + "/idVendor")),
			PID:           hex16(r.attr(d + "/idProduct")),
			BCDDevice:     hex16(r.attr(d + "/bcdDevice")),
			BCDUSB:        bcdVersion(r.attr(d + "/version")),
			Class:         hex8(r.attr(d + "/bDeviceClass")),
			SubClass:      hex8(r.attr(d + "/bDeviceSubClass")),
			Protocol:      hex8(r.attr(d + "/bDeviceProtocol")),
			Manufacturer:  Clean(r.attr(d + "/manufacturer")),
			Product:       Clean(r.attr(d + "/product")),
			Serial:        Clean(r.attr(d + "/serial")),
			Configuration: Clean(r.attr(d + "/configuration")),
			StringsKnown:  true,
		}
		u.SpeedMbps, _ = strconv.ParseFloat(r.attr(d+"/speed"), 64)
		u.MaxPacket0, _ = strconv.Atoi(r.attr(d + "/bMaxPacketSize0"))
		byName[n] = u
		inv.USB = append(inv.USB, u)
	}
	for _, n := range names {
		m := usbIfaceName.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		u := byName[m[1]]
		if u == nil || len(u.Interfaces) >= 64 {
			continue
		}
		d := base + "/" + n
		in := &USBInterface{
			Number:   int(hex8(r.attr(d + "/bInterfaceNumber"))),
			Class:    hex8(r.attr(d + "/bInterfaceClass")),
			SubClass: hex8(r.attr(d + "/bInterfaceSubClass")),
			Protocol: hex8(r.attr(d + "/bInterfaceProtocol")),
			Name:     Clean(r.attr(d + "/interface")),
		}
		for _, h := range r.list(d, 256) {
			if !hidDevName.MatchString(h) {
				continue
			}
			if b, ok := r.read(d+"/"+h+"/report_descriptor", hid.MaxDescriptor); ok && len(b) > 0 {
				if desc, err := hid.Parse(b); err == nil {
					in.HID = append(in.HID, desc)
				}
			}
		}
		if in.Class == 0x08 {
			for _, v := range r.glob(d+"/host*/target*/*/vendor", maxSCSIPerIface) {
				dir := strings.TrimSuffix(v, "/vendor")
				in.SCSIVendor = Clean(r.attr(v))
				in.SCSIModel = Clean(r.attr(dir + "/model"))
				break
			}
		}
		u.Interfaces = append(u.Interfaces, in)
	}
}

func (r *sysReader) readHID(inv *Inventory) {
	const base = "sys/bus/hid/devices"
	for _, n := range r.list(base, maxHIDEntries) {
		m := hidDevName.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		bus := hex16(m[1])
		if bus == 0x0003 {
			continue // read through its USB interface
		}
		h := &HIDDevice{Path: n, Bus: bus, VID: hex16(m[2]), PID: hex16(m[3])}
		for _, line := range strings.Split(r.attr(base+"/"+n+"/uevent"), "\n") {
			if v, ok := strings.CutPrefix(line, "HID_NAME="); ok {
				h.Name = Clean(v)
			}
		}
		if b, ok := r.read(base+"/"+n+"/report_descriptor", hid.MaxDescriptor); ok && len(b) > 0 {
			if d, err := hid.Parse(b); err == nil {
				h.Descriptor = d
			}
		}
		inv.HID = append(inv.HID, h)
	}
}

func (r *sysReader) readInputs(inv *Inventory) {
	b, ok := r.read("proc/bus/input/devices", maxInputBytes)
	if !ok {
		return
	}
	inv.Inputs = ParseProcInput(b)
}

// ParseProcInput parses /proc/bus/input/devices.
func ParseProcInput(b []byte) []InputDevice {
	var out []InputDevice
	var cur *InputDevice
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 3 || line[1] != ':' {
			cur = nil
			continue
		}
		if line[0] == 'I' || cur == nil {
			if len(out) >= 1024 {
				break
			}
			out = append(out, InputDevice{})
			cur = &out[len(out)-1]
		}
		v := strings.TrimSpace(line[2:])
		switch line[0] {
		case 'I':
			for _, f := range strings.Fields(v) {
				k, val, _ := strings.Cut(f, "=")
				switch k {
				case "Bus":
					cur.Bus = hex16(val)
				case "Vendor":
					cur.Vendor = hex16(val)
				case "Product":
					cur.Product = hex16(val)
				case "Version":
					cur.Version = hex16(val)
				}
			}
		case 'N':
			cur.Name = Clean(strings.Trim(strings.TrimPrefix(v, "Name="), `"`))
		case 'P':
			cur.Phys = Clean(strings.TrimPrefix(v, "Phys="))
		case 'S':
			cur.Sysfs = Clean(strings.TrimPrefix(v, "Sysfs="))
		case 'H':
			cur.Handlers = strings.Fields(strings.TrimPrefix(v, "Handlers="))
		}
	}
	return out
}

var drmConnector = regexp.MustCompile(`^card\d+-(.+)$`)

func (r *sysReader) readDRM(inv *Inventory) {
	const base = "sys/class/drm"
	for _, n := range r.list(base, maxDRMEntries) {
		m := drmConnector.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		d := base + "/" + n
		disp := &Display{
			Connector: m[1],
			Connected: r.attr(d+"/status") == "connected",
			Enabled:   r.attr(d+"/enabled") == "enabled",
		}
		up := strings.ToUpper(m[1])
		disp.Internal = strings.HasPrefix(up, "EDP") || strings.HasPrefix(up, "LVDS") || strings.HasPrefix(up, "DSI")
		if b, ok := r.read(d+"/edid", maxEDIDBytes); ok && len(b) > 0 {
			if e, err := edid.Parse(b); err == nil {
				disp.EDID = e
			}
		}
		if !disp.Connected && disp.EDID == nil {
			continue
		}
		inv.Displays = append(inv.Displays, disp)
	}
}

func (r *sysReader) readLid(inv *Inventory) {
	for _, p := range r.glob("proc/acpi/button/lid/*/state", 4) {
		v := r.attr(p)
		switch {
		case strings.Contains(v, "closed"):
			inv.Lid = "closed"
		case strings.Contains(v, "open") && inv.Lid == "":
			inv.Lid = "open"
		}
	}
}

func (r *sysReader) readDMI(inv *Inventory) {
	vendor := r.attr("sys/class/dmi/id/sys_vendor")
	product := r.attr("sys/class/dmi/id/product_name")
	if IsVMString(vendor) || IsVMString(product) {
		inv.VM = true
		inv.VMReason = Clean("DMI " + vendor + " " + product)
	}
}

// CollectLinux copies what ReadLinux reads from root into dir.
func CollectLinux(root, dir string) error {
	r := &sysReader{root: root, record: dir}
	r.inventory()
	return errors.Join(r.errs...)
}
