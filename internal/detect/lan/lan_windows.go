//go:build windows

package lan

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/farmwatch/farmwatch/internal/source"
)

var procGetIPNetTable2 = windows.NewLazySystemDLL("iphlpapi.dll").NewProc("GetIpNetTable2")

// mibIPNetRow2 is MIB_IPNET_ROW2 (netioapi.h), 88 bytes.
type mibIPNetRow2 struct {
	Address               windows.RawSockaddrInet
	InterfaceIndex        uint32
	InterfaceLuid         uint64
	PhysicalAddress       [32]byte
	PhysicalAddressLength uint32
	State                 uint32
	Flags                 uint8
	_                     [3]byte
	ReachabilityTime      uint32
}

var neighborStates = map[uint32]string{2: "PROBE", 3: "DELAY", 4: "STALE", 5: "REACHABLE", 6: "PERMANENT"}

// liveNeighbors reads the neighbour table with GetIpNetTable2 (IPv4 and
// IPv6), skipping unreachable and incomplete entries.
func liveNeighbors(_ context.Context, _ string) ([]Neighbor, error) {
	if err := procGetIPNetTable2.Find(); err != nil {
		return nil, err
	}
	var table unsafe.Pointer
	r, _, _ := procGetIPNetTable2.Call(uintptr(windows.AF_UNSPEC), uintptr(unsafe.Pointer(&table)))
	if r != 0 {
		return nil, fmt.Errorf("GetIpNetTable2: %w", windows.Errno(r))
	}
	defer windows.FreeMibTable(table)
	num := *(*uint32)(table)
	if num > maxNeighbors {
		num = maxNeighbors
	}
	rows := unsafe.Slice((*mibIPNetRow2)(unsafe.Add(table, 8)), num)
	var out []Neighbor
	for i := range rows {
		row := &rows[i]
		st, ok := neighborStates[row.State]
		if !ok {
			continue
		}
		var a netip.Addr
		switch row.Address.Family {
		case windows.AF_INET:
			a = netip.AddrFrom4((*windows.RawSockaddrInet4)(unsafe.Pointer(&row.Address)).Addr)
		case windows.AF_INET6:
			a = netip.AddrFrom16((*windows.RawSockaddrInet6)(unsafe.Pointer(&row.Address)).Addr)
		default:
			continue
		}
		n := int(row.PhysicalAddressLength)
		if n != 6 {
			continue
		}
		mac := normMAC(net.HardwareAddr(row.PhysicalAddress[:n]).String())
		if mac == "" {
			continue
		}
		out = append(out, Neighbor{IP: a.String(), MAC: mac, Interface: "if" + strconv.Itoa(int(row.InterfaceIndex)), State: st})
	}
	return out, nil
}

func collectNeighbors(ctx context.Context, root, dir string) error {
	ns, err := liveNeighbors(ctx, root)
	if ns == nil {
		ns = []Neighbor{}
	}
	if werr := source.WriteJSONFile(filepath.Join(dir, FileNeighbors), ns); werr != nil {
		return werr
	}
	return err
}
