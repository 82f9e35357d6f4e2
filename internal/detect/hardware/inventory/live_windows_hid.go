//go:build windows

package inventory

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// Windows HID parser entry points (hid.dll).
var (
	modhid                    = windows.NewLazySystemDLL("hid.dll")
	procHidDGetPreparsedData  = modhid.NewProc("HidD_GetPreparsedData")
	procHidDFreePreparsedData = modhid.NewProc("HidD_FreePreparsedData")
	procHidPGetCaps           = modhid.NewProc("HidP_GetCaps")
	procHidPGetValueCaps      = modhid.NewProc("HidP_GetValueCaps")
)

// guidDevinterfaceHID is GUID_DEVINTERFACE_HID.
var guidDevinterfaceHID = windows.GUID{Data1: 0x4d1e55b2, Data2: 0xf16f, Data3: 0x11cf, Data4: [8]byte{0x88, 0xcb, 0x00, 0x11, 0x11, 0x00, 0x00, 0x30}}

const (
	hidpStatusSuccess = 0x00110000
	hidpInput         = 0
)

// hidpCaps is HIDP_CAPS.
type hidpCaps struct {
	Usage                     uint16
	UsagePage                 uint16
	InputReportByteLength     uint16
	OutputReportByteLength    uint16
	FeatureReportByteLength   uint16
	Reserved                  [17]uint16
	NumberLinkCollectionNodes uint16
	NumberInputButtonCaps     uint16
	NumberInputValueCaps      uint16
	NumberInputDataIndices    uint16
	NumberOutputButtonCaps    uint16
	NumberOutputValueCaps     uint16
	NumberOutputDataIndices   uint16
	NumberFeatureButtonCaps   uint16
	NumberFeatureValueCaps    uint16
	NumberFeatureDataIndices  uint16
}

// hidpValueCaps is HIDP_VALUE_CAPS (72 bytes); the trailing union is read
// as its Range form (UsageMin, UsageMax, ...), whose first field is also
// NotRange.Usage.
type hidpValueCaps struct {
	UsagePage         uint16
	ReportID          uint8
	IsAlias           uint8
	BitField          uint16
	LinkCollection    uint16
	LinkUsage         uint16
	LinkUsagePage     uint16
	IsRange           uint8
	IsStringRange     uint8
	IsDesignatorRange uint8
	IsAbsolute        uint8
	HasNull           uint8
	Reserved          uint8
	BitSize           uint16
	ReportCount       uint16
	Reserved2         [5]uint16
	UnitsExp          uint32
	Units             uint32
	LogicalMin        int32
	LogicalMax        int32
	PhysicalMin       int32
	PhysicalMax       int32
	UsageMin          uint16
	UsageMax          uint16
	StringMin         uint16
	StringMax         uint16
	DesignatorMin     uint16
	DesignatorMax     uint16
	DataIndexMin      uint16
	DataIndexMax      uint16
}

// Layout checks: both structs must have exactly the Windows sizes.
var (
	_ [72 - unsafe.Sizeof(hidpValueCaps{})]struct{}
	_ [unsafe.Sizeof(hidpValueCaps{}) - 72]struct{}
	_ [64 - unsafe.Sizeof(hidpCaps{})]struct{}
	_ [unsafe.Sizeof(hidpCaps{}) - 64]struct{}
)

// readHIDCaps reads the capabilities of every present HID collection,
// keyed by upper-case device instance id. Collections that cannot be
// opened are skipped.
func readHIDCaps() map[string]*HIDCaps {
	out := map[string]*HIDCaps{}
	if modhid.Load() != nil {
		return out
	}
	paths, err := windows.CM_Get_Device_Interface_List("", &guidDevinterfaceHID, windows.CM_GET_DEVICE_INTERFACE_LIST_PRESENT)
	if err != nil {
		return out
	}
	for i, p := range paths {
		if i >= maxLiveDevices || p == "" {
			break
		}
		if c := hidCapsOf(p); c != nil {
			out[hidInstanceID(p)] = c
		}
	}
	return out
}

func hidCapsOf(path string) *HIDCaps {
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil
	}
	// Zero access rights: enough for HidD_/HidP_ queries, and allowed on
	// keyboards and mice that the system opens exclusively.
	h, err := windows.CreateFile(name, 0, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return nil
	}
	defer windows.CloseHandle(h)
	var pp uintptr
	if r, _, _ := procHidDGetPreparsedData.Call(uintptr(h), uintptr(unsafe.Pointer(&pp))); byte(r) == 0 || pp == 0 { // BOOLEAN result
		return nil
	}
	defer procHidDFreePreparsedData.Call(pp)
	var caps hidpCaps
	if r, _, _ := procHidPGetCaps.Call(pp, uintptr(unsafe.Pointer(&caps))); uint32(r) != hidpStatusSuccess {
		return nil
	}
	out := &HIDCaps{UsagePage: caps.UsagePage, Usage: caps.Usage}
	n := caps.NumberInputValueCaps
	if n == 0 {
		return out
	}
	if n > maxValueCaps {
		n = maxValueCaps
	}
	vcs := make([]hidpValueCaps, n)
	length := n
	if r, _, _ := procHidPGetValueCaps.Call(hidpInput, uintptr(unsafe.Pointer(&vcs[0])), uintptr(unsafe.Pointer(&length)), pp); uint32(r) != hidpStatusSuccess {
		return out
	}
	for _, v := range vcs[:min(int(length), len(vcs))] {
		c := HIDValueCap{UsagePage: v.UsagePage, UsageMin: v.UsageMin, ReportID: v.ReportID, Absolute: v.IsAbsolute != 0,
			LogicalMin: v.LogicalMin, LogicalMax: v.LogicalMax}
		if v.IsRange != 0 {
			c.UsageMax = v.UsageMax
		}
		out.Values = append(out.Values, c)
	}
	return out
}
