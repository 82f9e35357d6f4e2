// Package winnet decodes what Windows says about the network a host is
// attached to: the IP Helper route and neighbour tables (GetIpForwardTable2,
// GetIpNetTable2 in iphlpapi.dll, MIB_IPFORWARD_TABLE2 / MIB_IPNET_TABLE2),
// the Native Wi-Fi current connection (wlanapi.dll WlanEnumInterfaces and
// WlanQueryInterface(wlan_intf_opcode_current_connection),
// WLAN_INTERFACE_INFO_LIST / WLAN_CONNECTION_ATTRIBUTES) and, as the
// fallback, the text of `netsh wlan show interfaces`.
//
// The decoders are pure Go without build constraints, so the byte layouts
// are tested (with buffers laid out by the mingw-w64 compiler from the SDK
// headers: testdata/layout.c asserts every offset used here, and
// testdata/fixtures.c builds the .bin fixtures) and fuzzed on any OS; the
// system calls live in live_windows.go, which hands the very buffers Windows
// returned to these decoders. All Windows architectures (386 aside, which
// farmwatch does not ship) are little-endian and lay these structures out
// alike; the offsets were checked for x86_64.
package winnet

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"unicode/utf16"

	"github.com/farmwatch/farmwatch/internal/source/neighbour"
)

// Layout of the SDK structures (testdata/layout.c asserts each value).
const (
	tableRows        = 8   // offsetof(MIB_*_TABLE2, Table): ULONG NumEntries, padded to the row's 8-byte alignment
	ForwardRow2Size  = 104 // sizeof(MIB_IPFORWARD_ROW2)
	fwdIfIndex       = 8   // InterfaceIndex (NET_IFINDEX)
	fwdDestPrefix    = 12  // DestinationPrefix.Prefix (SOCKADDR_INET)
	fwdPrefixLength  = 40  // DestinationPrefix.PrefixLength
	fwdNextHop       = 44  // NextHop (SOCKADDR_INET)
	fwdMetric        = 84  // Metric (ULONG)
	fwdLoopback      = 92  // Loopback (BOOLEAN)
	IPNetRow2Size    = 88  // sizeof(MIB_IPNET_ROW2)
	netIfIndex       = 28  // InterfaceIndex
	netPhysAddr      = 40  // PhysicalAddress[32]
	netPhysAddrLen   = 72  // PhysicalAddressLength
	netState         = 76  // State (NL_NEIGHBOR_STATE)
	sockaddrInetSize = 28  // sizeof(SOCKADDR_INET)
	afInet           = 2   // AF_INET
	afInet6          = 23  // AF_INET6 on Windows

	wlanListItems      = 8   // offsetof(WLAN_INTERFACE_INFO_LIST, InterfaceInfo)
	WlanInfoSize       = 532 // sizeof(WLAN_INTERFACE_INFO)
	wlanInfoState      = 528 // WLAN_INTERFACE_INFO.isState
	WlanConnSize       = 604 // sizeof(WLAN_CONNECTION_ATTRIBUTES)
	wlanConnSSIDLen    = 520 // wlanAssociationAttributes.dot11Ssid.uSSIDLength
	wlanConnSSID       = 524 // wlanAssociationAttributes.dot11Ssid.ucSSID[32]
	wlanConnBSSID      = 560 // wlanAssociationAttributes.dot11Bssid[6]
	WlanStateConnected = 1   // wlan_interface_state_connected
	// OpcodeCurrentConnection is wlan_intf_opcode_current_connection.
	OpcodeCurrentConnection = 7
)

// NL_NEIGHBOR_STATE values.
const (
	NeighborUnreachable = 0 // NlnsUnreachable
	NeighborIncomplete  = 1 // NlnsIncomplete
	NeighborProbe       = 2
	NeighborDelay       = 3
	NeighborStale       = 4
	NeighborReachable   = 5
	NeighborPermanent   = 6
)

// MaxRows bounds the rows decoded from one table.
const MaxRows = 1 << 16

// ErrTruncated is wrapped when a buffer is shorter than its header says.
var ErrTruncated = errors.New("buffer too short")

// Route is one row of MIB_IPFORWARD_TABLE2.
type Route struct {
	IfIndex  uint32
	Prefix   netip.Prefix
	NextHop  netip.Addr
	Metric   uint32
	Loopback bool
}

// Neighbor is one row of MIB_IPNET_TABLE2.
type Neighbor struct {
	IfIndex uint32
	Addr    netip.Addr
	MAC     net.HardwareAddr
	State   uint32
}

