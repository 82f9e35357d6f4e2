//go:build windows

package winnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/farmwatch/farmwatch/internal/source/command"
)

// The IP Helper and Native Wi-Fi calls, without cgo. GetIpForwardTable2,
// GetIpInterfaceTable and FreeMibTable come from x/sys/windows;
// GetIpNetTable2 and the wlanapi.dll functions are loaded here. The tables
// Windows returns are handed, as bytes, to the decoders of winnet.go.
var (
	modIPHlpAPI         = windows.NewLazySystemDLL("iphlpapi.dll")
	procGetIpNetTable2  = modIPHlpAPI.NewProc("GetIpNetTable2")
	modWlanAPI          = windows.NewLazySystemDLL("wlanapi.dll")
	procWlanOpenHandle  = modWlanAPI.NewProc("WlanOpenHandle")
	procWlanCloseHandle = modWlanAPI.NewProc("WlanCloseHandle")
	procWlanEnum        = modWlanAPI.NewProc("WlanEnumInterfaces")
	procWlanQuery       = modWlanAPI.NewProc("WlanQueryInterface")
	procWlanFreeMemory  = modWlanAPI.NewProc("WlanFreeMemory")
)

// netshTimeout bounds the netsh fallback.
const netshTimeout = 10 * time.Second

// Live returns the readers of this host.
func Live() Sources {
	return Sources{
		ForwardTable:     forwardTable,
		InterfaceMetrics: interfaceMetrics,
		NetTable:         netTable,
		Interface:        iface,
		Wlan:             wlan,
		Netsh:            netsh,
	}
}

func forwardTable() ([]byte, error) {
	var t *windows.MibIpForwardTable2
	if err := windows.GetIpForwardTable2(windows.AF_INET, &t); err != nil {
		if errors.Is(err, windows.ERROR_NOT_FOUND) {
			return make([]byte, 4), nil // no IPv4 routes
		}
		return nil, fmt.Errorf("GetIpForwardTable2: %w", err)
	}
	defer windows.FreeMibTable(unsafe.Pointer(t))
	return tableBytes(unsafe.Pointer(t), ForwardRow2Size)
}

// tableBytes copies a MIB_*_TABLE2 of rows of size bytes.
func tableBytes(p unsafe.Pointer, size int) ([]byte, error) {
	n := int(*(*uint32)(p))
	if n > MaxRows {
		return nil, fmt.Errorf("%d rows (more than %d)", n, MaxRows)
	}
	l := tableRows + n*size
	if n == 0 {
		l = 4
	}
	return append([]byte(nil), unsafe.Slice((*byte)(p), l)...), nil
}

func interfaceMetrics() (map[uint32]uint32, error) {
	var t *windows.MibIpInterfaceTable
	if err := windows.GetIpInterfaceTable(windows.AF_INET, &t); err != nil {
		if errors.Is(err, windows.ERROR_NOT_SUPPORTED) {
			return nil, nil // Wine: the route metric alone decides
		}
		return nil, fmt.Errorf("GetIpInterfaceTable: %w", err)
	}
	defer windows.FreeMibTable(unsafe.Pointer(t))
	m := map[uint32]uint32{}
	for _, r := range unsafe.Slice(&t.Table[0], t.NumEntries) {
		m[r.InterfaceIndex] = r.Metric
	}
	return m, nil
}

func netTable() ([]byte, error) {
	if err := procGetIpNetTable2.Find(); err != nil {
		return nil, fmt.Errorf("GetIpNetTable2: %w", err)
	}
	var p unsafe.Pointer
	r, _, _ := procGetIpNetTable2.Call(uintptr(windows.AF_INET), uintptr(unsafe.Pointer(&p)))
	if windows.Errno(r) == windows.ERROR_NOT_FOUND {
		return make([]byte, 4), nil // no neighbours
	}
	if r != 0 {
		return nil, fmt.Errorf("GetIpNetTable2: %w", windows.Errno(r))
	}
	defer windows.FreeMibTable(p)
	return tableBytes(p, IPNetRow2Size)
}

func iface(index uint32) (string, string, error) {
	ifi, err := net.InterfaceByIndex(int(index))
	if err != nil {
		return "", "", err
	}
	return ifi.Name, ifi.HardwareAddr.String(), nil
}

// wlan returns the current connection of every connected Wi-Fi interface.
func wlan(ctx context.Context) ([]Connection, error) {
	if err := procWlanOpenHandle.Find(); err != nil {
		return nil, fmt.Errorf("wlanapi.dll: %w", err)
	}
	var negotiated uint32
	var h windows.Handle
	// dwClientVersion 2: Windows Vista and later.
	if r, _, _ := procWlanOpenHandle.Call(2, 0, uintptr(unsafe.Pointer(&negotiated)), uintptr(unsafe.Pointer(&h))); r != 0 {
		return nil, fmt.Errorf("WlanOpenHandle: %w", windows.Errno(r))
	}
	defer procWlanCloseHandle.Call(uintptr(h), 0) //nolint:errcheck // nothing to do on failure
	var list unsafe.Pointer
	if r, _, _ := procWlanEnum.Call(uintptr(h), 0, uintptr(unsafe.Pointer(&list))); r != 0 {
		return nil, fmt.Errorf("WlanEnumInterfaces: %w", windows.Errno(r))
	}
	defer procWlanFreeMemory.Call(uintptr(list)) //nolint:errcheck
	n := int(*(*uint32)(list))
	if n > 256 {
		return nil, fmt.Errorf("WlanEnumInterfaces: %d interfaces", n)
	}
	ifs, err := DecodeWlanInterfaceList(unsafe.Slice((*byte)(list), wlanListItems+n*WlanInfoSize))
	if err != nil {
		return nil, err
	}
	var out []Connection
	denied := false
	for i, ifi := range ifs {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if ifi.State != WlanStateConnected {
			continue
		}
		guid := unsafe.Pointer(uintptr(list) + wlanListItems + uintptr(i*WlanInfoSize))
		var size uint32
		var data unsafe.Pointer
		var typ uint32
		r, _, _ := procWlanQuery.Call(uintptr(h), uintptr(guid), OpcodeCurrentConnection, 0,
			uintptr(unsafe.Pointer(&size)), uintptr(unsafe.Pointer(&data)), uintptr(unsafe.Pointer(&typ)))
		if windows.Errno(r) == windows.ERROR_ACCESS_DENIED {
			denied = true
			continue
		}
		if r != 0 {
			continue // disconnected meanwhile
		}
		if size > WlanConnSize*2 {
			size = WlanConnSize * 2
		}
		c, ok, err := DecodeWlanConnection(unsafe.Slice((*byte)(data), size))
		procWlanFreeMemory.Call(uintptr(data)) //nolint:errcheck
		if err == nil && ok {
			out = append(out, c)
		}
	}
	if len(out) == 0 && denied {
		return nil, ErrWlanAccessDenied
	}
	return out, nil
}

// netsh runs %SystemRoot%\System32\netsh.exe wlan show interfaces. Its
// output is kept even when it exits non-zero (the location-permission text
// comes with exit status 1 on some builds).
func netsh(ctx context.Context) ([]byte, error) {
	sys, err := windows.GetSystemDirectory()
	if err != nil {
		return nil, fmt.Errorf("netsh: %w", err)
	}
	out, err := command.RunWith(ctx, command.Options{Timeout: netshTimeout, MaxOutput: 1 << 20, Combined: true},
		filepath.Join(sys, "netsh.exe"), "wlan", "show", "interfaces")
	if err != nil && len(out) == 0 {
		return nil, err
	}
	return out, nil
}
