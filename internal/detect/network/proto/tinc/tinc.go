// Package tinc recognises the opening of tinc's meta protocol (TCP port
// 655 by default): each side's first line is the plaintext ID request
// "0 <name> <major>[.<minor>]" (major 17; tinc 1.1 adds a minor version
// and continues in SPTPS when the minor is ≥ 2), tinc 1.0 then sends a
// "1 …" METAKEY line of hex.
package tinc

import (
	"bytes"
	"errors"
	"strconv"
)

// ErrNotTinc means the bytes do not start with a tinc ID line.
var ErrNotTinc = errors.New("not a tinc ID request")

// ID is a parsed ID request.
type ID struct {
	Name         string
	Major, Minor int
	// MetaKey is set when a METAKEY ("1 …") line follows (tinc 1.0 and
	// 1.1 in legacy mode).
	MetaKey bool
}

// Parse reads the ID line at the start of one direction's stream.
func Parse(b []byte) (ID, error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 || i > 200 {
		return ID{}, ErrNotTinc
	}
	f := bytes.Fields(b[:i])
	if len(f) != 3 || string(f[0]) != "0" || len(f[1]) > 64 {
		return ID{}, ErrNotTinc
	}
	// Node names: letters, digits and underscores (tinc's check_id); a
	// control connection uses "^<cookie>".
	for _, c := range f[1] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '^') {
			return ID{}, ErrNotTinc
		}
	}
	maj, min, dot := bytes.Cut(f[2], []byte("."))
	id := ID{Name: string(f[1])}
	var err error
	if id.Major, err = strconv.Atoi(string(maj)); err != nil || id.Major != 17 {
		return ID{}, ErrNotTinc
	}
	if dot {
		if id.Minor, err = strconv.Atoi(string(min)); err != nil || id.Minor < 0 || id.Minor > 99 {
			return ID{}, ErrNotTinc
		}
	}
	rest := b[i+1:]
	id.MetaKey = bytes.HasPrefix(rest, []byte("1 "))
	return id, nil
}
