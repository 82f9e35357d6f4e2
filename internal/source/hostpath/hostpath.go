// Package hostpath hands out the paths of an operating-system tree under a
// configurable root, the way node_exporter's procFilePath/sysFilePath do:
// the live host is root "/" (or ""), a recorded or fixture tree is any
// other directory, and every reader asks a Root for its paths instead of
// joining strings itself.
package hostpath

import (
	"path/filepath"
	"strings"
)

// Root is the root of an OS tree: "" or "/" (and on Windows `\` or `C:\`)
// for this host, a directory holding a copy of one otherwise.
type Root string

// Live reports whether r is this host's own root.
func (r Root) Live() bool {
	switch r {
	case "", "/", `\`, `C:\`, `c:\`:
		return true
	}
	return false
}

// Dir is the root as a directory ("/" for the live root).
func (r Root) Dir() string {
	if r == "" {
		return "/"
	}
	return string(r)
}

// Path maps an absolute path of the host (/usr/bin/x, C:\Program Files\x)
// into the tree: unchanged for the live root, joined under the root
// otherwise (a Windows drive letter is dropped and backslashes become
// separators, so a Windows tree recorded on disk is read on any OS).
func (r Root) Path(p string) string {
	if r.Live() {
		return p
	}
	if len(p) >= 2 && p[1] == ':' && isLetter(p[0]) {
		p = p[2:]
	}
	p = strings.ReplaceAll(p, `\`, "/")
	return filepath.Join(string(r), filepath.FromSlash(p))
}

// File joins slash-separated elements under the root: File("proc/net/arp").
func (r Root) File(elem ...string) string {
	return filepath.Join(append([]string{r.Dir()}, slashed(elem)...)...)
}

// Proc is a path under the root's procfs: Proc("net", "route").
func (r Root) Proc(elem ...string) string { return r.File(append([]string{"proc"}, elem...)...) }

// Sys is a path under the root's sysfs: Sys("class", "net").
func (r Root) Sys(elem ...string) string { return r.File(append([]string{"sys"}, elem...)...) }

// Etc is a path under the root's /etc.
func (r Root) Etc(elem ...string) string { return r.File(append([]string{"etc"}, elem...)...) }

func slashed(elem []string) []string {
	out := make([]string, len(elem))
	for i, e := range elem {
		out[i] = filepath.FromSlash(e)
	}
	return out
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
