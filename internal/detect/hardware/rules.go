package hardware

import (
	"fmt"
	"sort"
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/hardware/hid"
	"github.com/farmwatch/farmwatch/internal/detect/hardware/inventory"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Rules.
const (
	RuleUSBIdentity    = "hardware.usb.kvm_identity"
	RuleUSBSpoofed     = "hardware.usb.spoofed_identity"
	RuleUSBStructure   = "hardware.usb.kvm_structure"
	RuleUSBVM          = "hardware.usb.vm_device"
	RuleStorage        = "hardware.storage.kvm_virtual_media"
	RuleDisplayEDID    = "hardware.display.kvm_edid"
	RuleDisplayCapture = "hardware.display.capture_edid"
	RuleLidClosedKVM   = "hardware.display.lid_closed_kvm"
	RuleHIDStructure   = "hardware.hid.kvm_structure"
)

// Trait names used in evidence.
const (
	TraitIdentity         = "known_kvm_identity"
	TraitHIDInterfaceName = "gadget_hid_interface_string"
	TraitMSDInterfaceName = "gadget_mass_storage_interface_string"
	TraitGadgetSCSI       = "gadget_scsi_inquiry"
	TraitKVMSCSIVendor    = "kvm_scsi_vendor"
	TraitBootKbAbs        = "boot_keyboard_with_absolute_0_32767_pointer"
	TraitKbAbs            = "keyboard_with_absolute_0_32767_pointer" // Windows: keyboard collection, no descriptor layout
	TraitRelMouse         = "plus_relative_mouse"
	TraitMassStorage      = "plus_mass_storage"
	TraitAudio            = "plus_audio"
	TraitLinuxFoundation  = "linux_foundation_non_hub"
	TraitKVMSerial        = "kvm_default_serial"
	TraitJetKVMSerial     = "jetkvm_preset_serial_pattern"
	TraitSpoofStrings     = "strings_differ_from_real_product"
	TraitSpoofNoStrings   = "no_strings_unlike_real_product"
	TraitSpoofSpeed       = "speed_differs_from_real_product"
	TraitSpoofPacket      = "packet_size_differs_from_real_product"
	TraitSpoofInterfaces  = "interfaces_differ_from_real_product"
	TraitKVMEDID          = "kvm_edid"
	TraitCaptureEDID      = "capture_chip_edid_fake_serial"
	TraitKVMMonitorName   = "kvm_monitor_name"
	TraitLidClosed        = "lid_closed_only_kvm_display"
	TraitVM               = "virtual_machine_device"
)

// decide turns an inventory into findings.
func decide(inv *Inventory, s *Settings, hostID string) []report.Finding {
	var out []report.Finding
	ignore := map[string]bool{}
	for _, v := range s.IgnoreDevices {
		ignore[strings.ToLower(strings.TrimSpace(v))] = true
	}
	for _, u := range inv.USB {
		if ignore[u.VIDPID()] || isHub(u) && u.VID != 0x1d6b {
			continue
		}
		if f, ok := decideUSB(inv, u, s, hostID); ok {
			out = append(out, f)
		}
	}
	for _, h := range inv.HID {
		if f, ok := decideHID(inv, h, hostID); ok {
			out = append(out, f)
		}
	}
	for _, st := range inv.Storage {
		if f, ok := decideStorage(st, hostID); ok {
			out = append(out, f)
		}
	}
	expected := map[string]bool{}
	for _, e := range s.ExpectedDisplays {
		expected[strings.ToLower(strings.TrimSpace(e))] = true
	}
	var kvmDisplays []report.Finding
	external := 0
	for _, d := range inv.Displays {
		if !d.Internal && d.Connected {
			external++
		}
		f, ok := decideDisplay(inv, d, expected, hostID)
		if ok {
			out = append(out, f)
			if !d.Internal && d.Connected {
				kvmDisplays = append(kvmDisplays, f)
			}
		}
	}
	if inv.Lid == "closed" && external > 0 && len(kvmDisplays) == external {
		tool, names := kvmDisplays[0].Tool, []string{}
		for _, f := range kvmDisplays {
			names = append(names, fmt.Sprint(f.Evidence["connector"]))
		}
		out = append(out, report.Finding{
			ID:       report.StableID(hostID, RuleLidClosedKVM, tool, strings.Join(names, ",")),
			Rule:     RuleLidClosedKVM,
			Category: report.CategoryRemoteAccessHardware, Tool: tool,
			Severity: report.SeverityCritical, Confidence: 0.9,
			Summary:  fmt.Sprintf("Laptop lid is closed and the only external display is a KVM/capture device (%s)", strings.Join(names, ", ")),
			Evidence: map[string]any{"traits": []string{TraitLidClosed}, "lid": inv.Lid, "connectors": names, "vm": inv.VM},
		})
	}
	report.Sort(out)
	return out
}

func isHub(u *USBDevice) bool { return u.Class == 0x09 }

// usbTraits collects the structural traits of a device.
type usbTraits struct {
	names []string
	score int
	tool  string // tool implied by a trait (SCSI vendor), if any
}

func (t *usbTraits) add(name string, score int) {
	t.names = append(t.names, name)
	t.score += score
}

func structure(u *USBDevice) usbTraits {
	var t usbTraits
	var hidName, msdName, gadgetSCSI, bootKb, kb, absKVM, rel, msd, audio bool
	for _, in := range u.Interfaces {
		if in.Name == "HID Interface" {
			hidName = true
		}
		if in.Name == "Mass Storage" {
			msdName = true
		}
		if in.Class == 0x08 {
			msd = true
		}
		if in.Class == 0x01 {
			audio = true
		}
		v, m := strings.ToLower(in.SCSIVendor), strings.ToLower(in.SCSIModel)
		if v == "linux" && (strings.Contains(m, "file-stor gadget") || strings.Contains(m, "file-cd gadget")) {
			gadgetSCSI = true
		}
		if tool, ok := scsiVendors[v]; ok {
			t.tool = tool
		}
		if in.Class == 0x03 && in.SubClass == 1 && in.Protocol == 1 {
			bootKb = true
		}
		for _, k := range in.HIDKinds {
			if k == "keyboard" {
				kb = true
			}
		}
		for _, d := range in.HID {
			if d.BootKeyboardLayout() {
				bootKb = true
			}
			if d.KVMAbsoluteRange() {
				absKVM = true
			}
			if d.RelativePointer() {
				rel = true
			}
		}
	}
	if hidName {
		t.add(TraitHIDInterfaceName, 3)
	}
	if msdName && (hidName || bootKb || absKVM) {
		t.add(TraitMSDInterfaceName, 1)
	}
	if gadgetSCSI {
		t.add(TraitGadgetSCSI, 3)
	}
	if t.tool != "" {
		t.add(TraitKVMSCSIVendor, 3)
	}
	if (bootKb || kb) && absKVM {
		if bootKb {
			t.add(TraitBootKbAbs, 2)
		} else {
			t.add(TraitKbAbs, 2)
		}
		if rel {
			t.add(TraitRelMouse, 1)
		}
		if msd {
			t.add(TraitMassStorage, 1)
		}
		if audio {
			t.add(TraitAudio, 1)
		}
	}
	if u.VID == 0x1d6b && !isHub(u) {
		t.add(TraitLinuxFoundation, 3)
	}
	if _, ok := kvmSerials[u.Serial]; ok && u.Serial != "" {
		t.add(TraitKVMSerial, 2)
	}
	if u.StringsKnown && jetkvmPresetSerial.MatchString(u.Serial) {
		t.add(TraitJetKVMSerial, 3)
	}
	return t
}

func scoreSeverity(score int) report.Severity {
	switch {
	case score >= 5:
		return report.SeverityCritical
	case score >= 3:
		return report.SeverityHigh
	case score >= 2:
		return report.SeverityMedium
	case score >= 1:
		return report.SeverityLow
	}
	return report.SeverityInfo
}

// defaultUSBSerial reports whether a USB serial is one that every unit of a
// KVM product ships with, so it names the product and never one device.
// JetKVM's spoofing presets are not: its UI draws their serial at random
// (ui/src/components/UsbInfoSetting.tsx, generatedSerialNumber), so each
// device's differs and links the hosts it was plugged into.
func defaultUSBSerial(serial string) bool {
	_, ok := kvmSerials[serial]
	return ok && serial != ""
}

// storageEvidence describes a KVM's emulated virtual-media drive.
func storageEvidence(st *Storage, traits []string) map[string]any {
	ev := map[string]any{"traits": traits, report.EvPath: inventory.Clean(st.Path), "vendor": inventory.Clean(st.Vendor), "model": inventory.Clean(st.Model), report.EvSerial: inventory.Clean(st.Serial)}
	if defaultUSBSerial(st.Serial) {
		ev[report.EvSerialDefault] = true
	}
	return ev
}

func usbEvidence(u *USBDevice, traits []string, vm bool) map[string]any {
	ev := map[string]any{
		"traits":        traits,
		"path":          inventory.Clean(u.Path),
		report.EvVIDPID: u.VIDPID(),
		"manufacturer":  inventory.Clean(u.Manufacturer),
		"product":       inventory.Clean(u.Product),
		report.EvSerial: inventory.Clean(u.Serial),
		"vm":            vm,
	}
	if defaultUSBSerial(u.Serial) {
		ev[report.EvSerialDefault] = true
	}
	if u.BCDDevice != 0 {
		ev["bcd_device"] = fmt.Sprintf("%04x", u.BCDDevice)
	}
	if u.SpeedMbps != 0 {
		ev["speed_mbps"] = u.SpeedMbps
	}
	if u.MaxPacket0 != 0 {
		ev["max_packet_size0"] = u.MaxPacket0
	}
	if u.Configuration != "" {
		ev["configuration"] = inventory.Clean(u.Configuration)
	}
	var ifs []string
	for _, in := range u.Interfaces {
		s := fmt.Sprintf("%d:%02x/%02x/%02x", in.Number, in.Class, in.SubClass, in.Protocol)
		if in.Name != "" {
			s += " " + inventory.Clean(in.Name)
		}
		if k := hidKinds(in.HID); len(k) > 0 {
			s += " hid=" + strings.Join(k, "+")
		} else if len(in.HIDKinds) > 0 {
			s += " hid=" + strings.Join(in.HIDKinds, "+")
		}
		if in.SCSIVendor != "" || in.SCSIModel != "" {
			s += " scsi=" + inventory.Clean(in.SCSIVendor) + "/" + inventory.Clean(in.SCSIModel)
		}
		ifs = append(ifs, s)
	}
	if len(ifs) > 0 {
		ev["interfaces"] = ifs
	}
	return ev
}

func describe(u *USBDevice) string {
	p := inventory.Clean(u.Product)
	if p == "" {
		p = "(no product string)"
	}
	return fmt.Sprintf("%s %q", u.VIDPID(), p)
}

func decideUSB(inv *Inventory, u *USBDevice, s *Settings, hostID string) (report.Finding, bool) {
	subject := u.Path + "|" + u.VIDPID() + "|" + u.Serial
	mk := func(rule, tool string, sev report.Severity, conf float64, summary string, traits []string) report.Finding {
		return report.Finding{
			ID: report.StableID(hostID, rule, tool, subject), Rule: rule,
			Category: report.CategoryRemoteAccessHardware, Tool: tool,
			Severity: sev, Confidence: conf, Summary: summary,
			Evidence: usbEvidence(u, traits, inv.VM),
		}
	}
	if name, ok := inventory.VMDevice(u); ok {
		if !s.ReportVM {
			return report.Finding{}, false
		}
		f := mk(RuleUSBVM, ToolVM, report.SeverityInfo, 0.9,
			fmt.Sprintf("Virtual machine USB device %s (%s); the host is a VM, not driven by an IP-KVM", describe(u), name), []string{TraitVM})
		f.Evidence["vm"] = true
		f.Evidence["vm_device"] = name
		return f, true
	}
	st := structure(u)
	for i := range usbIdentities {
		id := &usbIdentities[i]
		if !id.match(u) {
			continue
		}
		traits := append([]string{TraitIdentity}, st.names...)
		sev := id.sev
		if st.score >= 3 && sev < report.SeverityCritical && id.tool != ToolKVMSwitch {
			sev++
		}
		f := mk(RuleUSBIdentity, id.tool, sev, 0.95,
			fmt.Sprintf("USB device %s matches the %s identity", describe(u), id.device), traits)
		f.Evidence["identity"] = id.device
		return f, true
	}
	if !u.StringsKnown {
		if tool, device, ok := identityWithoutStrings(u, st); ok {
			sev := report.SeverityHigh
			if st.score >= 3 {
				sev = report.SeverityCritical
			}
			f := mk(RuleUSBIdentity, tool, sev, 0.85,
				fmt.Sprintf("USB device %s matches the %s identity (VID:PID, serial and functions; the OS did not report its strings)", describe(u), device),
				append([]string{TraitIdentity}, st.names...))
			f.Evidence["identity"] = device
			return f, true
		}
	}
	if fam, ok := famousDevices[[2]uint16{u.VID, u.PID}]; ok {
		if f, ok := decideSpoof(u, fam, st, mk); ok {
			return f, true
		}
	}
	if st.score < 2 {
		return report.Finding{}, false
	}
	tool := ToolIPKVM
	if st.tool != "" {
		tool = st.tool
	}
	sev := scoreSeverity(st.score)
	conf := 0.5 + 0.08*float64(st.score)
	if conf > 0.95 {
		conf = 0.95
	}
	return mk(RuleUSBStructure, tool, sev, conf,
		fmt.Sprintf("USB device %s has the structure of an IP-KVM's emulated keyboard/mouse (%s)", describe(u), strings.Join(st.names, ", ")), st.names), true
}

// serialTools maps KVM default serials to the tool they point at first.
var serialTools = map[string]string{
	"CAFEBABE": ToolPiKVM, "6b65796d696d6570690": ToolTinyPilot, "0123456789ABCDEF": ToolNanoKVM, "fedcba9876543210": ToolIPKVM,
}

// identityWithoutStrings resolves an identity when the OS does not report
// USB strings (Windows): VID:PID must match a string-qualified identity, and
// a KVM virtual-media vendor, the default serial or an unambiguous VID:PID
// picks the tool.
func identityWithoutStrings(u *USBDevice, st usbTraits) (tool, device string, ok bool) {
	var cands []*usbIdentity
	tools := map[string]bool{}
	for i := range usbIdentities {
		id := &usbIdentities[i]
		if (id.vid == 0 && id.pid == 0 && !id.anyPID) || id.vid != u.VID || (!id.anyPID && id.pid != u.PID) {
			continue
		}
		cands = append(cands, id)
		tools[id.tool] = true
	}
	if len(cands) == 0 {
		return "", "", false
	}
	if u.Product != "" { // Windows' bus-reported description is the iProduct string
		var byProduct []*usbIdentity
		for _, c := range cands {
			if strings.EqualFold(c.product, u.Product) {
				byProduct = append(byProduct, c)
			}
		}
		if len(byProduct) > 0 {
			cands = byProduct
			tools = map[string]bool{}
			for _, c := range cands {
				tools[c.tool] = true
			}
		}
	}
	pick := func(t string) (string, string, bool) {
		for _, c := range cands {
			if c.tool == t {
				return t, c.device, true
			}
		}
		return "", "", false
	}
	if st.tool != "" {
		if t, d, ok := pick(st.tool); ok {
			return t, d, true
		}
	}
	if t, ok := serialTools[u.Serial]; ok {
		if t, d, ok := pick(t); ok {
			return t, d, true
		}
	}
	if len(tools) == 1 {
		return cands[0].tool, cands[0].device, true
	}
	return "", "", false
}

type mkFunc func(rule, tool string, sev report.Severity, conf float64, summary string, traits []string) report.Finding

func decideSpoof(u *USBDevice, fam famousDevice, st usbTraits, mk mkFunc) (report.Finding, bool) {
	var traits []string
	score := 0
	if !u.StringsKnown && u.Product != "" && !oneOf(u.Product, fam.products) {
		// Windows: only the bus-reported iProduct string is known.
		traits = append(traits, TraitSpoofStrings)
		score++
	}
	if u.StringsKnown { // Windows PnP data carries no USB string descriptors
		if u.Manufacturer == "" && u.Product == "" {
			traits = append(traits, TraitSpoofNoStrings)
			score++
		} else if !oneOf(u.Manufacturer, fam.manufacturers) || !oneOf(u.Product, fam.products) {
			traits = append(traits, TraitSpoofStrings)
			score++
		}
	}
	if u.SpeedMbps > fam.maxSpeedMbps {
		traits = append(traits, TraitSpoofSpeed)
		score++
	}
	if u.MaxPacket0 > fam.maxPacket0 {
		traits = append(traits, TraitSpoofPacket)
		score++
	}
	extra := false
	for _, in := range u.Interfaces {
		if in.Class != 0x03 || in.Number >= fam.maxInterfaces {
			extra = true
		}
	}
	if extra {
		traits = append(traits, TraitSpoofInterfaces)
		score += 2
	}
	// One differing attribute alone can be a firmware revision of the real
	// product; report only with a second one or with structural traits.
	if score == 0 || score < 2 && st.score == 0 {
		return report.Finding{}, false
	}
	traits = append(traits, st.names...)
	score += st.score
	tool := ToolIPKVM
	switch {
	case jetkvmPresetSerial.MatchString(u.Serial) || strings.EqualFold(u.Manufacturer, "Logitech (x64)") || strings.EqualFold(u.Product, "Logitech USB Input Device"):
		tool = ToolJetKVM
	case st.tool != "":
		tool = st.tool
	}
	sev := scoreSeverity(score)
	if sev < report.SeverityMedium {
		sev = report.SeverityMedium
	}
	f := mk(RuleUSBSpoofed, tool, sev, 0.9,
		fmt.Sprintf("USB device claims to be a %s (%s) but does not look like one (%s)", fam.name, u.VIDPID(), strings.Join(traits, ", ")), traits)
	f.Evidence["claimed_product"] = fam.name
	return f, true
}

func oneOf(s string, set []string) bool {
	if set == nil {
		return true
	}
	for _, v := range set {
		if strings.EqualFold(strings.TrimSpace(s), v) {
			return true
		}
	}
	return false
}

func decideHID(inv *Inventory, h *HIDDevice, hostID string) (report.Finding, bool) {
	if h.Descriptor == nil || h.Bus == 0x0003 {
		return report.Finding{}, false
	}
	d := h.Descriptor
	if !(d.BootKeyboardLayout() && d.KVMAbsoluteRange()) {
		return report.Finding{}, false
	}
	traits := []string{TraitBootKbAbs}
	if d.RelativePointer() {
		traits = append(traits, TraitRelMouse)
	}
	sev := report.SeverityMedium
	if len(traits) > 1 {
		sev = report.SeverityHigh
	}
	return report.Finding{
		ID: report.StableID(hostID, RuleHIDStructure, ToolIPKVM, h.Path), Rule: RuleHIDStructure,
		Category: report.CategoryRemoteAccessHardware, Tool: ToolIPKVM, Severity: sev, Confidence: 0.7,
		Summary: fmt.Sprintf("HID device %q combines a boot keyboard with an absolute 0..32767 pointer, as IP-KVMs do", inventory.Clean(h.Name)),
		Evidence: map[string]any{"traits": traits, "path": inventory.Clean(h.Path), "bus": fmt.Sprintf("%04x", h.Bus),
			"vid_pid": fmt.Sprintf("%04x:%04x", h.VID, h.PID), "name": inventory.Clean(h.Name), "vm": inv.VM},
	}, true
}

func decideStorage(st Storage, hostID string) (report.Finding, bool) {
	v, m := strings.ToLower(st.Vendor), strings.ToLower(st.Model)
	tool, ok := scsiVendors[v]
	traits := []string{TraitKVMSCSIVendor}
	if !ok {
		if v == "linux" && (strings.Contains(m, "file-stor_gadget") || strings.Contains(m, "file-cd_gadget") || strings.Contains(m, "file-stor gadget") || strings.Contains(m, "file-cd gadget")) {
			tool, traits = ToolIPKVM, []string{TraitGadgetSCSI}
		} else {
			return report.Finding{}, false
		}
	}
	return report.Finding{
		ID: report.StableID(hostID, RuleStorage, tool, st.Path), Rule: RuleStorage,
		Category: report.CategoryRemoteAccessHardware, Tool: tool, Severity: report.SeverityHigh, Confidence: 0.9,
		Summary:  fmt.Sprintf("Virtual media drive %q %q is an IP-KVM's emulated disk", inventory.Clean(st.Vendor), inventory.Clean(st.Model)),
		Evidence: storageEvidence(&st, traits),
	}, true
}

func decideDisplay(inv *Inventory, d *Display, expected map[string]bool, hostID string) (report.Finding, bool) {
	if d.Internal {
		return report.Finding{}, false
	}
	mfg, product, hasProduct, serial, hasSerial, name, serialText := d.Identity()
	if mfg == "" && name == "" {
		return report.Finding{}, false
	}
	key := strings.ToLower(fmt.Sprintf("%s:%04x", mfg, product))
	if expected[key] || (name != "" && expected[strings.ToLower(name)]) {
		return report.Finding{}, false
	}
	var traits []string
	tool, device := "", ""
	sev := report.SeverityInfo
	identified := false
	for i := range edidIdentities {
		id := &edidIdentities[i]
		if mfg != id.mfg || !hasProduct || product < id.productLo || product > id.productHi {
			continue
		}
		if id.checkSerial && hasSerial && serial != id.serial32 {
			continue
		}
		if id.serialText != "" {
			switch {
			case serialText != "":
				if !strings.EqualFold(serialText, id.serialText) {
					continue
				}
			case !(id.checkSerial && hasSerial): // neither serial is known: a real monitor of that model
				continue
			}
		}
		tool, device, sev = id.tool, id.device, id.sev
		identified = true
		if id.capture {
			traits = append(traits, TraitCaptureEDID)
		} else {
			traits = append(traits, TraitKVMEDID)
		}
		break
	}
	if t, ok := kvmMonitorNames[strings.ToLower(name)]; ok {
		traits = append(traits, TraitKVMMonitorName)
		if tool == "" {
			tool, device, sev = t, "monitor name "+inventory.Clean(name), report.SeverityHigh
		}
	}
	if tool == "" && d.EDID != nil && d.EDID.WidthCM == 0 && d.EDID.HeightCM == 0 && fakeSerials[serial] && serialText == "" {
		tool, device, sev = ToolIPKVM, "HDMI capture chip", report.SeverityMedium
		traits = append(traits, TraitCaptureEDID)
	}
	if tool == "" {
		return report.Finding{}, false
	}
	rule := RuleDisplayEDID
	if sev <= report.SeverityMedium {
		rule = RuleDisplayCapture
	}
	ev := map[string]any{
		"traits": traits, "connector": inventory.Clean(d.Connector), "manufacturer": inventory.Clean(mfg),
		"product_code": fmt.Sprintf("%04x", product), "monitor_name": inventory.Clean(name), report.EvEDIDSerialText: inventory.Clean(serialText),
		"connected": d.Connected, "enabled": d.Enabled, "vm": inv.VM, "identity": device,
	}
	if hasSerial {
		ev[report.EvEDIDSerial32] = fmt.Sprintf("%08x", serial)
	}
	// A known KVM/capture EDID carries its maker's preset serials, the same
	// on every unit; so does a capture chip's placeholder serial.
	if identified || (hasSerial && fakeSerials[serial] && serialText == "") {
		ev[report.EvSerialDefault] = true
	}
	if d.EDID != nil {
		ev["week"], ev["year"] = d.EDID.Week, d.EDID.Year
		ev["size_cm"] = fmt.Sprintf("%dx%d", d.EDID.WidthCM, d.EDID.HeightCM)
	}
	return report.Finding{
		ID: report.StableID(hostID, rule, tool, d.Connector+"|"+key+"|"+serialText), Rule: rule,
		Category: report.CategoryRemoteAccessHardware, Tool: tool, Severity: sev, Confidence: 0.85,
		Summary:  fmt.Sprintf("Display on %s presents the EDID of %s (%s %04x %q)", inventory.Clean(d.Connector), device, inventory.Clean(mfg), product, inventory.Clean(name)),
		Evidence: ev,
	}, true
}

// hidKinds summarises what a descriptor set provides (evidence, tests).
func hidKinds(ds []*hid.Descriptor) []string {
	set := map[string]bool{}
	for _, d := range ds {
		if d.BootKeyboardLayout() {
			set["boot_keyboard"] = true
		} else if d.Keyboard() {
			set["keyboard"] = true
		}
		if d.KVMAbsoluteRange() {
			set["absolute_pointer_0_32767"] = true
		} else if _, ok := d.AbsolutePointer(); ok {
			set["absolute_pointer"] = true
		}
		if d.RelativePointer() {
			set["relative_pointer"] = true
		}
		if d.Digitizer() {
			set["digitizer"] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
