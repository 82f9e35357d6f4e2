package peinfo

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// signed.exe is made by testdata/make-fixtures.sh.
const fixture = "testdata/signed.exe"

func readFixture(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parseBytes(data []byte) (*Info, error) {
	return Parse(bytes.NewReader(data), int64(len(data)))
}

// securityDirOffset returns the file offset of the security data directory
// entry of a PE32+ image.
func securityDirOffset(t testing.TB, data []byte) int {
	t.Helper()
	peOff := int(le.Uint32(data[0x3c:]))
	if le.Uint16(data[peOff+24:]) != 0x20b {
		t.Fatal("fixture is not PE32+")
	}
	return peOff + 24 + 112 + 8*dirSecurity
}

func TestParseSignedFixture(t *testing.T) {
	info, err := ParseFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{
		OriginalFilename: "fixture.exe",
		ProductName:      "Farmwatch Fixture™",
		CompanyName:      "Farmwatch Test Company",
		FileDescription:  "Farmwatch PE fixture",
		FileVersion:      "1.2.3.4 (fixture)",
	}
	got := *info
	got.Signer = nil
	if got != want {
		t.Errorf("version info:\n got %+v\nwant %+v", got, want)
	}
	if info.Signer == nil {
		t.Fatal("Signer is nil, want the Authenticode signer")
	}
	if *info.Signer != (Signer{CommonName: "Farmwatch Test Signer", Organization: "Farmwatch Test Org"}) {
		t.Errorf("Signer = %+v, want CN=Farmwatch Test Signer O=Farmwatch Test Org", *info.Signer)
	}
}

// The fixture stores the CA certificate before the leaf, so a parser that
// took the first certificate would name the CA. Check the fixture still
// has that property, or the test above would prove less than it claims.
func TestFixtureStoresCAFirst(t *testing.T) {
	data := readFixture(t)
	d := securityDirOffset(t, data)
	off := le.Uint32(data[d:])
	der := data[off+8:]
	var ci contentInfo
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		t.Fatal(err)
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	var first certificate
	if _, err := asn1.Unmarshal(sd.Certificates.Bytes, &first); err != nil {
		t.Fatal(err)
	}
	s, err := subjectOf(first.TBS.Subject.FullBytes)
	if err != nil {
		t.Fatal(err)
	}
	if s.CommonName != "Farmwatch Test CA" {
		t.Fatalf("first certificate is %q, want the CA", s.CommonName)
	}
}

func TestParseUnsigned(t *testing.T) {
	data := readFixture(t)
	d := securityDirOffset(t, data)
	copy(data[d:d+8], make([]byte, 8)) // drop the security directory
	info, err := parseBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	if info.Signer != nil {
		t.Errorf("Signer = %+v, want nil for an unsigned file", *info.Signer)
	}
	if info.OriginalFilename != "fixture.exe" {
		t.Errorf("OriginalFilename = %q, want fixture.exe", info.OriginalFilename)
	}
}

// A PE32 optional header keeps NumberOfRvaAndSizes and the data
// directories 16 bytes earlier than PE32+ (ImageBase is 4 bytes shorter
// and the stack/heap sizes 4 bytes each). Rewrite the fixture's header that
// way: the same fields must come out.
func TestParsePE32(t *testing.T) {
	data := readFixture(t)
	opt := int(le.Uint32(data[0x3c:])) + 24
	le.PutUint16(data[opt:], 0x10b)
	copy(data[opt+92:], bytes.Clone(data[opt+108:opt+112+16*8]))
	info, err := parseBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	if info.OriginalFilename != "fixture.exe" || info.Signer == nil || info.Signer.CommonName != "Farmwatch Test Signer" {
		t.Errorf("got %+v (signer %+v)", info, info.Signer)
	}
}

// Without an English string table the first table is used.
func TestParseFirstTableWithoutEnglish(t *testing.T) {
	data := readFixture(t)
	en := utf16le("040904b0")
	i := bytes.Index(data, en)
	if i < 0 {
		t.Fatal("no English string table key in fixture")
	}
	copy(data[i:], utf16le("041104b0")) // now Japanese
	info, err := parseBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	if info.OriginalFilename != "testdatei.exe" || info.ProductName != "Farmwatch Prüfling" || info.CompanyName != "Farmwatch Testfirma" {
		t.Errorf("got %+v, want the German table's strings", info)
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), 0)
	}
	return b
}

