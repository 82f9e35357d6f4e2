package source

import (
	"context"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

var procGetSystemFirmwareTable = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetSystemFirmwareTable")

// rsmb is the 'RSMB' firmware table provider signature.
const rsmb = 'R'<<24 | 'S'<<16 | 'M'<<8 | 'B'

// machineSerial reads the SMBIOS System Information serial (what
// Win32_BIOS/Win32_ComputerSystemProduct report) without WMI.
func machineSerial(context.Context, string) (string, error) {
	if err := procGetSystemFirmwareTable.Find(); err != nil {
		return "", err
	}
	n, _, e := procGetSystemFirmwareTable.Call(rsmb, 0, 0, 0)
	if n == 0 {
		return "", fmt.Errorf("GetSystemFirmwareTable(RSMB): %w", e)
	}
	if n > 1<<20 {
		return "", fmt.Errorf("GetSystemFirmwareTable(RSMB): %d bytes", n)
	}
	buf := make([]byte, n)
	m, _, e := procGetSystemFirmwareTable.Call(rsmb, 0, uintptr(unsafe.Pointer(&buf[0])), n)
	if m == 0 || m > n {
		return "", fmt.Errorf("GetSystemFirmwareTable(RSMB): %w", e)
	}
	return ParseSMBIOSSerial(buf[:m], true)
}
