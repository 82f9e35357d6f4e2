// Package macnet reads the network a macOS host is attached to without cgo
// and without parsing `netstat`/`arp`: the default gateway and the ARP table
// from the kernel routing table, dumped through the route sysctls
// ({CTL_NET, PF_ROUTE, 0, AF_INET, NET_RT_DUMP, 0} and
// {…, NET_RT_FLAGS, RTF_LLINFO}, what `netstat -rn` and `arp -an` read), and
// the Wi-Fi association from `ipconfig getsummary <interface>`.
//
// The parsers are pure Go without build constraints, so the binary layout is
// tested and fuzzed on any OS with buffers that testdata/gen/gen.c builds
// from XNU's own struct definitions; only the sysctl and the ipconfig run
// (live_darwin.go) are darwin-only, and they hand their raw output to these
// parsers.
//
// # Buffer layout
//
// XNU's sysctl_dumpentry (bsd/net/rtsock.c) writes, per route, a struct
// rt_msghdr (92 bytes; rtm_msglen u16 at 0, rtm_version u8 at 2 = RTM_VERSION
// 5, rtm_type u8 at 3, rtm_index u16 at 4, rtm_flags i32 at 8, rtm_addrs i32
// at 12, rtm_rmx.rmx_expire i32 at 48) followed by one sockaddr per bit of
// rtm_addrs in RTAX order (RTA_DST, RTA_GATEWAY, RTA_NETMASK, RTA_GENMASK,
// RTA_IFP, RTA_IFA, RTA_AUTHOR, RTA_BRD), each starting with its sa_len and
// sa_family and taking ROUNDUP32(sa_len) bytes (4 for a zero sa_len, as the
// all-zero netmask of a default route is). A sockaddr_in carries the IPv4
// address at 4; netmasks are cut after their last non-zero byte. A
// sockaddr_dl (AF_LINK 18) has sdl_index u16 at 2, sdl_nlen at 5, sdl_alen at
// 6 and the interface name then the link-layer address from 8. Integers are
// little-endian (x86_64 and arm64 Macs).
package macnet

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/farmwatch/farmwatch/internal/source/neighbour"
)

// Layout and constants of bsd/net/route.h, bsd/net/if_dl.h and
// bsd/sys/socket.h (testdata/layout.json, from gen.c, repeats them).
const (
	RtMsghdrSize = 92
	offMsglen    = 0
	offVersion   = 2
	offType      = 3
	offIndex     = 4
	offFlags     = 8
	offAddrs     = 12
	offExpire    = 48
	rtmVersion   = 5
	rtmGet       = 4
	sdlIndex     = 2
	sdlNlen      = 5
	sdlAlen      = 6
	sdlData      = 8
	afInet       = 2
	afLink       = 18
	rtaxMax      = 8

	RTFGateway   = 0x2
	RTFLLInfo    = 0x400
	RTFBroadcast = 0x400000
	RTFMulticast = 0x800000
	RTFIfScope   = 0x1000000
)

// RTAX indices.
const (
	RTAXDst     = 0
	RTAXGateway = 1
	RTAXNetmask = 2
)

// MaxMessages bounds the messages parsed from one dump.
const MaxMessages = 1 << 16

// Sockaddr is one decoded address of a routing message.
type Sockaddr struct {
	Present bool
	Family  uint8
	Len     uint8
	// Raw holds the sockaddr's bytes after sa_len and sa_family, as long as
	// sa_len says (a netmask is cut after its last non-zero byte).
	Raw []byte
}

// IPv4 returns the address of an AF_INET sockaddr (missing trailing bytes
// are zero) and whether it is one.
func (s Sockaddr) IPv4() (netip.Addr, bool) {
	if !s.Present || s.Family != afInet {
		return netip.Addr{}, false
	}
	var a [4]byte
	if len(s.Raw) > 2 {
		copy(a[:], s.Raw[2:])
	}
	return netip.AddrFrom4(a), true
}

// Zero reports whether the sockaddr is absent or all its address bytes are
// zero (a default route's netmask).
func (s Sockaddr) Zero() bool {
	for _, b := range s.Raw {
		if b != 0 {
			return false
		}
	}
	return true
}

