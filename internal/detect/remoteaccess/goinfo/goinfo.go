// Package goinfo reads the build information the Go linker embeds in every
// Go executable (ELF, PE or Mach-O): the import path of the main package and
// its module. A renamed or moved copy of a Go tool (ngrok, xray, sing-box,
// frp, chisel, cloudflared) keeps it, so it identifies the tool by content.
//
// Executables are untrusted input: reads go through a ReaderAt bounded by
// the file size and by a total byte budget, so a hostile file costs at most
// the budget and yields an error, never a panic.
package goinfo

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DefaultBudget is the most bytes Read reads from one executable: headers,
// the section table and the .go.buildinfo data (or, for a non-Go file, the
// search of its first data segment).
const DefaultBudget = 8 << 20

// ErrBudget is returned when reading the build info would need more bytes
// than the budget allows.
var ErrBudget = errors.New("goinfo: read budget exhausted")

// Info is what a Go executable says about how it was built.
type Info struct {
	// Path is the import path of the main package
	// ("github.com/xtls/xray-core/main").
	Path string
	// Module is the main module's path ("github.com/xtls/xray-core") and
	// Version its version ("v1.260327.0", "(devel)").
	Module  string
	Version string
	// GoVersion is the toolchain that built it ("go1.26.8").
	GoVersion string
}

// Read reads the build info of the executable in r (size bytes), reading
// at most budget bytes (DefaultBudget when budget <= 0).
func Read(r io.ReaderAt, size, budget int64) (Info, error) {
	if budget <= 0 {
		budget = DefaultBudget
	}
	br := &boundedReaderAt{r: r, size: size, left: budget}
	bi, err := buildinfo.Read(br)
	if br.exhausted {
		return Info{}, ErrBudget
	}
	if err != nil {
		return Info{}, fmt.Errorf("go build info: %w", err)
	}
	return Info{Path: bi.Path, Module: bi.Main.Path, Version: bi.Main.Version, GoVersion: bi.GoVersion}, nil
}

// Matches reports whether the build info belongs to module or package path
// want: the main module is want, or the main package is want or lies under
// it inside the main module. Dependencies never match (a program that
// merely links sing-box is not sing-box), nor does a parent of the main
// module ("github.com/xtls" is not xray).
func (i Info) Matches(want string) bool {
	want = strings.TrimSuffix(strings.TrimSpace(want), "/")
	if want == "" {
		return false
	}
	if i.Module == want || i.Path == want {
		return true
	}
	inModule := i.Module != "" && strings.HasPrefix(want, i.Module+"/")
	return inModule && strings.HasPrefix(i.Path, want+"/")
}

// boundedReaderAt refuses reads past size and stops once budget bytes were
// read in total.
type boundedReaderAt struct {
	r         io.ReaderAt
	size      int64
	left      int64
	exhausted bool
}

func (b *boundedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("goinfo: negative offset")
	}
	if off >= b.size {
		return 0, io.EOF
	}
	if rest := b.size - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	if int64(len(p)) > b.left {
		b.exhausted = true
		return 0, ErrBudget
	}
	n, err := b.r.ReadAt(p, off)
	b.left -= int64(n)
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}
