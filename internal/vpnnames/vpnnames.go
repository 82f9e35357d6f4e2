// Package vpnnames is the one shared list of consumer VPN and proxy service
// names (DNS suffixes), used by the traffic engine (SNI, HTTP Host, DNS) and
// by the tunnel detector (server names in command lines). The list, with its
// source and licence, is vpnnames.tsv.
package vpnnames

import (
	_ "embed"
	"strings"
)

// TSV is the raw list: tool, display, category, suffix per line.
//
//go:embed vpnnames.tsv
var TSV string

// Entry is one suffix of the list.
type Entry struct {
	Tool, Display, Category, Suffix string
}

// Entries is the parsed list; malformed lines are skipped (the list is
// embedded and tested).
var Entries = parse(TSV)

func parse(list string) []Entry {
	var out []Entry
	for _, line := range strings.Split(list, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[0] == "" || f[3] == "" {
			continue
		}
		out = append(out, Entry{f[0], f[1], f[2], strings.ToLower(f[3])})
	}
	return out
}

// Match returns the entry whose suffix is the name itself or a parent
// domain of it, the longest such suffix winning.
func Match(name string) (Entry, bool) {
	name = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	var best Entry
	ok := false
	for _, e := range Entries {
		s := e.Suffix
		if len(s) > len(best.Suffix) && strings.HasSuffix(name, s) && (len(name) == len(s) || name[len(name)-len(s)-1] == '.') {
			best, ok = e, true
		}
	}
	return best, ok
}
