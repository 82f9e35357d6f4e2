package inventory

import "strings"

// vmUSB are the virtual USB devices of hypervisors.
var vmUSB = []struct {
	vid, pid uint16
	anyPID   bool
	name     string
}{
	{0x0627, 0x0001, false, "QEMU USB HID device (tablet, mouse or keyboard)"},
	{0x0627, 0, true, "QEMU virtual USB device"},
	{0x0e0f, 0, true, "VMware virtual USB device"},
	{0x80ee, 0x0021, false, "VirtualBox USB tablet"},
	{0x80ee, 0, true, "VirtualBox virtual USB device"},
	{0x1414, 0, true, "Microsoft Hyper-V virtual device"},
}

// VMDevice reports whether u is a hypervisor's virtual USB device, and which.
func VMDevice(u *USBDevice) (string, bool) {
	for _, v := range vmUSB {
		if u.VID == v.vid && (v.anyPID || u.PID == v.pid) {
			return v.name, true
		}
	}
	return "", false
}

// vmVendors are DMI sys_vendor/product_name substrings of hypervisors.
var vmVendors = []string{"qemu", "vmware", "innotek", "virtualbox", "xen", "parallels", "bochs", "kvm", "virtual machine", "hvm domu", "amazon ec2", "google compute engine"}

// IsVMString reports whether a DMI vendor or product string names a hypervisor.
func IsVMString(s string) bool {
	s = strings.ToLower(s)
	for _, v := range vmVendors {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}
