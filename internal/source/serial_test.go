package source

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestLinuxSerial(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Linux reader is built on Linux only")
	}
	for dir, want := range map[string]string{"linux": "PF3ABC01", "pi": "10000000abcdef01", "none": ""} {
		got, err := machineSerial(t.Context(), filepath.Join("testdata", "serial", dir))
		if err != nil || got != want {
			t.Errorf("%s: serial %q, %v; want %q", dir, got, err, want)
		}
	}
}

func TestIoregSerial(t *testing.T) {
	b, err := os.ReadFile("testdata/serial/ioreg-platform.plist")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := ParseIoregSerial(b); err != nil || s != "C02XY0002" {
		t.Fatalf("serial %q, %v", s, err)
	}
	if _, err := ParseIoregSerial([]byte("<plist><array><dict></dict></array></plist>")); err == nil {
		t.Fatal("no IOPlatformSerialNumber accepted")
	}
}

// smbios builds structures in the DSP0134 layout: a BIOS (type 0), a
// System Information (type 1) whose serial is string 3, end of table.
func smbios(serialIdx byte, rsmb bool) []byte {
	var b []byte
	b = append(b, 0, 0x18, 0, 0) // type 0, length 24, handle 0
	b = append(b, make([]byte, 0x18-4)...)
	b = append(b, "LENOVO\x00N32ET91W\x00\x00"...)
	t1 := []byte{1, 0x1b, 1, 0, 1, 2, 0, serialIdx}
	t1 = append(t1, make([]byte, 0x1b-8)...)
	b = append(b, t1...)
	b = append(b, "LENOVO\x0021HD0048US\x00PF3ABC01\x00\x00"...)
	b = append(b, 127, 4, 2, 0, 0, 0)
	if !rsmb {
		return b
	}
	h := make([]byte, 8)
	h[1], h[2] = 3, 4 // SMBIOS 3.4
	binary.LittleEndian.PutUint32(h[4:], uint32(len(b)))
	return append(h, b...)
}

func TestSMBIOSSerial(t *testing.T) {
	for _, rsmb := range []bool{false, true} {
		if s, err := ParseSMBIOSSerial(smbios(3, rsmb), rsmb); err != nil || s != "PF3ABC01" {
			t.Fatalf("rsmb=%v: serial %q, %v", rsmb, s, err)
		}
	}
	if s, err := ParseSMBIOSSerial(smbios(0, false), false); err != nil || s != "" {
		t.Fatalf("no serial string: %q, %v", s, err)
	}
	for name, b := range map[string][]byte{
		"string index past the set": smbios(9, false),
		"truncated":                 smbios(3, false)[:30],
		"empty":                     nil,
	} {
		if _, err := ParseSMBIOSSerial(b, false); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzSMBIOSSerial(f *testing.F) {
	f.Add(smbios(3, false), false)
	f.Add(smbios(3, true), true)
	f.Add(smbios(9, false), false)
	f.Fuzz(func(t *testing.T, b []byte, rsmb bool) {
		_, _ = ParseSMBIOSSerial(b, rsmb)
	})
}

func FuzzIoregSerial(f *testing.F) {
	b, _ := os.ReadFile("testdata/serial/ioreg-platform.plist")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseIoregSerial(b) })
}
