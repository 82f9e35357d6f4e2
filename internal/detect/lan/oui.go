package lan

import "strings"

// ouiInfo describes one MAC prefix the detector knows.
type ouiInfo struct {
	Vendor string
	// Kind is "kvm" (a maker whose boards are IP-KVMs or carry IP-KVM
	// software) or "laptop" (a laptop maker, for farm density).
	Kind string
	// Verified is true when the assignment was checked in more than one
	// independent public OUI table; false marks an inferred entry.
	Verified bool
}

// ouis maps the upper-case "XX:XX:XX" prefix to what it is. See docs/lan.md
// for sources.
var ouis = map[string]ouiInfo{
	// Raspberry Pi (PiKVM, TinyPilot, BliKVM and DIY KVMs run on them).
	"B8:27:EB": {"Raspberry Pi Foundation", "kvm", true},
	"DC:A6:32": {"Raspberry Pi Trading Ltd", "kvm", true},
	"E4:5F:01": {"Raspberry Pi Trading Ltd", "kvm", true},
	"D8:3A:DD": {"Raspberry Pi Ltd", "kvm", true},
	"28:CD:C1": {"Raspberry Pi Trading Ltd", "kvm", false},
	"2C:CF:67": {"Raspberry Pi Ltd", "kvm", false},
	// GL.iNet (GL Technologies (Hong Kong) Limited): Comet / GLKVM.
	"94:83:C4": {"GL Technologies (Hong Kong) Limited", "kvm", true},
	"E4:95:6E": {"GL.iNet (reported)", "kvm", false},

	// Laptop makers (farm density only). Small, inferred sample of each
	// maker's blocks; anything not listed is simply not counted.
	"00:03:93": {"Apple", "laptop", false},
	"00:1C:B3": {"Apple", "laptop", false},
	"00:1E:C2": {"Apple", "laptop", false},
	"00:25:BC": {"Apple", "laptop", false},
	"3C:06:30": {"Apple", "laptop", false},
	"A4:83:E7": {"Apple", "laptop", false},
	"C8:4B:D6": {"Dell", "laptop", false},
	"A4:4C:C8": {"Dell", "laptop", false},
	"C0:25:A5": {"Dell", "laptop", false},
}

// lookupOUI returns what the prefix of a normalized MAC is, if known.
func lookupOUI(mac string) (ouiInfo, bool) {
	if len(mac) < 8 {
		return ouiInfo{}, false
	}
	o, ok := ouis[strings.ToUpper(mac[:8])]
	return o, ok
}

// kvmKeywords map words found in mDNS names/services and web titles to a
// tool id. Order matters: the first match wins.
var kvmKeywords = []struct{ word, tool string }{
	{"pikvm", "pikvm"},
	{"tinypilot", "tinypilot"},
	{"glkvm", "glinet-comet"},
	{"gl-kvm", "glinet-comet"},
	{"jetkvm", "jetkvm"},
	{"nanokvm", "nanokvm"},
	{"blikvm", "blikvm"},
	{"ipkvm", "ip-kvm"},
	{"ip-kvm", "ip-kvm"},
}

// kvmTool returns the tool id a text names, "" when none.
func kvmTool(s string) string {
	l := strings.ToLower(s)
	for _, k := range kvmKeywords {
		if strings.Contains(l, k.word) {
			return k.tool
		}
	}
	return ""
}