// Link returns the interface index and link-layer address of an AF_LINK
// sockaddr (sockaddr_dl); ok is false for any other.
func (s Sockaddr) Link() (index uint16, mac net.HardwareAddr, ok bool) {
	if !s.Present || s.Family != afLink || len(s.Raw) < sdlData-2 {
		return 0, nil, false
	}
	index = binary.LittleEndian.Uint16(s.Raw[sdlIndex-2:])
	nlen, alen := int(s.Raw[sdlNlen-2]), int(s.Raw[sdlAlen-2])
	start := sdlData - 2 + nlen
	if alen > 0 && start+alen <= len(s.Raw) {
		mac = net.HardwareAddr(bytes.Clone(s.Raw[start : start+alen]))
	}
	return index, mac, true
}

// Message is one rt_msghdr with its addresses.
type Message struct {
	Type   uint8
	Index  uint16
	Flags  uint32
	Expire int32
	Addrs  [rtaxMax]Sockaddr
}

// ErrTruncated is wrapped when a message runs past the buffer.
var ErrTruncated = errors.New("routing message truncated")

// ParseMessages parses a NET_RT_DUMP / NET_RT_FLAGS sysctl buffer. Messages
// of another version are skipped (by their rtm_msglen); a message that runs
// past the buffer ends the walk with ErrTruncated and what was parsed.
func ParseMessages(b []byte) ([]Message, error) {
	var out []Message
	for len(b) > 0 {
		if len(b) < 4 {
			return out, fmt.Errorf("macnet: %d trailing bytes: %w", len(b), ErrTruncated)
		}
		l := int(binary.LittleEndian.Uint16(b[offMsglen:]))
		if l < 4 || l > len(b) {
			return out, fmt.Errorf("macnet: rtm_msglen %d with %d bytes left: %w", l, len(b), ErrTruncated)
		}
		m, rest := b[:l], b[l:]
		b = rest
		if m[offVersion] != rtmVersion || l < RtMsghdrSize {
			continue
		}
		if len(out) >= MaxMessages {
			return out, fmt.Errorf("macnet: more than %d routing messages", MaxMessages)
		}
		msg := Message{
			Type:   m[offType],
			Index:  binary.LittleEndian.Uint16(m[offIndex:]),
			Flags:  binary.LittleEndian.Uint32(m[offFlags:]),
			Expire: int32(binary.LittleEndian.Uint32(m[offExpire:])),
		}
		addrs := binary.LittleEndian.Uint32(m[offAddrs:])
		p := m[RtMsghdrSize:]
		for i := 0; i < rtaxMax; i++ {
			if addrs&(1<<i) == 0 {
				continue
			}
			if len(p) == 0 {
				break
			}
			sl := int(p[0])
			step := 4
			if sl > 0 {
				step = 1 + ((sl - 1) | 3)
			}
			sa := Sockaddr{Present: true, Len: uint8(sl)}
			if sl >= 2 && sl <= len(p) {
				sa.Family = p[1]
				sa.Raw = bytes.Clone(p[2:sl])
			} else if sl > len(p) {
				break
			}
			msg.Addrs[i] = sa
			if step > len(p) {
				p = nil
			} else {
				p = p[step:]
			}
		}
		out = append(out, msg)
	}
	return out, nil
}

// DefaultGateway returns the interface index and gateway of the IPv4
// default route: destination 0.0.0.0 with an all-zero (or absent) netmask,
// RTF_GATEWAY and an AF_INET gateway. The primary (unscoped) default wins
// over the per-interface scoped ones (RTF_IFSCOPE) macOS keeps for every
// other service; among equals the first in table order.
func DefaultGateway(msgs []Message) (index uint16, gw netip.Addr, ok bool) {
	scoped := false
	for _, m := range msgs {
		if m.Flags&RTFGateway == 0 {
			continue
		}
		dst, isV4 := m.Addrs[RTAXDst].IPv4()
		if !isV4 || !dst.IsUnspecified() || !m.Addrs[RTAXNetmask].Zero() {
			continue
		}
		g, isV4 := m.Addrs[RTAXGateway].IPv4()
		if !isV4 || g.IsUnspecified() {
			continue
		}
		s := m.Flags&RTFIfScope != 0
		if !ok || scoped && !s {
			index, gw, ok, scoped = m.Index, g, true, s
		}
	}
	return index, gw, ok
}

