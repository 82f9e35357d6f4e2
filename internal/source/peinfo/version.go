package peinfo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

const rtVersion = 16

// readVersionInfo finds the RT_VERSION resource and fills info's version
// strings from it. A file without one is not an error.
func (f *file) readVersionInfo(info *Info) error {
	d := f.dir(dirResource)
	if d.virtualAddress == 0 || d.size == 0 {
		return nil
	}
	root, _, err := f.offset(d.virtualAddress)
	if err != nil {
		return err
	}
	// Resource tree: type → name → language → data entry. Offsets inside
	// the tree are relative to its root.
	off, isDir, ok, err := f.findResourceEntry(root, 0, func(id uint32, named bool) bool { return !named && id == rtVersion })
	if err != nil || !ok {
		return err
	}
	for range 2 { // name level, then language level: take the first entry
		if !isDir {
			return errors.New("resource tree: RT_VERSION leaf above the language level")
		}
		off, isDir, ok, err = f.findResourceEntry(root, off, func(uint32, bool) bool { return true })
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
	}
	if isDir {
		return errors.New("resource tree: RT_VERSION nested deeper than the language level")
	}
	entry, err := f.read(root+int64(off), 16) // IMAGE_RESOURCE_DATA_ENTRY
	if err != nil {
		return err
	}
	dataRVA, dataSize := le.Uint32(entry), le.Uint32(entry[4:])
	if dataSize > MaxVersionInfoSize {
		return fmt.Errorf("RT_VERSION resource of %d bytes (more than %d)", dataSize, MaxVersionInfoSize)
	}
	dataOff, avail, err := f.offset(dataRVA)
	if err != nil {
		return err
	}
	if int64(dataSize) > avail {
		return fmt.Errorf("RT_VERSION resource of %d bytes overruns its section", dataSize)
	}
	data, err := f.read(dataOff, int(dataSize))
	if err != nil {
		return err
	}
	return parseVersionInfo(data, info)
}

// findResourceEntry reads the resource directory at dirOff (relative to
// root) and returns the offset of the first entry match accepts, and
// whether that entry is itself a directory.
func (f *file) findResourceEntry(root int64, dirOff uint32, match func(id uint32, named bool) bool) (off uint32, isDir, ok bool, err error) {
	hdr, err := f.read(root+int64(dirOff), 16) // IMAGE_RESOURCE_DIRECTORY
	if err != nil {
		return 0, false, false, err
	}
	n := int(le.Uint16(hdr[12:])) + int(le.Uint16(hdr[14:]))
	n = min(n, MaxResourceEntries)
	entries, err := f.read(root+int64(dirOff)+16, 8*n)
	if err != nil {
		return 0, false, false, err
	}
	for i := range n {
		e := entries[8*i:]
		name, target := le.Uint32(e), le.Uint32(e[4:])
		if match(name&0x7fffffff, name&0x80000000 != 0) {
			return target & 0x7fffffff, target&0x80000000 != 0, true, nil
		}
	}
	return 0, false, false, nil
}

// versionBlock is one node of a VS_VERSIONINFO tree: VS_VERSIONINFO
// itself, StringFileInfo, StringTable, String, VarFileInfo or Var. All share
// the header wLength, wValueLength, wType, szKey, padding to 32 bits.
type versionBlock struct {
	key      string
	textual  bool   // wType == 1
	value    []byte // from the padded end of szKey; for text, to the end of the block
	valueLen int    // wValueLength (bytes for binary, often characters for text)
	children []byte
}

func align4(n int) int { return (n + 3) &^ 3 }

// nextBlock splits the first block off b. Every block starts 32-bit
// aligned relative to the start of the resource, as does b.
func nextBlock(b []byte) (blk versionBlock, rest []byte, err error) {
	if len(b) < 6 {
		return blk, nil, errors.New("truncated VS_VERSIONINFO block")
	}
	length := int(le.Uint16(b))
	if length < 6 || length > len(b) {
		return blk, nil, fmt.Errorf("VS_VERSIONINFO block length %d does not fit in %d bytes", length, len(b))
	}
	blk.valueLen = int(le.Uint16(b[2:]))
	blk.textual = le.Uint16(b[4:]) == 1
	body := b[:length]
	// szKey: NUL-terminated UTF-16LE.
	i := 6
	var key []uint16
	for ; i+1 < length; i += 2 {
		c := le.Uint16(body[i:])
		if c == 0 {
			break
		}
		key = append(key, c)
	}
	blk.key = string(utf16.Decode(key))
	valueOff := min(align4(i+2), length)
	if blk.textual {
		if blk.valueLen > 0 {
			blk.value = body[valueOff:]
		}
		// A String has no children; StringFileInfo, StringTable and
		// VarFileInfo have no value and declare wType 1 in some files.
		if blk.valueLen == 0 {
			blk.children = body[valueOff:]
		}
	} else {
		end := min(valueOff+blk.valueLen, length)
		blk.value = body[valueOff:end]
		blk.children = body[min(align4(end), length):]
	}
	rest = b[min(align4(length), len(b)):]
	return blk, rest, nil
}

// blocks splits b into its consecutive blocks.
func blocks(b []byte) ([]versionBlock, error) {
	var out []versionBlock
	for len(b) > 0 {
		// Trailing padding after the last block.
		if len(b) < 6 || le.Uint16(b) == 0 {
			break
		}
		blk, rest, err := nextBlock(b)
		if err != nil {
			return out, err
		}
		out = append(out, blk)
		b = rest
	}
	return out, nil
}

// utf16String decodes UTF-16LE up to the first NUL.
func utf16String(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := le.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return strings.TrimSpace(string(utf16.Decode(u)))
}

// langEnglish is the primary language ID of English in a LANGID.
const langEnglish = 0x09

// parseVersionInfo reads a VS_VERSIONINFO resource.
func parseVersionInfo(data []byte, info *Info) error {
	root, _, err := nextBlock(data)
	if err != nil {
		return err
	}
	if root.key != "VS_VERSION_INFO" {
		return fmt.Errorf("version resource key is %q, want VS_VERSION_INFO", root.key)
	}
	children, err := blocks(root.children)
	var tables []versionBlock
	for _, c := range children {
		if c.key != "StringFileInfo" {
			continue
		}
		ts, terr := blocks(c.children)
		tables = append(tables, ts...)
		if terr != nil && err == nil {
			err = terr
		}
	}
	if len(tables) > 0 {
		table := tables[0]
		for _, t := range tables {
			// The key is 8 hex digits: LANGID then code page.
			if lang, perr := strconv.ParseUint(t.key[:min(4, len(t.key))], 16, 16); perr == nil && lang&0x3ff == langEnglish {
				table = t
				break
			}
		}
		strs, serr := blocks(table.children)
		for _, s := range strs {
			v := utf16String(s.value)
			switch s.key {
			case "OriginalFilename":
				info.OriginalFilename = v
			case "ProductName":
				info.ProductName = v
			case "CompanyName":
				info.CompanyName = v
			case "FileDescription":
				info.FileDescription = v
			case "FileVersion":
				info.FileVersion = v
			}
		}
		if serr != nil && err == nil {
			err = serr
		}
	}
	// VS_FIXEDFILEINFO carries the version as numbers when no string does.
	if info.FileVersion == "" && len(root.value) >= 16 && le.Uint32(root.value) == 0xfeef04bd {
		ms, ls := le.Uint32(root.value[8:]), le.Uint32(root.value[12:])
		info.FileVersion = fmt.Sprintf("%d.%d.%d.%d", ms>>16, ms&0xffff, ls>>16, ls&0xffff)
	}
	return err
}
