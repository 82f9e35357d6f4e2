package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testTime = time.Unix(1767225600, 0) // 2026-01-01

func TestCPIORoundTrip(t *testing.T) {
	in := []Entry{
		dir(".", 0, 100),
		dir("./usr", 0, 100),
		{Path: "./usr/tool", Mode: modeFile | 0o755, UID: 501, GID: 20, Mtime: 1234567890, Data: []byte("#!/bin/sh\necho hi\n")},
		{Path: "./usr/empty", Mode: modeFile | 0o644, Mtime: 1},
		{Path: "./usr/link", Mode: modeLink | 0o777, Data: []byte("tool")},
	}
	var b bytes.Buffer
	if err := writeCPIO(&b, in); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "070707") || !strings.Contains(b.String(), "TRAILER!!!\x00") {
		t.Fatal("not an odc archive with trailer")
	}
	out, err := readCPIO(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("read %d entries, wrote %d", len(out), len(in))
	}
	for i := range in {
		a, o := in[i], out[i]
		if a.Path != o.Path || a.Mode != o.Mode || a.UID != o.UID || a.GID != o.GID || a.Mtime != o.Mtime || !bytes.Equal(a.Data, o.Data) {
			t.Errorf("entry %d: wrote %+v, read %+v", i, a, o)
		}
	}
	// An independent reader agrees (GNU cpio, when installed).
	if _, err := exec.LookPath("cpio"); err == nil {
		cmd := exec.Command("cpio", "-it", "--quiet")
		cmd.Stdin = bytes.NewReader(b.Bytes())
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("cpio -it: %v", err)
		}
		if want := ".\n./usr\n./usr/tool\n./usr/empty\n./usr/link\n"; string(got) != want {
			t.Errorf("cpio -it listed %q, want %q", got, want)
		}
	}
	if _, err := readCPIO(b.Bytes()[:b.Len()-10]); err == nil {
		t.Error("truncated archive accepted")
	}
}

