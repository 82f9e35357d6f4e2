//go:build windows

package inventory

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/farmwatch/farmwatch/internal/source"
)

// devpkeyBusReportedDeviceDesc is DEVPKEY_Device_BusReportedDeviceDesc:
// the description the bus driver read from the device (the USB iProduct or
// iInterface string).
var devpkeyBusReportedDeviceDesc = windows.DEVPROPKEY{
	FmtID: windows.DEVPROPGUID{Data1: 0x540b947e, Data2: 0x8b40, Data3: 0x45bc, Data4: [8]byte{0xa8, 0xa2, 0x6a, 0x0b, 0x89, 0x4c, 0xbd, 0xa2}},
	PID:   4,
}

// maxLiveDevices bounds SetupAPI enumeration.
const maxLiveDevices = 20000

// enumPnP lists present devices of every class through SetupAPI, with the
// same fields Get-PnpDevice reports.
func enumPnP(ctx context.Context) ([]PnPDevice, error) {
	set, err := windows.SetupDiGetClassDevsEx(nil, "", 0, windows.DIGCF_PRESENT|windows.DIGCF_ALLCLASSES, 0, "")
	if err != nil {
		return nil, fmt.Errorf("SetupDiGetClassDevsEx: %w", err)
	}
	defer set.Close()
	var out []PnPDevice
	for i := 0; i < maxLiveDevices; i++ {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		data, err := set.EnumDeviceInfo(i)
		if errors.Is(err, windows.ERROR_NO_MORE_ITEMS) {
			break
		}
		if err != nil {
			continue
		}
		id, err := set.DeviceInstanceID(data)
		if err != nil {
			continue
		}
		d := PnPDevice{InstanceID: id}
		prop := func(p windows.SPDRP) string {
			v, err := set.DeviceRegistryProperty(data, p)
			if err != nil {
				return ""
			}
			switch x := v.(type) {
			case string:
				return x
			case []string:
				return strings.Join(x, ";")
			}
			return ""
		}
		d.FriendlyName = prop(windows.SPDRP_FRIENDLYNAME)
		if d.FriendlyName == "" {
			d.FriendlyName = prop(windows.SPDRP_DEVICEDESC)
		}
		d.Manufacturer = prop(windows.SPDRP_MFG)
		if v, err := windows.SetupDiGetDeviceProperty(set, data, &devpkeyBusReportedDeviceDesc); err == nil {
			if s, ok := v.(string); ok {
				d.BusReportedDeviceDesc = s
			}
		}
		d.Class = prop(windows.SPDRP_CLASS)
		var status, problem uint32
		switch err := windows.CM_Get_DevNode_Status(&status, &problem, data.DevInst, 0); {
		case err != nil:
			d.Status = "Unknown"
		case problem != 0:
			d.Status = "Error"
		case status&windows.DN_STARTED != 0:
			d.Status = "OK"
		default:
			d.Status = "Unknown"
		}
		out = append(out, d)
	}
	caps := readHIDCaps()
	for i := range out {
		if c := caps[strings.ToUpper(out[i].InstanceID)]; c != nil {
			out[i].HidCaps = c
		}
	}
	return out, nil
}

// readMonitors reads every monitor EDID the registry holds under
// SYSTEM\CurrentControlSet\Enum\DISPLAY\<model>\<instance>\Device Parameters,
// marking as active those whose instance is present.
func readMonitors(present map[string]bool) ([]Monitor, error) {
	const base = `SYSTEM\CurrentControlSet\Enum\DISPLAY`
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, base, registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return nil, fmt.Errorf("open HKLM\\%s: %w", base, err)
	}
	defer k.Close()
	models, err := k.ReadSubKeyNames(-1)
	if err != nil {
		return nil, fmt.Errorf("list HKLM\\%s: %w", base, err)
	}
	var out []Monitor
	for _, model := range models {
		mk, err := registry.OpenKey(k, model, registry.ENUMERATE_SUB_KEYS)
		if err != nil {
			continue
		}
		insts, _ := mk.ReadSubKeyNames(-1)
		for _, inst := range insts {
			pk, err := registry.OpenKey(mk, inst+`\Device Parameters`, registry.QUERY_VALUE)
			if err != nil {
				continue
			}
			raw, _, err := pk.GetBinaryValue("EDID")
			pk.Close()
			if err != nil || len(raw) == 0 {
				continue
			}
			if len(raw) > maxEDIDBytes {
				raw = raw[:maxEDIDBytes]
			}
			id := `DISPLAY\` + model + `\` + inst
			if len(out) < maxDRMEntries {
				out = append(out, MonitorFromEDID(id, present[strings.ToUpper(id)], raw))
			}
		}
		mk.Close()
	}
	return out, nil
}

func liveWindowsSources(ctx context.Context) ([]PnPDevice, []Monitor, error) {
	devs, err := enumPnP(ctx)
	if err != nil {
		return nil, nil, err
	}
	present := map[string]bool{}
	for _, d := range devs {
		present[strings.ToUpper(d.InstanceID)] = true
	}
	mons, merr := readMonitors(present)
	// Only monitors that are present now matter for a scan; the registry
	// keeps every monitor ever attached.
	var active []Monitor
	for _, m := range mons {
		if m.Active {
			active = append(active, m)
		}
	}
	return devs, active, merr
}

func LiveWindows(ctx context.Context) (*Inventory, error) {
	devs, mons, err := liveWindowsSources(ctx)
	if devs == nil {
		return nil, err
	}
	inv := InventoryFromPnP(devs)
	if len(mons) > 0 {
		inv.Displays = DisplaysFromMonitors(mons)
	}
	return inv, err
}

func CollectWindows(ctx context.Context, dir string) error {
	devs, mons, err := liveWindowsSources(ctx)
	if devs == nil {
		return err
	}
	if mons == nil {
		mons = []Monitor{}
	}
	return errors.Join(err,
		source.WriteJSONFile(filepath.Join(dir, FilePnPDevices), devs),
		source.WriteJSONFile(filepath.Join(dir, FileMonitors), mons))
}

func LiveDarwin(context.Context) (*Inventory, error) {
	return nil, errors.New("hardware: a live macOS host can only be read on macOS; record a snapshot there")
}

func CollectDarwin(context.Context, string) error {
	return errors.New("hardware: macOS sources can only be collected on macOS")
}
