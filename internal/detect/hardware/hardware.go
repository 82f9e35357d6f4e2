// Package hardware is farmwatch's hardware detector: it finds IP-KVMs
// (PiKVM, TinyPilot, JetKVM, NanoKVM, GL.iNet Comet, BliKVM, commercial KVM
// and BMC dongles), HID injectors and mouse jigglers attached to the host.
// Such devices run no software on the laptop; they appear only as USB
// keyboards/mice/disks and as an HDMI "monitor".
//
// It reads one OS-independent Inventory (USB devices and interfaces, HID
// report descriptors, input devices, displays with EDIDs, lid state,
// whether the host is a VM): on Linux from sysfs/procfs under the source
// root, on macOS from ioreg and system_profiler output, on Windows from
// SetupAPI/configuration manager and the registry (live) or from
// Get-PnpDevice / WmiMonitorID JSON (snapshots). Rules then match known
// identities and structural traits that survive spoofed ids; see
// docs/hardware.md.
package hardware

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/detect/hardware/hotplug"
	"github.com/farmwatch/farmwatch/internal/detect/hardware/inventory"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// Name is the detector's registry name.
const Name = "hardware"

// Snapshot file names for macOS and Windows hosts (Linux snapshots hold
// sys/ and proc/ trees).
const (
	FileIoregUSB    = inventory.FileIoregUSB
	FileIoregHID    = inventory.FileIoregHID
	FileClamshell   = inventory.FileClamshell
	FileDisplays    = inventory.FileDisplays
	FilePnPDevices  = inventory.FilePnPDevices
	FileMonitors    = inventory.FileMonitors
	maxSnapshotFile = 64 << 20
)

// The inventory model, shared by all OSes.
type (
	Inventory    = inventory.Inventory
	USBDevice    = inventory.USBDevice
	USBInterface = inventory.USBInterface
	HIDDevice    = inventory.HIDDevice
	Display      = inventory.Display
	Storage      = inventory.Storage
)

// Settings configure the detector (config key "hardware").
type Settings struct {
	// IgnoreDevices are USB "vid:pid" pairs never reported (a sanctioned
	// KVM in a server room, for example).
	IgnoreDevices []string `yaml:"ignore_devices"`
	// ExpectedDisplays are displays never reported, as "MFG:product"
	// ("DEL:a0c3") or a monitor name.
	ExpectedDisplays []string `yaml:"expected_displays"`
	// ReportVM reports hypervisors' virtual USB devices at info. Default true.
	ReportVM bool `yaml:"report_vm"`
}

func init() {
	detect.Register(detect.Registration{
		Name:            Name,
		Description:     "IP-KVMs, HID injectors and mouse jigglers: USB identities and structure, HID descriptors, display EDIDs, lid state",
		DefaultTimeout:  20 * time.Second,
		DefaultInterval: 5 * time.Minute,
		NewSettings:     func() any { return &Settings{ReportVM: true} },
		New:             func(s any) (detect.Detector, error) { return New(*s.(*Settings)) },
		Collect:         Collect,
		Trigger:         hotplugTrigger,
	})
}

// Detector is the hardware detector.
type Detector struct{ settings Settings }

// New builds a detector.
func New(s Settings) (*Detector, error) {
	for _, v := range s.IgnoreDevices {
		var a, b uint16
		if _, err := fmt.Sscanf(v, "%04x:%04x", &a, &b); err != nil {
			return nil, fmt.Errorf("hardware: ignore_devices entry %q is not vid:pid in hex", v)
		}
	}
	return &Detector{settings: s}, nil
}

// Detect implements detect.Detector.
func (d *Detector) Detect(ctx context.Context, env detect.Env) ([]report.Finding, error) {
	inv, err := readInventory(ctx, env.Source)
	if inv == nil {
		return nil, err
	}
	return decide(inv, &d.settings, env.Host.ID), err
}

// readInventory is the one per-OS seam: it dispatches on the (recorded)
// host's OS to the pure readers.
func readInventory(ctx context.Context, src source.Source) (*Inventory, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root := src.Root()
	switch os := src.Host().OS; {
	case os == "linux":
		return inventory.ReadLinux(root)
	case os == "darwin" && src.Snapshot():
		return readDarwinSnapshot(root)
	case os == "darwin":
		return inventory.LiveDarwin(ctx)
	case os == "windows" && src.Snapshot():
		return readWindowsSnapshot(root)
	case os == "windows":
		return inventory.LiveWindows(ctx)
	default:
		return nil, fmt.Errorf("hardware: unsupported OS %q", os)
	}
}

// readSnapshotFile reads a snapshot file; a missing one is (nil, nil).
func readSnapshotFile(root, name string) ([]byte, error) {
	p := filepath.Join(root, name)
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hardware snapshot: %w", err)
	}
	if st.Size() > maxSnapshotFile {
		return nil, fmt.Errorf("hardware snapshot: %s is %d bytes, more than %d", p, st.Size(), maxSnapshotFile)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("hardware snapshot: %w", err)
	}
	return b, nil
}

func readDarwinSnapshot(root string) (*Inventory, error) {
	var bs [4][]byte
	for i, n := range []string{FileIoregUSB, FileIoregHID, FileDisplays, FileClamshell} {
		b, err := readSnapshotFile(root, n)
		if err != nil {
			return nil, err
		}
		bs[i] = b
	}
	return inventory.ParseDarwin(bs[0], bs[1], bs[2], bs[3])
}

func readWindowsSnapshot(root string) (*Inventory, error) {
	pnp, err := readSnapshotFile(root, FilePnPDevices)
	if err != nil {
		return nil, err
	}
	mon, err := readSnapshotFile(root, FileMonitors)
	if err != nil {
		return nil, err
	}
	return inventory.ParseWindows(pnp, mon)
}

// Collect records the raw sources the detector reads into a snapshot
// directory: sys/ and proc/ files on Linux, the ioreg/system_profiler
// outputs on macOS, the PnP device and monitor JSON on Windows.
func Collect(ctx context.Context, src source.Source, dir string) error {
	switch os := src.Host().OS; os {
	case "linux":
		return inventory.CollectLinux(src.Root(), dir)
	case "darwin":
		return inventory.CollectDarwin(ctx, dir)
	case "windows":
		return inventory.CollectWindows(ctx, dir)
	default:
		return fmt.Errorf("hardware: collect: unsupported OS %q", os)
	}
}

// hotplugTrigger fires once per burst of kernel uevents a plugged or
// removed device causes (Linux netlink; within about 1.3 s of the plug).
func hotplugTrigger(ctx context.Context, fire func()) error {
	w := hotplug.NewBatching(func([]hotplug.Event) { fire() }, 300*time.Millisecond, time.Second)
	return w.Run(ctx)
}