func TestXarChecksums(t *testing.T) {
	items := []XarItem{
		{Path: "a.txt", Data: []byte("hello hello hello"), Compress: true},
		{Path: "d", Dir: true},
		{Path: "d/b.bin", Data: []byte{0, 1, 2, 3}},
		{Path: "d/e", Dir: true},
		{Path: "d/e/c", Data: bytes.Repeat([]byte("x"), 5000), Compress: true},
	}
	var b bytes.Buffer
	if err := writeXar(&b, items, testTime); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	if string(data[:4]) != "xar!" || binary.BigEndian.Uint16(data[4:]) != 28 || binary.BigEndian.Uint32(data[24:]) != 1 {
		t.Fatalf("bad header % x", data[:28])
	}
	files, toc, err := readXar(data)
	if err != nil {
		t.Fatal(err)
	}
	if toc.Checksum.Offset != 0 || toc.Checksum.Size != 20 || toc.Checksum.Style != "sha1" {
		t.Errorf("TOC checksum entry %+v", toc.Checksum)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	if got := strings.Join(paths, " "); got != "a.txt d d/b.bin d/e d/e/c" {
		t.Errorf("paths %q", got)
	}
	for i, it := range items {
		if !it.Dir && !bytes.Equal(files[i].Data, it.Data) {
			t.Errorf("%s: content differs", it.Path)
		}
	}
	tocLen := int(binary.BigEndian.Uint64(data[8:]))
	heap := 28 + tocLen
	// Tampering with the TOC checksum, a file's data, or the TOC is detected.
	for name, off := range map[string]int{"toc checksum": heap + 3, "file data": len(data) - 10, "toc": 40} {
		bad := append([]byte(nil), data...)
		bad[off] ^= 0xff
		if _, _, err := readXar(bad); err == nil {
			t.Errorf("corrupted %s accepted", name)
		}
	}
	if err := writeXar(io.Discard, []XarItem{{Path: "x/y"}}, testTime); err == nil {
		t.Error("file before its directory accepted")
	}
}

func TestCksumMatchesPOSIX(t *testing.T) {
	// Known value: `printf 'hello\n' | cksum` prints 3015617425 6.
	if got := cksum([]byte("hello\n")); got != 3015617425 {
		t.Errorf("cksum(hello) = %d", got)
	}
	if got := cksum(nil); got != 4294967295 {
		t.Errorf("cksum(empty) = %d", got)
	}
	if _, err := exec.LookPath("cksum"); err == nil {
		data := bytes.Repeat([]byte("farmwatch"), 1000)
		cmd := exec.Command("cksum")
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := strconv.ParseUint(strings.Fields(string(out))[0], 10, 32)
		if got := cksum(data); uint64(got) != want {
			t.Errorf("cksum = %d, cksum(1) says %d", got, want)
		}
	}
}

func TestBomStructure(t *testing.T) {
	entries := payloadEntries([]byte("binary"), []byte("<plist/>"), []byte("log: {}\n"), []byte("notice"), 1700000000)
	data, err := writeBom(entries)
	if err != nil {
		t.Fatal(err)
	}
	// Header: magic, version, block count, index and vars inside the file.
	if string(data[:8]) != "BOMStore" || binary.BigEndian.Uint32(data[8:]) != 1 {
		t.Fatal("bad BOMStore header")
	}
	u32 := binary.BigEndian.Uint32
	idxOff, idxLen := u32(data[16:]), u32(data[20:])
	if int(idxOff+idxLen) != len(data) {
		t.Errorf("index ends at %d, file is %d bytes", idxOff+idxLen, len(data))
	}
	if u32(data[24:]) != 512 {
		t.Errorf("vars at %d, want 512", u32(data[24:]))
	}
	if n := u32(data[idxOff:]); n != u32(data[12:])+1 {
		t.Errorf("block table has %d entries for %d blocks", n, u32(data[12:]))
	}
	got, err := readBom(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) {
		t.Fatalf("Bom lists %d paths, payload has %d", len(got), len(entries))
	}
	byPath := map[string]BomEntry{}
	for _, e := range got {
		byPath[e.Path] = e
	}
	for _, e := range entries {
		b, ok := byPath[e.Path]
		if !ok {
			t.Errorf("Bom misses %s", e.Path)
			continue
		}
		if uint32(b.Mode) != e.Mode || b.UID != e.UID || b.GID != e.GID || b.Mtime != uint32(e.Mtime) {
			t.Errorf("%s: Bom %+v, payload mode %o uid %d gid %d", e.Path, b, e.Mode, e.UID, e.GID)
		}
		if e.IsDir() {
			if b.Type != bomTypeDir || b.Size != 0 {
				t.Errorf("%s: type %d size %d", e.Path, b.Type, b.Size)
			}
		} else if b.Type != bomTypeFile || b.Size != uint32(len(e.Data)) || b.Checksum != cksum(e.Data) {
			t.Errorf("%s: type %d size %d checksum %d", e.Path, b.Type, b.Size, b.Checksum)
		}
	}
	// Breadth-first, sorted by name within a directory: "." first.
	if got[0].Path != "." || got[1].Path != "./Library" || got[2].Path != "./usr" {
		t.Errorf("order: %s %s %s", got[0].Path, got[1].Path, got[2].Path)
	}
	if _, err := writeBom([]Entry{dir(".", 0, 0), {Path: "./a/b", Mode: modeFile}}); err == nil {
		t.Error("missing parent accepted")
	}
}

func TestBomManyPaths(t *testing.T) {
	// More than one 256-entry leaf: a branch node over linked leaves.
	entries := []Entry{dir(".", 0, 0), dir("./d", 0, 0)}
	for i := range 600 {
		entries = append(entries, Entry{Path: "./d/f" + strconv.Itoa(i), Mode: modeFile | 0o644, Data: []byte(strconv.Itoa(i))})
	}
	data, err := writeBom(entries)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readBom(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) {
		t.Fatalf("read %d paths, wrote %d", len(got), len(entries))
	}
	seen := map[string]bool{}
	for _, e := range got {
		seen[e.Path] = true
	}
	for _, e := range entries {
		if !seen[e.Path] {
			t.Errorf("missing %s", e.Path)
		}
	}
}

func TestBuildPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	bin := filepath.Join(t.TempDir(), "farmwatch-agent")
	if err := os.WriteFile(bin, bytes.Repeat([]byte{0xcf, 0xfa, 0xed, 0xfe}, 1000), 0o755); err != nil {
		t.Fatal(err)
	}
	pkg, err := build(options{
		Version: "1.2.3", Arch: "arm64", Binary: bin, Mtime: testTime,
		Plist:   filepath.Join(root, "packaging/macos/com.farmwatch.agent.plist"),
		Config:  filepath.Join(root, "packaging/farmwatch.yaml"),
		Scripts: filepath.Join(root, "packaging/macos/scripts"),
		Notice:  filepath.Join(root, "NOTICE"),
	})
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := readXar(pkg)
	if err != nil {
		t.Fatal(err)
	}
	content := map[string][]byte{}
	for _, f := range files {
		content[f.Path] = f.Data
	}
	for _, p := range []string{"Distribution", "farmwatch-agent.pkg/Bom", "farmwatch-agent.pkg/PackageInfo", "farmwatch-agent.pkg/Payload", "farmwatch-agent.pkg/Scripts"} {
		if content[p] == nil {
			t.Fatalf("pkg misses %s", p)
		}
	}
	var dist struct {
		Options struct {
			HostArchitectures string `xml:"hostArchitectures,attr"`
		} `xml:"options"`
		PkgRef []struct {
			ID   string `xml:"id,attr"`
			Path string `xml:",chardata"`
		} `xml:"pkg-ref"`
	}
	if err := xml.Unmarshal(content["Distribution"], &dist); err != nil {
		t.Fatal(err)
	}
	if dist.Options.HostArchitectures != "arm64" || dist.PkgRef[0].Path != "#farmwatch-agent.pkg" {
		t.Errorf("Distribution: %+v", dist)
	}
	var info struct {
		ID      string `xml:"identifier,attr"`
		Version string `xml:"version,attr"`
		Payload struct {
			Files int `xml:"numberOfFiles,attr"`
		} `xml:"payload"`
		Scripts struct {
			Post struct {
				File string `xml:"file,attr"`
			} `xml:"postinstall"`
			Pre struct {
				File string `xml:"file,attr"`
			} `xml:"preinstall"`
		} `xml:"scripts"`
	}
	if err := xml.Unmarshal(content["farmwatch-agent.pkg/PackageInfo"], &info); err != nil {
		t.Fatal(err)
	}
	if info.ID != "com.farmwatch.agent" || info.Version != "1.2.3" || info.Scripts.Post.File != "./postinstall" || info.Scripts.Pre.File != "./preinstall" {
		t.Errorf("PackageInfo: %+v", info)
	}
	payload := gunzipCPIO(t, content["farmwatch-agent.pkg/Payload"])
	if info.Payload.Files != len(payload) {
		t.Errorf("PackageInfo says %d files, payload has %d", info.Payload.Files, len(payload))
	}
	mode := map[string]uint32{}
	for _, e := range payload {
		mode[e.Path] = e.Mode
	}
	for p, m := range map[string]uint32{macBinary: modeFile | 0o755, macPlist: modeFile | 0o644, macConfig: modeFile | 0o640, macNotice: modeFile | 0o644} {
		if mode[p] != m {
			t.Errorf("payload %s mode %o, want %o", p, mode[p], m)
		}
	}
	bom, err := readBom(content["farmwatch-agent.pkg/Bom"])
	if err != nil {
		t.Fatal(err)
	}
	if len(bom) != len(payload) {
		t.Errorf("Bom lists %d paths, payload %d", len(bom), len(payload))
	}
	scripts := gunzipCPIO(t, content["farmwatch-agent.pkg/Scripts"])
	var post string
	for _, e := range scripts {
		if e.Path == "./postinstall" {
			post = string(e.Data)
			if e.Mode != modeFile|0o755 {
				t.Errorf("postinstall mode %o", e.Mode)
			}
		}
	}
	if !strings.Contains(post, `launchctl bootstrap system "$PLIST"`) || !strings.Contains(post, "launchctl bootout") ||
		strings.Contains(post, "launchctl load") || strings.Contains(post, "launchctl unload") {
		t.Errorf("postinstall does not bootstrap (and only bootstrap/bootout):\n%s", post)
	}
}

