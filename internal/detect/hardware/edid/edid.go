// Package edid decodes the identity part of a display's EDID (VESA E-EDID
// base block): PNP manufacturer id, product code, 32-bit serial number,
// manufacture week/year, monitor name and text serial descriptors, physical
// size. It is pure, bounded (it only ever looks at the first 128-byte block
// and counts extensions) and never panics on hostile input.
package edid

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// BlockSize is the size of one EDID block.
const BlockSize = 128

// MaxSize bounds what Decode accepts: 256 blocks is the E-EDID maximum.
const MaxSize = 256 * BlockSize

var header = []byte{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}

// ErrNoEDID is returned for empty input (a connector with no display).
var ErrNoEDID = errors.New("no EDID data")

// EDID is the identity of a display as its EDID base block states it.
type EDID struct {
	// Manufacturer is the three-letter PNP id ("DEL", "LNX").
	Manufacturer string `json:"manufacturer"`
	// ProductCode is the little-endian 16-bit product code.
	ProductCode uint16 `json:"product_code"`
	// Serial is the 32-bit binary serial number (0 when unused).
	Serial uint32 `json:"serial"`
	// Week of manufacture, 0 when unspecified; with ModelYear set, Year is
	// the model year and Week is 0.
	Week      int  `json:"week"`
	Year      int  `json:"year"`
	ModelYear bool `json:"model_year,omitempty"`
	Version   int  `json:"version"`
	Revision  int  `json:"revision"`
	Digital   bool `json:"digital"`
	// WidthCM and HeightCM are the maximum image size (0 when undefined, as
	// on projectors and many capture chips).
	WidthCM  int `json:"width_cm"`
	HeightCM int `json:"height_cm"`
	// MonitorName is the 0xFC descriptor without padding; MonitorNameRaw
	// keeps trailing spaces as the descriptor holds them (up to the 0x0A
	// terminator), the form edid-decode prints.
	MonitorName    string `json:"monitor_name,omitempty"`
	MonitorNameRaw string `json:"-"`
	// SerialText is the 0xFF descriptor (display product serial string).
	SerialText    string `json:"serial_text,omitempty"`
	SerialTextRaw string `json:"-"`
	// Text holds 0xFE (unspecified text) descriptors.
	Text []string `json:"text,omitempty"`
	// Extensions is the extension block count the base block declares.
	Extensions int `json:"extensions"`
	// ChecksumOK reports whether the base block sums to 0 mod 256.
	ChecksumOK bool `json:"checksum_ok"`
}

// Parse decodes the base block of raw EDID bytes. Only the first 128 bytes
// are examined; extension blocks may be absent or truncated.
func Parse(b []byte) (*EDID, error) {
	if len(b) == 0 {
		return nil, ErrNoEDID
	}
	if len(b) < BlockSize {
		return nil, fmt.Errorf("edid: %d bytes, need at least %d", len(b), BlockSize)
	}
	blk := b[:BlockSize]
	if !bytes.Equal(blk[:8], header) {
		return nil, fmt.Errorf("edid: bad header % x", blk[:8])
	}
	e := &EDID{}
	v := uint16(blk[8])<<8 | uint16(blk[9])
	e.Manufacturer = string([]byte{
		pnpLetter(byte(v >> 10 & 0x1f)),
		pnpLetter(byte(v >> 5 & 0x1f)),
		pnpLetter(byte(v & 0x1f)),
	})
	e.ProductCode = uint16(blk[10]) | uint16(blk[11])<<8
	e.Serial = uint32(blk[12]) | uint32(blk[13])<<8 | uint32(blk[14])<<16 | uint32(blk[15])<<24
	week, year := int(blk[16]), int(blk[17])
	e.Version, e.Revision = int(blk[18]), int(blk[19])
	switch {
	case week == 0xff:
		e.ModelYear = true
		e.Year = 1990 + year
	default:
		e.Week = week
		e.Year = 1990 + year
	}
	e.Digital = blk[20]&0x80 != 0
	e.WidthCM, e.HeightCM = int(blk[21]), int(blk[22])
	for i := 0; i < 4; i++ {
		d := blk[54+18*i : 54+18*(i+1)]
		if d[0] != 0 || d[1] != 0 || d[2] != 0 {
			continue // detailed timing
		}
		switch d[3] {
		case 0xfc:
			e.MonitorNameRaw = descriptorText(d[5:18])
			e.MonitorName = strings.TrimRight(e.MonitorNameRaw, " ")
		case 0xff:
			e.SerialTextRaw = descriptorText(d[5:18])
			e.SerialText = strings.TrimRight(e.SerialTextRaw, " ")
		case 0xfe:
			e.Text = append(e.Text, strings.TrimRight(descriptorText(d[5:18]), " "))
		}
	}
	e.Extensions = int(blk[126])
	var sum byte
	for _, c := range blk {
		sum += c
	}
	e.ChecksumOK = sum == 0
	return e, nil
}

