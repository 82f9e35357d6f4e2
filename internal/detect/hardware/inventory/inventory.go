// Package inventory reads the hardware a host shows into one model shared
// by all OSes: USB devices and their interfaces (with HID report
// descriptors and SCSI inquiry), non-USB HID devices, input devices,
// displays with parsed EDIDs, lid state and whether the host is a virtual
// machine. Linux is read from sysfs/procfs under a root directory; macOS
// from ioreg and system_profiler output; Windows from SetupAPI and the
// registry (live) or Get-PnpDevice / WmiMonitorID JSON (snapshots). The
// parsers are pure functions over bytes or a directory, bounded, and never
// panic on hostile input; live acquisition is in build-tagged files.
package inventory

// Snapshot file names for macOS and Windows hosts (Linux snapshots hold
// sys/ and proc/ trees).
const (
	FileIoregUSB   = "ioreg-usb.plist"
	FileIoregHID   = "ioreg-hid.plist"
	FileClamshell  = "ioreg-clamshell.plist"
	FileDisplays   = "displays.json"
	FilePnPDevices = "pnp-devices.json"
	FileMonitors   = "monitors.json"
)
