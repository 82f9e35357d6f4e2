package macho

import (
	"bytes"
	"compress/gzip"
	"debug/macho"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// adhoc-arm64.gz is made by testdata/make-fixtures.sh: a Go program built
// for darwin/arm64, which Go's linker signs ad hoc.
func readFixture(t testing.TB) []byte {
	t.Helper()
	f, err := os.Open("testdata/adhoc-arm64.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fixtureSignature returns the SuperBlob the fixture's LC_CODE_SIGNATURE
// points to.
func fixtureSignature(t testing.TB) []byte {
	t.Helper()
	data := readFixture(t)
	f, err := macho.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range f.Loads {
		raw := l.Raw()
		if binary.LittleEndian.Uint32(raw) == lcCodeSignature {
			off, size := binary.LittleEndian.Uint32(raw[8:]), binary.LittleEndian.Uint32(raw[12:])
			return bytes.Clone(data[off : off+size])
		}
	}
	t.Fatal("fixture has no LC_CODE_SIGNATURE")
	return nil
}

// withTeamID patches a SuperBlob whose only blob is a CodeDirectory of
// version >= 0x20200 and appends team as the team ID string: the string
// goes after the CodeDirectory's end, teamOffset (CodeDirectory offset 48)
// points at it, and the CodeDirectory and SuperBlob lengths grow to cover
// it.
func withTeamID(t testing.TB, sig []byte, team string) []byte {
	t.Helper()
	if be.Uint32(sig) != magicEmbeddedSignature || be.Uint32(sig[8:]) != 1 || be.Uint32(sig[12:]) != slotCodeDirectory {
		t.Fatal("unexpected SuperBlob layout")
	}
	cdOff := be.Uint32(sig[16:])
	cdLen := be.Uint32(sig[cdOff+4:])
	out := bytes.Clone(sig[:cdOff+cdLen])
	out = append(out, team...)
	out = append(out, 0)
	be.PutUint32(out[cdOff+4:], cdLen+uint32(len(team))+1) // CodeDirectory length
	be.PutUint32(out[cdOff+48:], cdLen)                    // teamOffset
	be.PutUint32(out[4:], uint32(len(out)))                // SuperBlob length
	return out
}

// thinWithSignature builds a minimal arm64 Mach-O executable: a header,
// one LC_CODE_SIGNATURE load command, and sig right after.
func thinWithSignature(sig []byte) []byte {
	le := binary.LittleEndian
	b := make([]byte, 48, 48+len(sig))
	le.PutUint32(b[0:], macho.Magic64)
	le.PutUint32(b[4:], uint32(macho.CpuArm64))
	le.PutUint32(b[12:], uint32(macho.TypeExec))
	le.PutUint32(b[16:], 1)  // ncmds
	le.PutUint32(b[20:], 16) // sizeofcmds
	le.PutUint32(b[32:], lcCodeSignature)
	le.PutUint32(b[36:], 16)
	le.PutUint32(b[40:], 48)
	le.PutUint32(b[44:], uint32(len(sig)))
	return append(b, sig...)
}

// unsignedThin is a Mach-O header with no load commands.
func unsignedThin(cpu macho.Cpu) []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint32(b[0:], macho.Magic64)
	binary.LittleEndian.PutUint32(b[4:], uint32(cpu))
	binary.LittleEndian.PutUint32(b[12:], uint32(macho.TypeExec))
	return b
}

type slice struct {
	cpu  macho.Cpu
	data []byte
}

// fat builds a universal binary holding the slices aligned to 2^align
// bytes (real ones use 2^14).
func fat(align int, slices ...slice) []byte {
	out := make([]byte, 8+20*len(slices))
	be.PutUint32(out, macho.MagicFat)
	be.PutUint32(out[4:], uint32(len(slices)))
	for i, s := range slices {
		off := (len(out) + 1<<align - 1) &^ (1<<align - 1)
		out = append(out, make([]byte, off-len(out))...)
		h := out[8+20*i:]
		be.PutUint32(h, uint32(s.cpu))
		be.PutUint32(h[8:], uint32(off))
		be.PutUint32(h[12:], uint32(len(s.data)))
		be.PutUint32(h[16:], uint32(align))
		out = append(out, s.data...)
	}
	return out
}

func parseBytes(b []byte) (*Signature, error) { return Parse(bytes.NewReader(b)) }

func TestParseGoLinkerSignature(t *testing.T) {
	s, err := parseBytes(readFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Signature{Identifier: "a.out", TeamID: "", Flags: FlagAdHoc | FlagLinkerSigned, Version: 0x20400}
	if *s != want {
		t.Errorf("got %+v, want %+v", *s, want)
	}
	if !s.AdHoc() {
		t.Error("AdHoc() = false for a linker signature")
	}
}

func TestParseFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(p, readFixture(t), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := ParseFile(p)
	if err != nil || s.Identifier != "a.out" {
		t.Fatalf("ParseFile = %+v, %v", s, err)
	}
	if _, err := ParseFile(t.TempDir()); err == nil {
		t.Error("directory: want an error")
	}
	if _, err := ParseFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestParseTeamID(t *testing.T) {
	sig := withTeamID(t, fixtureSignature(t), "ABCDE12345")

	s, err := ParseSignature(bytes.NewReader(sig), int64(len(sig)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Identifier != "a.out" || s.TeamID != "ABCDE12345" {
		t.Errorf("ParseSignature = %+v, want identifier a.out, team ABCDE12345", *s)
	}

	// The same through a whole Mach-O, thin and universal.
	thin := thinWithSignature(sig)
	for name, data := range map[string][]byte{
		"thin": thin,
		"fat":  fat(14, slice{macho.CpuAmd64, unsignedThin(macho.CpuAmd64)}, slice{macho.CpuArm64, thin}),
	} {
		s, err := parseBytes(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Identifier != "a.out" || s.TeamID != "ABCDE12345" {
			t.Errorf("%s: got %+v", name, *s)
		}
	}

	// Before version 0x20200 a CodeDirectory has no teamOffset field.
	old := bytes.Clone(sig)
	cdOff := be.Uint32(old[16:])
	be.PutUint32(old[cdOff+8:], 0x20100)
	s, err = ParseSignature(bytes.NewReader(old), int64(len(old)))
	if err != nil || s.TeamID != "" || s.Identifier != "a.out" {
		t.Errorf("version 0x20100: got %+v, %v; want no team ID", s, err)
	}

	// Only an alternate CodeDirectory (slot 0x1000) is found too.
	alt := bytes.Clone(sig)
	be.PutUint32(alt[12:], slotAlternateFirst)
	s, err = ParseSignature(bytes.NewReader(alt), int64(len(alt)))
	if err != nil || s.TeamID != "ABCDE12345" {
		t.Errorf("alternate CodeDirectory: got %+v, %v", s, err)
	}
}

func TestParseFatFixture(t *testing.T) {
	data := fat(14, slice{macho.CpuAmd64, unsignedThin(macho.CpuAmd64)}, slice{macho.CpuArm64, readFixture(t)})
	s, err := parseBytes(data)
	if err != nil || s.Identifier != "a.out" {
		t.Fatalf("Parse = %+v, %v", s, err)
	}
	_, err = parseBytes(fat(14, slice{macho.CpuAmd64, unsignedThin(macho.CpuAmd64)}))
	if !errors.Is(err, ErrNotSigned) {
		t.Errorf("unsigned universal binary: err = %v, want ErrNotSigned", err)
	}
}

func TestParseNotSignedOrNotMachO(t *testing.T) {
	if _, err := parseBytes(unsignedThin(macho.CpuArm64)); !errors.Is(err, ErrNotSigned) {
		t.Errorf("unsigned: err = %v, want ErrNotSigned", err)
	}
	for name, data := range map[string][]byte{
		"empty": nil,
		"ELF":   append([]byte("\x7fELF"), make([]byte, 100)...),
		"PE":    append([]byte("MZ"), make([]byte, 100)...),
		"text":  []byte("#!/bin/sh\necho hi\n"),
	} {
		if _, err := parseBytes(data); !errors.Is(err, ErrNotMachO) {
			t.Errorf("%s: err = %v, want ErrNotMachO", name, err)
		}
	}
}

func TestParseHostileSignature(t *testing.T) {
	sig := withTeamID(t, fixtureSignature(t), "ABCDE12345")
	cdOff := be.Uint32(sig[16:])
	cases := map[string]func(b []byte){
		"bad SuperBlob magic":     func(b []byte) { be.PutUint32(b, 0xfade0cc1) },
		"huge blob count":         func(b []byte) { be.PutUint32(b[8:], 0xffffffff) },
		"no CodeDirectory slot":   func(b []byte) { be.PutUint32(b[12:], 5) },
		"CD offset past the end":  func(b []byte) { be.PutUint32(b[16:], 0xfffffff0) },
		"bad CD magic":            func(b []byte) { be.PutUint32(b[cdOff:], 0xfade0c01) },
		"CD length huge":          func(b []byte) { be.PutUint32(b[cdOff+4:], 0xffffffff) },
		"identOffset past the CD": func(b []byte) { be.PutUint32(b[cdOff+20:], 0x7fffffff) },
		"teamOffset past the CD":  func(b []byte) { be.PutUint32(b[cdOff+48:], 0x7fffffff) },
		"unterminated team ID":    func(b []byte) { b[len(b)-1] = 'X' },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			b := bytes.Clone(sig)
			mutate(b)
			if s, err := ParseSignature(bytes.NewReader(b), int64(len(b))); err == nil {
				t.Fatalf("got %+v, want an error", *s)
			}
			if s, err := parseBytes(thinWithSignature(b)); err == nil {
				t.Fatalf("whole file: got %+v, want an error", *s)
			}
		})
	}
}

// Every truncation of a signed file loses part of the signature.
func TestParseTruncated(t *testing.T) {
	data := thinWithSignature(withTeamID(t, fixtureSignature(t), "ABCDE12345"))
	for n := range len(data) {
		if s, err := parseBytes(data[:n]); err == nil {
			t.Fatalf("first %d of %d bytes: got %+v, want an error", n, len(data), *s)
		}
	}
}

// compact drops the code-page hashes of a SuperBlob holding one
// CodeDirectory (cutting it at hashOffset and zeroing nCodeSlots): what is
// left is the real header, identifier and lengths, small enough to fuzz.
func compact(t testing.TB, sig []byte) []byte {
	t.Helper()
	cdOff := be.Uint32(sig[16:])
	if be.Uint32(sig[8:]) != 1 || be.Uint32(sig[cdOff+24:]) != 0 {
		t.Fatal("unexpected SuperBlob layout")
	}
	hashOff := be.Uint32(sig[cdOff+16:])
	out := bytes.Clone(sig[:cdOff+hashOff])
	be.PutUint32(out[cdOff+4:], hashOff) // CodeDirectory length
	be.PutUint32(out[cdOff+28:], 0)      // nCodeSlots
	be.PutUint32(out[4:], uint32(len(out)))
	return out
}

func TestCompactSeed(t *testing.T) {
	sig := withTeamID(t, compact(t, fixtureSignature(t)), "ABCDE12345")
	s, err := parseBytes(thinWithSignature(sig))
	if err != nil || s.Identifier != "a.out" || s.TeamID != "ABCDE12345" || len(sig) > 256 {
		t.Fatalf("compact seed (%d bytes): %+v, %v", len(sig), s, err)
	}
}

func FuzzParse(f *testing.F) {
	// Seeds are the fixture's real structures, kept small: the fuzzer
	// spends its time minimizing large inputs instead of fuzzing.
	sig := withTeamID(f, compact(f, fixtureSignature(f)), "ABCDE12345")
	thin := thinWithSignature(sig)
	f.Add(thin)
	f.Add(fat(6, slice{macho.CpuAmd64, unsignedThin(macho.CpuAmd64)}, slice{macho.CpuArm64, thin}))
	f.Add(unsignedThin(macho.CpuArm64))
	fixture := readFixture(f)
	f.Add(fixture[:32+binary.LittleEndian.Uint32(fixture[20:])])
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseBytes(b)
		if (s == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v: want exactly one of a signature and an error", s, err)
		}
		if s != nil && (len(s.Identifier) > maxStringLen || len(s.TeamID) > maxStringLen) {
			t.Fatalf("string longer than the cap: %+v", s)
		}
	})
}