func TestParseNotPE(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":    nil,
		"short MZ": []byte("MZ"),
		"text":     bytes.Repeat([]byte("hello world "), 20),
		"ELF":      append([]byte("\x7fELF"), make([]byte, 200)...),
	} {
		t.Run(name, func(t *testing.T) {
			info, err := parseBytes(data)
			if !errors.Is(err, ErrNotPE) || info != nil {
				t.Errorf("Parse = %v, %v; want nil, ErrNotPE", info, err)
			}
		})
	}
}

// Every truncation of the signed fixture cuts the certificate table at the
// end of the file at least, and must say so instead of panicking.
func TestParseTruncated(t *testing.T) {
	data := readFixture(t)
	for n := 0; n < len(data); n++ {
		info, err := parseBytes(data[:n])
		if err == nil {
			t.Fatalf("Parse of the first %d of %d bytes = %+v, want an error", n, len(data), info)
		}
	}
}

// A size larger than the data behind the reader is a read error.
func TestParseLyingSize(t *testing.T) {
	data := readFixture(t)
	_, err := Parse(bytes.NewReader(data[:1000]), int64(len(data)))
	if err == nil {
		t.Fatal("want an error when the reader holds less than size")
	}
}

func TestParseHostileHeaders(t *testing.T) {
	data := readFixture(t)
	peOff := int(le.Uint32(data[0x3c:]))

	t.Run("too many sections", func(t *testing.T) {
		d := bytes.Clone(data)
		le.PutUint16(d[peOff+6:], 0xffff)
		if _, err := parseBytes(d); err == nil {
			t.Fatal("want an error")
		}
	})
	t.Run("e_lfanew past the end", func(t *testing.T) {
		d := bytes.Clone(data)
		le.PutUint32(d[0x3c:], 0xfffffff0)
		if _, err := parseBytes(d); !errors.Is(err, ErrNotPE) {
			t.Fatalf("err = %v, want ErrNotPE", err)
		}
	})
	t.Run("certificate table past the end", func(t *testing.T) {
		d := bytes.Clone(data)
		le.PutUint32(d[securityDirOffset(t, d)+4:], 0x7fffffff)
		info, err := parseBytes(d)
		if err == nil || info == nil || info.OriginalFilename != "fixture.exe" {
			t.Fatalf("Parse = %+v, %v; want version info and an error", info, err)
		}
	})
	t.Run("WIN_CERTIFICATE length huge", func(t *testing.T) {
		d := bytes.Clone(data)
		off := le.Uint32(d[securityDirOffset(t, d):])
		le.PutUint32(d[off:], 0xffffffff)
		if _, err := parseBytes(d); err == nil {
			t.Fatal("want an error")
		}
	})
	t.Run("resource directory at garbage", func(t *testing.T) {
		d := bytes.Clone(data)
		// Point the resource directory at the security blob: garbage as a
		// resource tree must be an error or nothing, never a panic.
		rsrc := peOff + 24 + 112 + 8*dirResource
		le.PutUint32(d[rsrc:], 0xdeadbeef)
		info, err := parseBytes(d)
		if err == nil || info == nil || info.OriginalFilename != "" || info.Signer == nil {
			t.Fatalf("Parse = %+v, %v; want the signer, no version info and an error", info, err)
		}
	})
}

func TestParseFileErrors(t *testing.T) {
	if _, err := ParseFile(filepath.Join(t.TempDir(), "missing.exe")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	if _, err := ParseFile(t.TempDir()); err == nil {
		t.Error("directory: want an error")
	}
}

func FuzzParse(f *testing.F) {
	data := readFixture(f)
	f.Add(data)
	unsigned := bytes.Clone(data)
	d := securityDirOffset(f, unsigned)
	copy(unsigned[d:d+8], make([]byte, 8))
	f.Add(unsigned[:le.Uint32(data[d:])])
	f.Add(data[:1024])
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := parseBytes(b)
		if err == nil && info == nil {
			t.Fatal("nil Info without an error")
		}
	})
}