// rows checks a MIB_*_TABLE2 buffer and returns its row count.
func rows(b []byte, size int, what string) (int, error) {
	if len(b) < 4 {
		return 0, fmt.Errorf("winnet: %s: %w", what, ErrTruncated)
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n == 0 {
		return 0, nil
	}
	if n > MaxRows {
		return 0, fmt.Errorf("winnet: %s: %d rows (more than %d)", what, n, MaxRows)
	}
	if len(b) < tableRows+n*size {
		return 0, fmt.Errorf("winnet: %s: %d rows in %d bytes: %w", what, n, len(b), ErrTruncated)
	}
	return n, nil
}

// sockaddrInet decodes a SOCKADDR_INET (SOCKADDR_IN or SOCKADDR_IN6).
func sockaddrInet(b []byte) netip.Addr {
	switch binary.LittleEndian.Uint16(b) {
	case afInet:
		return netip.AddrFrom4([4]byte(b[4:8]))
	case afInet6:
		return netip.AddrFrom16([16]byte(b[8:24]))
	}
	return netip.Addr{}
}

// DecodeForwardTable2 decodes the MIB_IPFORWARD_TABLE2 GetIpForwardTable2
// returns. Rows of an unknown address family are skipped.
func DecodeForwardTable2(b []byte) ([]Route, error) {
	n, err := rows(b, ForwardRow2Size, "MIB_IPFORWARD_TABLE2")
	if err != nil {
		return nil, err
	}
	var out []Route
	for i := 0; i < n; i++ {
		r := b[tableRows+i*ForwardRow2Size:][:ForwardRow2Size]
		dst := sockaddrInet(r[fwdDestPrefix:])
		if !dst.IsValid() {
			continue
		}
		pfx, err := dst.Prefix(int(r[fwdPrefixLength]))
		if err != nil {
			continue
		}
		out = append(out, Route{
			IfIndex:  binary.LittleEndian.Uint32(r[fwdIfIndex:]),
			Prefix:   pfx,
			NextHop:  sockaddrInet(r[fwdNextHop:]),
			Metric:   binary.LittleEndian.Uint32(r[fwdMetric:]),
			Loopback: r[fwdLoopback] != 0,
		})
	}
	return out, nil
}

// DecodeIPNetTable2 decodes the MIB_IPNET_TABLE2 GetIpNetTable2 returns.
func DecodeIPNetTable2(b []byte) ([]Neighbor, error) {
	n, err := rows(b, IPNetRow2Size, "MIB_IPNET_TABLE2")
	if err != nil {
		return nil, err
	}
	var out []Neighbor
	for i := 0; i < n; i++ {
		r := b[tableRows+i*IPNetRow2Size:][:IPNetRow2Size]
		l := binary.LittleEndian.Uint32(r[netPhysAddrLen:])
		if l > 32 {
			l = 32
		}
		out = append(out, Neighbor{
			IfIndex: binary.LittleEndian.Uint32(r[netIfIndex:]),
			Addr:    sockaddrInet(r),
			MAC:     net.HardwareAddr(bytes.Clone(r[netPhysAddr : netPhysAddr+l])),
			State:   binary.LittleEndian.Uint32(r[netState:]),
		})
	}
	return out, nil
}

// DefaultRoute returns the IPv4 default route (0.0.0.0/0 with a next hop)
// that Windows prefers: the lowest route metric plus interface metric
// (ifMetric, by interface index; a missing interface counts 0), ties going
// to the earlier row. ok is false without one.
func DefaultRoute(routes []Route, ifMetric map[uint32]uint32) (Route, bool) {
	var best Route
	var bestMetric uint64
	ok := false
	for _, r := range routes {
		if r.Loopback || !r.Prefix.Addr().Is4() || r.Prefix.Bits() != 0 || !r.NextHop.Is4() || r.NextHop.IsUnspecified() {
			continue
		}
		m := uint64(r.Metric) + uint64(ifMetric[r.IfIndex])
		if !ok || m < bestMetric {
			best, bestMetric, ok = r, m, true
		}
	}
	return best, ok
}

// Usable reports whether a neighbour entry names a live unicast host: a
// six-byte unicast MAC in a state other than unreachable or incomplete, for
// an address that is neither multicast nor broadcast.
func (n Neighbor) Usable() bool {
	if n.State == NeighborUnreachable || n.State == NeighborIncomplete || len(n.MAC) != 6 || n.MAC[0]&1 == 1 {
		return false
	}
	if !n.Addr.IsValid() || n.Addr.IsMulticast() || n.Addr.IsUnspecified() || n.Addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return false
	}
	return !bytes.Equal(n.MAC, make([]byte, 6))
}