func gunzipCPIO(t *testing.T, gz []byte) []Entry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := readCPIO(raw)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func FuzzReadXar(f *testing.F) {
	var b bytes.Buffer
	_ = writeXar(&b, []XarItem{{Path: "d", Dir: true}, {Path: "d/f", Data: []byte("data"), Compress: true}}, testTime)
	f.Add(b.Bytes())
	f.Add([]byte("xar!\x00\x1c\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, _, err := readXar(data)
		if err != nil {
			return
		}
		for _, fl := range files {
			if fl.Path == "" || strings.HasPrefix(fl.Path, "/") || strings.Contains(fl.Path, "..") {
				t.Fatalf("unsafe path %q accepted", fl.Path)
			}
		}
	})
}

func FuzzReadCPIO(f *testing.F) {
	var b bytes.Buffer
	_ = writeCPIO(&b, []Entry{dir(".", 0, 0), {Path: "./f", Mode: modeFile | 0o644, Data: []byte("x")}})
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := readCPIO(data)
		if err != nil {
			return
		}
		// What parses re-encodes and parses to the same entries.
		var out bytes.Buffer
		if err := writeCPIO(&out, entries); err != nil {
			return // e.g. a mode beyond what the writer emits
		}
		again, err := readCPIO(out.Bytes())
		if err != nil || len(again) != len(entries) {
			t.Fatalf("re-encoded archive: %v (%d vs %d entries)", err, len(again), len(entries))
		}
	})
}

func FuzzReadBom(f *testing.F) {
	data, _ := writeBom(payloadEntries([]byte("b"), []byte("p"), []byte("c"), nil, 0))
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = readBom(data)
	})
}
