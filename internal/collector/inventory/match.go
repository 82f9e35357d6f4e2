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

// Match pairs inventory rows with hosts: by serial number, then by
// hostname (only when the name is unique on both sides), then by host id.
// Each row and each host is used at most once.
func Match(recs []Record, hosts []Host) Matching {
	var out Matching
	usedRec := make([]bool, len(recs))
	usedHost := make([]bool, len(hosts))
	pass := func(by string, rkey func(Record) string, hkey func(Host) string, unique bool) {
		rIdx := map[string][]int{}
		for i, r := range recs {
			if k := rkey(r); k != "" && !usedRec[i] {
				rIdx[k] = append(rIdx[k], i)
			}
		}
		hIdx := map[string][]int{}
		for j, h := range hosts {
			if k := hkey(h); k != "" && !usedHost[j] {
				hIdx[k] = append(hIdx[k], j)
			}
		}
		for j, h := range hosts {
			if usedHost[j] {
				continue
			}
			k := hkey(h)
			if k == "" {
				continue
			}
			rs := rIdx[k]
			if len(rs) == 0 || (unique && (len(rs) > 1 || len(hIdx[k]) > 1)) {
				continue
			}
			i := -1
			for _, c := range rs {
				if !usedRec[c] {
					i = c
					break
				}
			}
			if i < 0 {
				continue
			}
			usedRec[i], usedHost[j] = true, true
			out.Matched = append(out.Matched, Matched{Host: h, By: by, Record: recs[i]})
		}
	}
	pass(BySerial, func(r Record) string { return SerialKey(r.Serial) }, func(h Host) string { return SerialKey(h.Serial) }, false)
	pass(ByHostname, func(r Record) string { return NameKey(r.DeviceName) }, func(h Host) string { return NameKey(h.Name) }, true)
	pass(ByHostID, func(r Record) string { return r.HostID }, func(h Host) string { return h.ID }, false)
	for i, r := range recs {
		if !usedRec[i] {
			out.UnmatchedRecords = append(out.UnmatchedRecords, r)
		}
	}
	for j, h := range hosts {
		if !usedHost[j] {
			out.UnmatchedHosts = append(out.UnmatchedHosts, h)
		}
	}
	return out
}
