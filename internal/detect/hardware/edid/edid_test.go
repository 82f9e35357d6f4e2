package edid

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/testenv"
)

// decoded is what edid-decode prints about a base block's identity.
type decoded struct {
	Manufacturer string
	Product      uint16
	Serial       uint32
	Week, Year   int
	ModelYear    bool
	Name         string
	SerialText   string
}

var (
	reMfg     = regexp.MustCompile(`(?m)^\s+Manufacturer: (\S+)`)
	reModel   = regexp.MustCompile(`(?m)^\s+Model: (\S+)`)
	reSerial  = regexp.MustCompile(`(?m)^\s+Serial Number: (\S+)\s*$`)
	reMadeWk  = regexp.MustCompile(`(?m)^\s+Made in: week (\d+) of (\d+)`)
	reMadeYr  = regexp.MustCompile(`(?m)^\s+Made in: (?:year )?(\d+)\s*$`)
	reModelYr = regexp.MustCompile(`(?m)^\s+Model year: (\d+)`)
	reName    = regexp.MustCompile(`(?m)^\s+Display Product Name: '(.*)'$`)
	reSerText = regexp.MustCompile(`(?m)^\s+Display Product Serial Number: '(.*)'$`)
)

func parseNum(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		t.Fatalf("edid-decode number %q: %v", s, err)
	}
	return n
}

// runEdidDecode feeds raw bytes to edid-decode and extracts block 0 identity.
func runEdidDecode(t *testing.T, bin string, raw []byte) decoded {
	t.Helper()
	f := filepath.Join(t.TempDir(), "edid.bin")
	if err := os.WriteFile(f, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(bin, f).CombinedOutput() // non-zero exit on conformance failures
	s := string(out)
	// Only look at block 0.
	if i := strings.Index(s, "\nBlock 1,"); i >= 0 {
		s = s[:i]
	}
	var d decoded
	m := reMfg.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("edid-decode printed no manufacturer:\n%s", out)
	}
	d.Manufacturer = m[1]
	if m := reModel.FindStringSubmatch(s); m != nil {
		d.Product = uint16(parseNum(t, m[1]))
	}
	if m := reSerial.FindStringSubmatch(s); m != nil {
		d.Serial = uint32(parseNum(t, m[1]))
	}
	if m := reMadeWk.FindStringSubmatch(s); m != nil {
		d.Week = int(parseNum(t, m[1]))
		d.Year = int(parseNum(t, m[2]))
	} else if m := reMadeYr.FindStringSubmatch(s); m != nil {
		d.Year = int(parseNum(t, m[1]))
	} else if m := reModelYr.FindStringSubmatch(s); m != nil {
		d.Year = int(parseNum(t, m[1]))
		d.ModelYear = true
	}
	if m := reName.FindStringSubmatch(s); m != nil {
		d.Name = m[1]
	}
	if m := reSerText.FindStringSubmatch(s); m != nil {
		d.SerialText = m[1]
	}
	return d
}

func edidDecodeBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("edid-decode")
	if err != nil {
		if os.Getenv("FARMWATCH_E2E") == "1" {
			t.Fatalf("edid-decode not in PATH (FARMWATCH_E2E=1 makes this a failure; Debian package edid-decode)")
		}
		t.Skip("edid-decode not in PATH; install the Debian package edid-decode to compare the parser against it")
	}
	return bin
}

func compare(t *testing.T, name string, raw []byte, want decoded) {
	t.Helper()
	e, err := Parse(raw)
	if err != nil {
		t.Errorf("%s: Parse: %v", name, err)
		return
	}
	got := decoded{
		Manufacturer: e.Manufacturer, Product: e.ProductCode, Serial: e.Serial,
		Week: e.Week, Year: e.Year, ModelYear: e.ModelYear,
		Name: e.MonitorNameRaw, SerialText: e.SerialTextRaw,
	}
	if got != want {
		t.Errorf("%s: parser %+v\n  edid-decode %+v", name, got, want)
	}
}

// TestAgainstEdidDecodeShared compares every EDID of the shared KVM research
// folder with edid-decode's reading of the same bytes.
func TestAgainstEdidDecodeShared(t *testing.T) {
	shared := os.Getenv("FARMWATCH_SHARED")
	if shared == "" {
		testenv.Missing(t, "FARMWATCH_SHARED is not set (the Makefile sets it to ../shared); the shared EDID corpus is needed")
	}
	bin := edidDecodeBin(t)
	root := filepath.Join(shared, "data", "kvm", "edid")
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		raw, err := Decode(data)
		if err != nil {
			t.Errorf("%s: Decode: %v", p, err)
			return nil
		}
		compare(t, p, raw, runEdidDecode(t, bin, raw))
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("compared only %d EDIDs under %s; expected the full corpus (>= 20)", n, root)
	}
	t.Logf("compared %d shared EDIDs with edid-decode", n)
}