// ARPEntry is one complete entry of the ARP table.
type ARPEntry struct {
	Index uint16
	IP    netip.Addr
	MAC   net.HardwareAddr
}

// ARP returns the complete unicast entries (RTF_LLINFO with a six-byte
// link-layer gateway) of a NET_RT_FLAGS RTF_LLINFO dump, leaving out
// incomplete entries (no address yet), broadcast and multicast ones
// (RTF_BROADCAST, RTF_MULTICAST, group MACs, multicast or broadcast IPs).
func ARP(msgs []Message) []ARPEntry {
	var out []ARPEntry
	for _, m := range msgs {
		if m.Flags&RTFLLInfo == 0 || m.Flags&(RTFBroadcast|RTFMulticast) != 0 {
			continue
		}
		ip, isV4 := m.Addrs[RTAXDst].IPv4()
		if !isV4 || ip.IsMulticast() || ip.IsUnspecified() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			continue
		}
		idx, mac, isLink := m.Addrs[RTAXGateway].Link()
		if !isLink || len(mac) != 6 || mac[0]&1 == 1 || bytes.Equal(mac, make([]byte, 6)) {
			continue
		}
		if idx == 0 {
			idx = m.Index
		}
		out = append(out, ARPEntry{Index: idx, IP: ip, MAC: mac})
	}
	return out
}

// GatewayAndNeighbours returns the MAC of gw on interface index and the
// MACs of every ARP entry on that interface, sorted and each once.
func GatewayAndNeighbours(arp []ARPEntry, index uint16, gw netip.Addr) (gwMAC string, macs []string) {
	var es []neighbour.Entry
	for _, e := range arp {
		if e.Index == index {
			es = append(es, neighbour.Entry{Addr: e.IP, MAC: e.MAC.String()})
		}
	}
	return neighbour.GatewayAndLAN(es, gw)
}

// Summary is what `ipconfig getsummary <interface>` says about Wi-Fi.
type Summary struct {
	WiFi          bool // InterfaceType : WiFi
	SSID, BSSID   string
	SSIDRedacted  bool // SSID : <redacted>
	BSSIDRedacted bool // BSSID : <redacted>
}

// Redacted is the placeholder macOS prints for withheld values.
const Redacted = "<redacted>"

// ParseSummary parses the output of `ipconfig getsummary <interface>`: a
// "<dictionary> {" of "Key : Value" lines, nested dictionaries and arrays
// further indented. Only the top-level InterfaceType, SSID and BSSID are
// read. Since macOS 14 (and for ipconfig itself since 15.6), SSID and BSSID
// read "<redacted>" for a caller without Location Services permission
// unless an administrator ran `ipconfig setverbose 1`.
func ParseSummary(b []byte) (Summary, error) {
	var s Summary
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 64*1024)
	depth := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "}") {
			depth--
			continue
		}
		k, v, ok := strings.Cut(line, " : ")
		opens := strings.HasSuffix(line, "{")
		if ok && depth == 1 {
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch k {
			case "InterfaceType":
				s.WiFi = v == "WiFi"
			case "SSID":
				if v == Redacted {
					s.SSIDRedacted = true
				} else if len(v) <= 32 {
					s.SSID = v
				}
			case "BSSID":
				if v == Redacted {
					s.BSSIDRedacted = true
				} else if hw := parseMAC(v); hw != nil {
					s.BSSID = hw.String()
				}
			}
		}
		if opens {
			depth++
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("ipconfig getsummary: %w", err)
	}
	return s, nil
}

// parseMAC parses a six-group colon MAC whose groups may have dropped their
// leading zero ("4c:43:41:4:1c:bc"), as Apple's tools print them.
func parseMAC(s string) net.HardwareAddr {
	f := strings.Split(s, ":")
	if len(f) != 6 {
		return nil
	}
	hw := make(net.HardwareAddr, 6)
	for i, g := range f {
		if len(g) < 1 || len(g) > 2 {
			return nil
		}
		var v byte
		for _, c := range []byte(g) {
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 | (c - '0')
			case c >= 'a' && c <= 'f':
				v = v<<4 | (c - 'a' + 10)
			case c >= 'A' && c <= 'F':
				v = v<<4 | (c - 'A' + 10)
			default:
				return nil
			}
		}
		hw[i] = v
	}
	return hw
}
