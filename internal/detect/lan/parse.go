package lan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on what is read.
const (
	maxNeighbors  = 4096
	maxLine       = 1024
	maxString     = 128
	maxSmallFile  = 4 << 20
	maxTitleBytes = 64 << 10
)

// Neighbor is one entry of the ARP / neighbour table.
type Neighbor struct {
	IP        string `json:"ip"`
	MAC       string `json:"mac"`
	Interface string `json:"interface,omitempty"`
	State     string `json:"state,omitempty"`
}

// normMAC returns the MAC as upper-case colon-separated "XX:XX:XX:XX:XX:XX"
// (accepting "-" separators and macOS's dropped leading zeros), or "" when
// it is not a usable unicast 48-bit address.
func normMAC(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "-", ":")
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return ""
	}
	var b [6]byte
	for i, p := range parts {
		if len(p) == 0 || len(p) > 2 {
			return ""
		}
		var v byte
		for _, c := range []byte(p) {
			var d byte
			switch {
			case c >= '0' && c <= '9':
				d = c - '0'
			case c >= 'a' && c <= 'f':
				d = c - 'a' + 10
			case c >= 'A' && c <= 'F':
				d = c - 'A' + 10
			default:
				return ""
			}
			v = v<<4 | d
		}
		b[i] = v
	}
	if b == [6]byte{} || b[0]&1 == 1 { // all-zero (incomplete) or multicast/broadcast
		return ""
	}
	return strings.ToUpper(net.HardwareAddr(b[:]).String())
}

// normIP returns the canonical form of an IP, "" when invalid.
func normIP(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '%'); i >= 0 {
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	return a.Unmap().String()
}

func lines(b []byte) *bufio.Scanner {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	return sc
}

// parseProcARP parses Linux /proc/net/arp:
//
//	IP address       HW type     Flags       HW address            Mask     Device
//	192.168.1.1      0x1         0x2         aa:bb:cc:dd:ee:ff     *        eth0
func parseProcARP(b []byte) []Neighbor {
	var out []Neighbor
	sc := lines(b)
	for sc.Scan() && len(out) < maxNeighbors {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[0] == "IP" {
			continue
		}
		ip, mac := normIP(f[0]), normMAC(f[3])
		if ip == "" || mac == "" || f[2] == "0x0" { // 0x0: incomplete
			continue
		}
		out = append(out, Neighbor{IP: ip, MAC: mac, Interface: clean(f[5])})
	}
	return out
}

// parseIPNeigh parses `ip neigh show` output:
//
//	fe80::1 dev eth0 lladdr aa:bb:cc:dd:ee:ff router REACHABLE
func parseIPNeigh(b []byte) []Neighbor {
	var out []Neighbor
	sc := lines(b)
	for sc.Scan() && len(out) < maxNeighbors {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		n := Neighbor{IP: normIP(f[0])}
		for i := 1; i+1 < len(f); i++ {
			switch f[i] {
			case "dev":
				n.Interface = clean(f[i+1])
			case "lladdr":
				n.MAC = normMAC(f[i+1])
			}
		}
		last := f[len(f)-1]
		if last == "FAILED" || last == "INCOMPLETE" {
			continue
		}
		n.State = clean(last)
		if n.IP != "" && n.MAC != "" {
			out = append(out, n)
		}
	}
	return out
}

// parseDarwinARP parses macOS `arp -an` output:
//
//	? (192.168.1.1) at 0:11:22:3:44:55 on en0 ifscope [ethernet]
//	? (192.168.1.9) at (incomplete) on en0 ifscope [ethernet]
func parseDarwinARP(b []byte) []Neighbor {
	var out []Neighbor
	sc := lines(b)
	for sc.Scan() && len(out) < maxNeighbors {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[2] != "at" {
			continue
		}
		ip := normIP(strings.Trim(f[1], "()"))
		mac := normMAC(f[3])
		if ip == "" || mac == "" {
			continue
		}
		n := Neighbor{IP: ip, MAC: mac}
		if len(f) >= 6 && f[4] == "on" {
			n.Interface = clean(f[5])
		}
		out = append(out, n)
	}
	return out
}

// parseNeighborsJSON reads neighbors.json (Windows, macOS, Linux IPv6) and
// keeps only well-formed entries.
func parseNeighborsJSON(b []byte) ([]Neighbor, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var raw []Neighbor
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("neighbors.json: %w", err)
	}
	var out []Neighbor
	for _, n := range raw {
		if len(out) >= maxNeighbors {
			break
		}
		n.IP, n.MAC = normIP(n.IP), normMAC(n.MAC)
		if n.IP == "" || n.MAC == "" {
			continue
		}
		n.Interface, n.State = clean(n.Interface), clean(n.State)
		out = append(out, n)
	}
	return out, nil
}

// parseTitle returns the text of the first <title> element of an HTML
// page (case-insensitive, entities decoded, whitespace collapsed, bounded).
func parseTitle(b []byte) string {
	if len(b) > maxTitleBytes {
		b = b[:maxTitleBytes]
	}
	l := bytes.ToLower(b)
	i := bytes.Index(l, []byte("<title"))
	if i < 0 {
		return ""
	}
	j := bytes.IndexByte(l[i:], '>')
	if j < 0 {
		return ""
	}
	start := i + j + 1
	end := bytes.Index(l[start:], []byte("</title"))
	if end < 0 {
		return ""
	}
	return clean(html.UnescapeString(string(b[start : start+end])))
}

// clean makes a hostile string safe to report: valid UTF-8, no control
// characters, whitespace collapsed, at most maxString runes.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	var b strings.Builder
	n := 0
	space := false
	for _, r := range s {
		if n >= maxString {
			break
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if !unicode.IsPrint(r) {
			r = '?'
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
