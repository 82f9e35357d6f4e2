// Package correlate extracts fleet-wide indicators from findings: values that
// should be unique to one machine or one operator, such as a KVM's USB serial,
// a monitor's EDID serial, a remote peer address or relay, or a remote-desktop
// id (AnyDesk, RustDesk, TeamViewer). The collector records which hosts report
// each indicator; one seen on two or more hosts points at shared laptop-farm
// infrastructure, which no single endpoint can see.
package correlate

import (
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/farmwatch/farmwatch/internal/report"
)

// Indicator kinds.
const (
	KindUSBSerial  = "usb_serial"
	KindEDIDSerial = "edid_serial"
	KindPeer       = "peer"
	KindRelay      = "relay"
	KindRemoteID   = "remote_id"
)

// evidenceKinds maps an evidence key to the indicator kind it feeds.
var evidenceKinds = map[string]string{
	"usb_serial":  KindUSBSerial,
	"edid_serial": KindEDIDSerial,
	"peer":        KindPeer,
	"remote_addr": KindPeer,
	"relay":       KindRelay,
	"remote_id":   KindRemoteID,
}

// Indicator is one correlatable value.
type Indicator struct {
	Kind  string
	Value string
}

// String renders kind=value.
func (i Indicator) String() string { return i.Kind + "=" + i.Value }

// Describe names an indicator for people.
func Describe(kind, value, tool string) string {
	switch kind {
	case KindUSBSerial:
		return fmt.Sprintf("USB serial %q", value)
	case KindEDIDSerial:
		return fmt.Sprintf("EDID serial %q", value)
	case KindPeer:
		return fmt.Sprintf("remote peer %s", value)
	case KindRelay:
		return fmt.Sprintf("relay %s", value)
	case KindRemoteID:
		if tool != "" {
			return fmt.Sprintf("%s id %s", tool, value)
		}
		return fmt.Sprintf("remote-desktop id %s", value)
	}
	return kind + " " + value
}

// Indicators returns the finding's indicators, normalised (trimmed,
// lowercased, ports stripped from addresses), sorted and without duplicates.
// Allowlisted findings yield none. Placeholder values ("0", "unknown", short
// strings) and loopback or unspecified addresses are skipped: they are the
// same everywhere and would correlate unrelated hosts.
func Indicators(f report.Finding) []Indicator {
	if f.Allowed || len(f.Evidence) == 0 {
		return nil
	}
	seen := map[Indicator]bool{}
	for key, v := range f.Evidence {
		kind, ok := evidenceKinds[key]
		if !ok {
			continue
		}
		for _, raw := range values(v) {
			val := normalise(kind, raw)
			if val == "" {
				continue
			}
			if kind == KindRemoteID && f.Tool != "" {
				val = f.Tool + ":" + val // ids are only unique within one product
			}
			seen[Indicator{kind, val}] = true
		}
	}
	out := make([]Indicator, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].String() < out[b].String() })
	return out
}

func values(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case float64:
		return []string{fmt.Sprintf("%.0f", x)}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, values(e)...)
		}
		return out
	case []string:
		return x
	}
	return nil
}

var placeholders = map[string]bool{"0": true, "unknown": true, "none": true, "n/a": true, "null": true, "default": true, "0123456789": true, "000000000000": true}

func normalise(kind, s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if kind == KindPeer || kind == KindRelay {
		if h, _, err := net.SplitHostPort(s); err == nil {
			s = h
		}
		s = strings.Trim(s, "[]")
		if ip := net.ParseIP(s); ip != nil {
			if ip.IsLoopback() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() {
				return ""
			}
			return ip.String()
		}
	}
	if len(s) < 3 || placeholders[s] || len(s) > 256 {
		return ""
	}
	return s
}
