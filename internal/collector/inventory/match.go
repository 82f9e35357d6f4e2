package inventory

import "strings"

// Host is what the collector knows of a host for matching.
type Host struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Serial string `json:"serial,omitempty"`
}

// Match ways, strongest first.
const (
	BySerial   = "serial"
	ByHostname = "hostname"
	ByHostID   = "host_id"
)

// Matched is a host with its inventory row.
type Matched struct {
	Host   Host   `json:"host"`
	By     string `json:"by"`
	Record Record `json:"record"`
}

// Matching is the outcome of matching an inventory to the hosts.
type Matching struct {
	Matched []Matched `json:"matched"`
	// UnmatchedRecords are devices in the inventory no host reports as
	// (not enrolled, or the agent is not installed).
	UnmatchedRecords []Record `json:"unmatched_records"`
	// UnmatchedHosts are hosts with an agent the inventory does not list.
	UnmatchedHosts []Host `json:"unmatched_hosts"`
}

// placeholderSerials are what firmware reports when nobody set a serial;
// they identify no machine.
var placeholderSerials = map[string]bool{
	"": true, "0": true, "00000000": true, "0123456789": true, "123456789": true, "none": true, "n/a": true, "na": true,
	"default string": true, "to be filled by o.e.m.": true, "system serial number": true, "not specified": true,
	"not applicable": true, "chassis serial number": true, "serial number": true, "unknown": true, "invalid": true,
}

// SerialKey normalises a serial number for matching; "" for placeholders.
func SerialKey(s string) string {
	s = strings.TrimSpace(s)
	if placeholderSerials[strings.ToLower(s)] {
		return ""
	}
	return strings.ToUpper(s)
}

// NameKey normalises a hostname: lower case, without the domain.
func NameKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexByte(s, '.'); i > 0 {
		s = s[:i]
	}
	return s
}

// Index finds a host's inventory row.
type Index struct {
	recs   []Record
	serial map[string]int
	name   map[string][]int
	id     map[string]int
}

// NewIndex indexes rows by serial, hostname and host id.
func NewIndex(recs []Record) *Index {
	x := &Index{recs: recs, serial: map[string]int{}, name: map[string][]int{}, id: map[string]int{}}
	for i, r := range recs {
		if k := SerialKey(r.Serial); k != "" {
			if _, dup := x.serial[k]; !dup {
				x.serial[k] = i
			}
		}
		if k := NameKey(r.DeviceName); k != "" {
			x.name[k] = append(x.name[k], i)
		}
		if r.HostID != "" {
			if _, dup := x.id[r.HostID]; !dup {
				x.id[r.HostID] = i
			}
		}
	}
	return x
}

// Lookup returns the row of a host: by serial number, then by hostname
// (only when one row has that name), then by host id; -1 when none.
func (x *Index) Lookup(h Host) (int, string) {
	if i, ok := x.serial[SerialKey(h.Serial)]; ok && SerialKey(h.Serial) != "" {
		return i, BySerial
	}
	if is := x.name[NameKey(h.Name)]; len(is) == 1 && NameKey(h.Name) != "" {
		return is[0], ByHostname
	}
	if i, ok := x.id[h.ID]; ok && h.ID != "" {
		return i, ByHostID
	}
	return -1, ""
}

// Match pairs hosts with inventory rows (Index.Lookup); a row may belong to
// several hosts (an agent reinstalled under a new host id on the same
// laptop). Rows no host matched and hosts without a row are listed.
func Match(recs []Record, hosts []Host) Matching {
	out := Matching{Matched: []Matched{}, UnmatchedRecords: []Record{}, UnmatchedHosts: []Host{}}
	x := NewIndex(recs)
	used := make([]bool, len(recs))
	for _, h := range hosts {
		i, by := x.Lookup(h)
		if i < 0 {
			out.UnmatchedHosts = append(out.UnmatchedHosts, h)
			continue
		}
		used[i] = true
		out.Matched = append(out.Matched, Matched{Host: h, By: by, Record: recs[i]})
	}
	for i, r := range recs {
		if !used[i] {
			out.UnmatchedRecords = append(out.UnmatchedRecords, r)
		}
	}
	return out
}