// GatewayAndNeighbours returns the MAC of gw on interface ifIndex and the
// MACs of the usable neighbours on that interface, sorted and each once.
func GatewayAndNeighbours(ns []Neighbor, ifIndex uint32, gw netip.Addr) (gwMAC string, macs []string) {
	var es []neighbour.Entry
	for _, n := range ns {
		if n.IfIndex == ifIndex && n.Usable() {
			es = append(es, neighbour.Entry{Addr: n.Addr, MAC: n.MAC.String()})
		}
	}
	return neighbour.GatewayAndLAN(es, gw)
}

// WlanInterface is one entry of WLAN_INTERFACE_INFO_LIST.
type WlanInterface struct {
	GUID        [16]byte // the GUID's bytes as laid out in memory
	Description string
	State       uint32
}

// DecodeWlanInterfaceList decodes the WLAN_INTERFACE_INFO_LIST
// WlanEnumInterfaces returns.
func DecodeWlanInterfaceList(b []byte) ([]WlanInterface, error) {
	if len(b) < wlanListItems {
		return nil, fmt.Errorf("winnet: WLAN_INTERFACE_INFO_LIST: %w", ErrTruncated)
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n > 256 {
		return nil, fmt.Errorf("winnet: WLAN_INTERFACE_INFO_LIST: %d interfaces", n)
	}
	if len(b) < wlanListItems+n*WlanInfoSize {
		return nil, fmt.Errorf("winnet: WLAN_INTERFACE_INFO_LIST: %d interfaces in %d bytes: %w", n, len(b), ErrTruncated)
	}
	out := make([]WlanInterface, 0, n)
	for i := 0; i < n; i++ {
		r := b[wlanListItems+i*WlanInfoSize:][:WlanInfoSize]
		out = append(out, WlanInterface{
			GUID:        [16]byte(r[:16]),
			Description: utf16z(r[16:wlanInfoState]),
			State:       binary.LittleEndian.Uint32(r[wlanInfoState:]),
		})
	}
	return out, nil
}

// utf16z decodes a NUL-terminated little-endian UTF-16 string.
func utf16z(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// Connection is a Wi-Fi association: the network's name and the access
// point's MAC.
type Connection struct {
	SSID  string
	BSSID string // lowercase aa:bb:cc:dd:ee:ff
}

// DecodeWlanConnection decodes the WLAN_CONNECTION_ATTRIBUTES that
// WlanQueryInterface(wlan_intf_opcode_current_connection) returns. ok is
// false when the interface is not connected.
func DecodeWlanConnection(b []byte) (c Connection, ok bool, err error) {
	if len(b) < wlanConnBSSID+6 {
		return c, false, fmt.Errorf("winnet: WLAN_CONNECTION_ATTRIBUTES: %d bytes: %w", len(b), ErrTruncated)
	}
	if binary.LittleEndian.Uint32(b) != WlanStateConnected {
		return c, false, nil
	}
	l := binary.LittleEndian.Uint32(b[wlanConnSSIDLen:])
	if l > 32 {
		return c, false, fmt.Errorf("winnet: WLAN_CONNECTION_ATTRIBUTES: SSID length %d", l)
	}
	c.SSID = string(b[wlanConnSSID : wlanConnSSID+int(l)])
	c.BSSID = net.HardwareAddr(b[wlanConnBSSID : wlanConnBSSID+6]).String()
	return c, true, nil
}

// NetshInterface is one interface block of `netsh wlan show interfaces`.
type NetshInterface struct {
	Name, State, SSID, BSSID string
}

// ErrLocationPermission is returned by ParseNetshInterfaces for the message
// Windows 11 24H2 and later print instead of the interfaces when the caller
// has no location permission.
var ErrLocationPermission = errors.New("netsh: WLAN information needs location permission")

// ParseNetshInterfaces parses the output of `netsh wlan show interfaces`:
// blocks of "Key : Value" lines, one per interface, each starting at its
// "Name" line. It keys on the English labels ("Name", "State", "SSID" and
// "BSSID" or, since Windows 11, "AP BSSID"); the Wi-Fi labels SSID and BSSID
// are the same in every display language netsh ships.
func ParseNetshInterfaces(b []byte) ([]NetshInterface, error) {
	var out []NetshInterface
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 4096)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "location permission") {
			return nil, ErrLocationPermission
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "Name":
			out = append(out, NetshInterface{Name: v})
			continue
		}
		if len(out) == 0 {
			continue
		}
		cur := &out[len(out)-1]
		switch k {
		case "State":
			cur.State = v
		case "SSID":
			if len(v) <= 32 {
				cur.SSID = v
			}
		case "BSSID", "AP BSSID":
			if hw, err := net.ParseMAC(v); err == nil && len(hw) == 6 {
				cur.BSSID = hw.String()
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("netsh: %w", err)
	}
	return out, nil
}