func pnpLetter(c byte) byte {
	if c >= 1 && c <= 26 {
		return 'A' + c - 1
	}
	return '?'
}

// descriptorText returns a text descriptor's payload up to the 0x0A
// terminator, with non-printable bytes replaced by '.', so the result is
// always safe to log.
func descriptorText(p []byte) string {
	if i := bytes.IndexByte(p, 0x0a); i >= 0 {
		p = p[:i]
	}
	out := make([]byte, len(p))
	for i, c := range p {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

// Decode turns an EDID as stored in a file into raw bytes. It accepts raw
// binary (sysfs `edid`, .bin dumps) and hex text (.hex/.txt files, kvmd and
// ustreamer configs, edid-decode hex dumps): whitespace, "0x" prefixes,
// ':' and ',' separators are ignored and '#' starts a comment line.
func Decode(data []byte) ([]byte, error) {
	if len(data) == 0 {
		return nil, ErrNoEDID
	}
	if bytes.HasPrefix(data, header) {
		if len(data) > MaxSize {
			data = data[:MaxSize]
		}
		return append([]byte(nil), data...), nil
	}
	if !looksHex(data) {
		return nil, errors.New("edid: neither raw EDID (bad header) nor hex text")
	}
	var digits []byte
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case c == '0' && i+1 < len(line) && (line[i+1] == 'x' || line[i+1] == 'X'):
				i++
			case isHex(c):
				digits = append(digits, c)
			}
			if len(digits) > 2*MaxSize {
				return nil, fmt.Errorf("edid: hex text longer than %d bytes", MaxSize)
			}
		}
	}
	if len(digits)%2 != 0 {
		return nil, fmt.Errorf("edid: odd number of hex digits (%d)", len(digits))
	}
	out := make([]byte, len(digits)/2)
	for i := range out {
		out[i] = unhex(digits[2*i])<<4 | unhex(digits[2*i+1])
	}
	if len(out) == 0 {
		return nil, ErrNoEDID
	}
	return out, nil
}

func looksHex(data []byte) bool {
	inComment := false
	for _, c := range data {
		switch {
		case c == '\n':
			inComment = false
		case inComment:
		case c == '#':
			inComment = true
		case isHex(c), c == ' ', c == '\t', c == '\r', c == ':', c == ',', c == 'x', c == 'X':
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// Build assembles a valid 128-byte base block with the given identity (tests,
// fixtures). Name and serialText are truncated to 13 bytes.
func Build(mfg string, product uint16, serial uint32, week, year int, name, serialText string) []byte {
	b := make([]byte, BlockSize)
	copy(b, header)
	if len(mfg) == 3 {
		v := uint16(mfg[0]-'A'+1)<<10 | uint16(mfg[1]-'A'+1)<<5 | uint16(mfg[2]-'A'+1)
		b[8], b[9] = byte(v>>8), byte(v)
	}
	b[10], b[11] = byte(product), byte(product>>8)
	b[12], b[13], b[14], b[15] = byte(serial), byte(serial>>8), byte(serial>>16), byte(serial>>24)
	b[16] = byte(week)
	if year >= 1990 {
		b[17] = byte(year - 1990)
	}
	b[18], b[19] = 1, 4
	b[20] = 0xa5
	b[21], b[22] = 60, 34
	// A 1920x1080@60 detailed timing in descriptor 0.
	copy(b[54:72], []byte{0x02, 0x3a, 0x80, 0x18, 0x71, 0x38, 0x2d, 0x40, 0x58, 0x2c, 0x45, 0x00, 0x56, 0x50, 0x21, 0x00, 0x00, 0x1e})
	slot := 72
	put := func(tag byte, s string) {
		d := b[slot : slot+18]
		d[3] = tag
		p := d[5:18]
		for i := range p {
			p[i] = ' '
		}
		if len(s) > 13 {
			s = s[:13]
		}
		copy(p, s)
		if len(s) < 13 {
			p[len(s)] = 0x0a
		}
		slot += 18
	}
	if name != "" {
		put(0xfc, name)
	}
	if serialText != "" {
		put(0xff, serialText)
	}
	for slot < 126 {
		d := b[slot : slot+18]
		d[3] = 0x10 // dummy descriptor
		slot += 18
	}
	var sum byte
	for _, c := range b[:127] {
		sum += c
	}
	b[127] = byte(-int(sum))
	return b
}
