package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The "odc" cpio format (POSIX.1 portable, magic "070707") macOS Installer
// expects inside Payload and Scripts: a 76-byte header of fixed-width octal
// fields, the NUL-terminated name, the data; no padding; a "TRAILER!!!" entry
// last. Reference: POSIX.1-2001 pax "cpio Interchange Format", cpio(5).

const (
	cpioMagic      = "070707"
	cpioHeaderSize = 76
	cpioTrailer    = "TRAILER!!!"
	// Mode type bits.
	modeDir  = 0o040000
	modeFile = 0o100000
	modeLink = 0o120000
	modeType = 0o170000
)

// Entry is one file, directory or symlink of an install root.
type Entry struct {
	Path  string // "." or "./Library/..." — as Installer's payloads name them
	Mode  uint32 // type and permission bits, e.g. 0o100755
	UID   uint32
	GID   uint32
	Mtime int64
	Data  []byte // file contents, or the link target
}

func (e Entry) IsDir() bool { return e.Mode&modeType == modeDir }

// writeCPIO writes entries as an odc archive (inode numbers 1…n).
func writeCPIO(w io.Writer, entries []Entry) error {
	octal := func(b *bytes.Buffer, v uint64, width int) error {
		s := strconv.FormatUint(v, 8)
		if len(s) > width {
			return fmt.Errorf("cpio: %o does not fit %d octal digits", v, width)
		}
		for i := len(s); i < width; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
		return nil
	}
	header := func(name string, mode, uid, gid uint32, nlink, ino uint64, mtime int64, size int) ([]byte, error) {
		var b bytes.Buffer
		b.WriteString(cpioMagic)
		if mtime < 0 {
			mtime = 0
		}
		fields := []struct {
			v     uint64
			width int
		}{
			{0, 6}, {ino, 6}, {uint64(mode), 6}, {uint64(uid), 6}, {uint64(gid), 6},
			{nlink, 6}, {0, 6}, {uint64(mtime), 11}, {uint64(len(name) + 1), 6}, {uint64(size), 11},
		}
		for _, f := range fields {
			if err := octal(&b, f.v, f.width); err != nil {
				return nil, err
			}
		}
		b.WriteString(name)
		b.WriteByte(0)
		return b.Bytes(), nil
	}
	for i, e := range entries {
		nlink := uint64(1)
		if e.IsDir() {
			nlink = 2
		}
		h, err := header(e.Path, e.Mode, e.UID, e.GID, nlink, uint64(i+1), e.Mtime, len(e.Data))
		if err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
		if _, err := w.Write(h); err != nil {
			return err
		}
		if _, err := w.Write(e.Data); err != nil {
			return err
		}
	}
	h, _ := header(cpioTrailer, 0, 0, 0, 1, 0, 0, 0)
	_, err := w.Write(h)
	return err
}

// readCPIO parses an odc archive up to its trailer.
func readCPIO(data []byte) ([]Entry, error) {
	var out []Entry
	field := func(b []byte) (uint64, error) {
		v, err := strconv.ParseUint(string(b), 8, 64)
		if err != nil {
			return 0, fmt.Errorf("cpio: bad octal field %q", b)
		}
		return v, nil
	}
	for off := 0; ; {
		if len(data)-off < cpioHeaderSize {
			return nil, errors.New("cpio: truncated header (no trailer)")
		}
		h := data[off : off+cpioHeaderSize]
		if string(h[:6]) != cpioMagic {
			return nil, fmt.Errorf("cpio: bad magic %q at %d", h[:6], off)
		}
		var v [10]uint64
		widths := []int{6, 6, 6, 6, 6, 6, 6, 11, 6, 11}
		p := 6
		for i, w := range widths {
			x, err := field(h[p : p+w])
			if err != nil {
				return nil, err
			}
			v[i] = x
			p += w
		}
		mode, uid, gid, mtime, namesize, filesize := v[2], v[3], v[4], v[7], v[8], v[9]
		off += cpioHeaderSize
		if namesize == 0 || namesize > uint64(len(data)-off) {
			return nil, errors.New("cpio: truncated name")
		}
		name := data[off : off+int(namesize)]
		if name[len(name)-1] != 0 {
			return nil, errors.New("cpio: name not NUL-terminated")
		}
		off += int(namesize)
		if string(name[:len(name)-1]) == cpioTrailer {
			return out, nil
		}
		if filesize > uint64(len(data)-off) {
			return nil, errors.New("cpio: truncated data")
		}
		out = append(out, Entry{
			Path: string(name[:len(name)-1]), Mode: uint32(mode), UID: uint32(uid), GID: uint32(gid),
			Mtime: int64(mtime), Data: append([]byte(nil), data[off:off+int(filesize)]...),
		})
		off += int(filesize)
	}
}
