package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"howett.net/plist"
)

// The machine serial number, which MDM inventories key devices by. Read
// per OS (serial_<os>.go): Linux sysfs DMI (product_serial, or the device
// tree's serial-number on boards without DMI), macOS the
// IOPlatformSerialNumber of `ioreg -c IOPlatformExpertDevice -a`, Windows
// the SMBIOS System Information structure from GetSystemFirmwareTable.

// Linux paths under the root.
const (
	linuxDMISerial = "sys/class/dmi/id/product_serial"
	linuxDTSerial  = "sys/firmware/devicetree/base/serial-number"
)

// cleanSerial trims a serial and drops NULs and non-printable bytes; "" when
// nothing printable is left.
func cleanSerial(b []byte) string {
	b = bytes.TrimRight(b, "\x00")
	s := strings.TrimSpace(string(b))
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return ""
		}
	}
	if len(s) > 128 {
		return ""
	}
	return s
}

// ParseIoregSerial reads IOPlatformSerialNumber from the plist `ioreg -r -d1
// -c IOPlatformExpertDevice -a` prints (an array of one dictionary).
func ParseIoregSerial(b []byte) (string, error) {
	var arr []map[string]any
	if _, err := plist.Unmarshal(b, &arr); err != nil {
		var one map[string]any
		if _, err2 := plist.Unmarshal(b, &one); err2 != nil {
			return "", fmt.Errorf("ioreg IOPlatformExpertDevice: %w", err)
		}
		arr = []map[string]any{one}
	}
	for _, d := range arr {
		if s, ok := d["IOPlatformSerialNumber"].(string); ok {
			return cleanSerial([]byte(s)), nil
		}
	}
	return "", errors.New("ioreg IOPlatformExpertDevice: no IOPlatformSerialNumber")
}

// ParseSMBIOSSerial reads the serial number of the System Information
// structure (type 1) from raw SMBIOS data: either the structure table
// itself (Linux /sys/firmware/dmi/tables/DMI) or Windows'
// GetSystemFirmwareTable('RSMB') buffer, which prefixes it with an 8-byte
// RawSMBIOSData header (set rsmb). Layout per DMTF DSP0134: each structure
// is type, length, handle, formatted area, then NUL-terminated strings
// ending with an extra NUL; in type 1, the byte at offset 7 is the serial
// number's string index (1-based, 0 = none).
func ParseSMBIOSSerial(b []byte, rsmb bool) (string, error) {
	if rsmb {
		if len(b) < 8 {
			return "", errors.New("smbios: RawSMBIOSData shorter than its header")
		}
		n := binary.LittleEndian.Uint32(b[4:8])
		b = b[8:]
		if uint64(n) < uint64(len(b)) {
			b = b[:n]
		}
	}
	for off := 0; off+4 <= len(b); {
		typ, length := b[off], int(b[off+1])
		if length < 4 || off+length > len(b) {
			return "", fmt.Errorf("smbios: structure at %d: bad length %d", off, length)
		}
		strs := off + length
		// The string set ends with two NULs.
		end := bytes.Index(b[strs:], []byte{0, 0})
		if end < 0 {
			return "", fmt.Errorf("smbios: structure at %d: unterminated strings", off)
		}
		if typ == 1 {
			if length < 8 {
				return "", errors.New("smbios: system information structure too short for a serial")
			}
			idx := int(b[off+7])
			if idx == 0 {
				return "", nil
			}
			set := bytes.Split(b[strs:strs+end], []byte{0})
			if idx > len(set) {
				return "", fmt.Errorf("smbios: serial string %d of %d", idx, len(set))
			}
			return cleanSerial(set[idx-1]), nil
		}
		if typ == 127 {
			break
		}
		off = strs + end + 2
	}
	return "", errors.New("smbios: no system information structure")
}