// TestAgainstEdidDecodeGenerated compares EDIDs built here, covering model
// years, week 0, zero and maximal serials, full-length and empty names.
func TestAgainstEdidDecodeGenerated(t *testing.T) {
	bin := edidDecodeBin(t)
	cases := []struct {
		mfg        string
		product    uint16
		serial     uint32
		week, year int
		name, text string
	}{
		{"DEL", 0xa0c3, 0x4c4b4a32, 12, 2019, "DELL U2719D", "8T2KJ13"},
		{"LNX", 0x7770, 0x01010101, 35, 2016, "PiKVM", "CAFEBABE"},
		{"SAM", 0x0f56, 0, 0, 2021, "LS27A600U", ""},
		{"GSM", 0x5b7f, 0xffffffff, 255, 2022, "LG HDR 4K", "104NTAB12345"},
		{"AUO", 0x243d, 0, 1, 1990, "", ""},
		{"ZZZ", 0xffff, 1, 53, 2245, "ABCDEFGHIJKLM", "0123456789ABC"},
		{"APP", 0xae31, 0x12345678, 20, 2023, "Color LCD", ""},
	}
	for _, c := range cases {
		raw := Build(c.mfg, c.product, c.serial, c.week, c.year, c.name, c.text)
		compare(t, c.mfg+"/"+c.name, raw, runEdidDecode(t, bin, raw))
	}
}

func TestParseKnown(t *testing.T) {
	raw := Build("LNX", 0x7771, 0x01010101, 35, 2016, "PiKVM V3", "CAFEBABE")
	e, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if e.Manufacturer != "LNX" || e.ProductCode != 0x7771 || e.Serial != 0x01010101 || e.Week != 35 || e.Year != 2016 ||
		e.MonitorName != "PiKVM V3" || e.SerialText != "CAFEBABE" || !e.ChecksumOK || !e.Digital || e.WidthCM != 60 {
		t.Fatalf("got %+v", e)
	}
	raw[127]++
	if e, _ := Parse(raw); e.ChecksumOK {
		t.Fatal("checksum not checked")
	}
}

func TestDecodeForms(t *testing.T) {
	raw := Build("TSB", 0x8801, 0x88888800, 28, 2011, "T749-fHD720", "")
	var hexSpaced, hex0x bytes.Buffer
	for i, c := range raw {
		hexSpaced.WriteString(strconv.FormatUint(uint64(c)|0x100, 16)[1:])
		if i%16 == 15 {
			hexSpaced.WriteByte('\n')
		} else {
			hexSpaced.WriteByte(' ')
		}
		hex0x.WriteString("0x" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]) + ", ")
	}
	for name, in := range map[string][]byte{
		"binary": raw, "hex": hexSpaced.Bytes(), "0x": hex0x.Bytes(),
		"comment": append([]byte("# kvmd edid\n"), hexSpaced.Bytes()...),
	} {
		got, err := Decode(in)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%s: Decode = %x, %v", name, got, err)
		}
	}
	for name, in := range map[string]string{"empty": "", "odd": "00f", "garbage": "\x01\x02zz"} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Parse(make([]byte, 127)); err == nil {
		t.Error("short EDID accepted")
	}
	if _, err := Parse(make([]byte, 128)); err == nil {
		t.Error("headerless EDID accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Build("LNX", 0x7770, 0x01010101, 35, 2016, "PiKVM", "CAFEBABE"))
	f.Add(Build("MAC", 0x0101, 0x04030201, 1, 2014, "MACROSILICON", ""))
	f.Add([]byte("00ffffffffffff00 31d8"))
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := Decode(data)
		if err != nil {
			return
		}
		e, err := Parse(raw)
		if err != nil {
			return
		}
		for _, s := range append([]string{e.MonitorName, e.SerialText, e.Manufacturer}, e.Text...) {
			for _, c := range []byte(s) {
				if c < 0x20 || c > 0x7e {
					t.Fatalf("unsanitised byte %#x in %q", c, s)
				}
			}
		}
	})
}
