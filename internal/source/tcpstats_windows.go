package source

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/farmwatch/farmwatch/internal/source/winestats"
)

// Per-connection TCP extended statistics (RFC 4898 style "ESTATS") from
// iphlpapi.dll, called without cgo. The structures are encoded and decoded
// by package winestats, which is tested on every OS.
var (
	modIPHlpAPI                    = windows.NewLazySystemDLL("iphlpapi.dll")
	procGetPerTcpConnectionEStats  = modIPHlpAPI.NewProc("GetPerTcpConnectionEStats")
	procGetPerTcp6ConnectionEStats = modIPHlpAPI.NewProc("GetPerTcp6ConnectionEStats")
	procSetPerTcpConnectionEStats  = modIPHlpAPI.NewProc("SetPerTcpConnectionEStats")
	procSetPerTcp6ConnectionEStats = modIPHlpAPI.NewProc("SetPerTcp6ConnectionEStats")
)

// estatsEnabled maps the connections whose Data and Path collection this
// process has switched on and read to the address family (4 or 6) of the
// row the OS knew them by. It is replaced on every tcpStats call by the connections of
// that call, so it stays as small as the connection table.
var (
	estatsMu      sync.Mutex
	estatsEnabled map[ConnKey]uint8
)

// tcpStats reads the Data (bytes, segments) and Path (RTT) extended
// statistics of every established TCP connection in conns. Collection has
// to be enabled per connection before Windows keeps these counters, so a
// connection seen for the first time is enabled and left out of the result
// while its counters are still all zero; from the next call on its counters
// count from that moment. Connections that vanished in between
// (ERROR_NOT_FOUND) or whose row cannot be built are skipped; an error is
// returned only when not a single connection could be read, e.g.
// ERROR_ACCESS_DENIED in a process that is not elevated.
func tcpStats(ctx context.Context, conns []Connection) (map[ConnKey]TCPStats, error) {
	if err := loadEStatsProcs(); err != nil {
		return nil, err
	}
	estatsMu.Lock()
	defer estatsMu.Unlock()

	prev := estatsEnabled
	next := make(map[ConnKey]uint8)
	out := make(map[ConnKey]TCPStats)
	tried := make(map[ConnKey]bool)
	var (
		read, failed int
		firstErr     error
	)
	for i := range conns {
		c := &conns[i]
		if c.Proto != "tcp" || !c.Established() {
			continue
		}
		key, ok := c.Key()
		if !ok {
			continue
		}
		if tried[key] {
			continue
		}
		tried[key] = true
		if err := ctx.Err(); err != nil {
			estatsEnabled = mergeEnabled(prev, next)
			return out, fmt.Errorf("read TCP extended statistics: %w", err)
		}
		local, remote, ok := estatsEndpoints(c)
		if !ok {
			continue
		}
		fam, fresh, cnt, err := readEStats(local, remote, prev[key])
		if err != nil {
			if !errors.Is(err, windows.ERROR_NOT_FOUND) {
				failed++
				if firstErr == nil {
					firstErr = err
				}
			}
			continue
		}
		read++
		next[key] = fam
		if fresh && cnt.Zero() {
			continue
		}
		out[key] = TCPStats{
			RTTms:         cnt.RTTms,
			RTTVarMs:      cnt.RTTVarMs,
			BytesSent:     cnt.BytesSent,
			BytesReceived: cnt.BytesReceived,
			SegsSent:      cnt.SegsSent,
			SegsReceived:  cnt.SegsReceived,
		}
	}
	estatsEnabled = next
	if read == 0 && failed > 0 {
		return out, fmt.Errorf("read TCP extended statistics: %d connections failed: %w", failed, firstErr)
	}
	return out, nil
}

// mergeEnabled keeps what is known to be enabled when a call is cut short.
func mergeEnabled(prev, next map[ConnKey]uint8) map[ConnKey]uint8 {
	for k, v := range prev {
		if _, ok := next[k]; !ok {
			next[k] = v
		}
	}
	return next
}

// loadEStatsProcs resolves the iphlpapi functions up front: LazyProc.Call
// panics when a function cannot be found.
func loadEStatsProcs() error {
	for _, p := range []*windows.LazyProc{
		procGetPerTcpConnectionEStats, procGetPerTcp6ConnectionEStats,
		procSetPerTcpConnectionEStats, procSetPerTcp6ConnectionEStats,
	} {
		if err := p.Find(); err != nil {
			return fmt.Errorf("read TCP extended statistics: %w", err)
		}
	}
	return nil
}

// estatsEndpoints parses c's endpoints keeping a numeric zone (the IPv6
// scope id) when the address has one.
func estatsEndpoints(c *Connection) (local, remote netip.AddrPort, ok bool) {
	l, err1 := netip.ParseAddr(strings.TrimSpace(c.LAddr))
	r, err2 := netip.ParseAddr(strings.TrimSpace(c.RAddr))
	if err1 != nil || err2 != nil || c.LPort > 0xffff || c.RPort > 0xffff {
		return local, remote, false
	}
	return netip.AddrPortFrom(l, uint16(c.LPort)), netip.AddrPortFrom(r, uint16(c.RPort)), true
}

// readEStats enables collection on one connection and reads its counters.
// known is the family an earlier call read it under (0: none; fresh is then
// true, its counters may have started just now). An IPv4 connection may be held in the IPv6 table with
// IPv4-mapped addresses (a dual-stack socket): the IPv4 row is tried first,
// the IPv6 row when Windows does not know the IPv4 one.
func readEStats(local, remote netip.AddrPort, known uint8) (fam uint8, fresh bool, cnt winestats.Counters, err error) {
	fams := []uint8{6}
	if local.Addr().Unmap().Is4() && remote.Addr().Unmap().Is4() {
		fams = []uint8{4, 6}
	}
	if known != 0 {
		fams = []uint8{known}
	}
	for _, f := range fams {
		row, err2 := newEStatsRow(f, local, remote)
		if err2 != nil {
			return 0, false, cnt, err2
		}
		// Enabling again is a no-op for a connection already collecting, and
		// covers a tuple reused by a new connection or collection switched
		// off by another program: Get on a connection whose collection is
		// not enabled returns meaningless data, not an error.
		if err = row.enable(); err != nil {
			if errors.Is(err, windows.ERROR_NOT_FOUND) {
				continue
			}
			return 0, false, cnt, err
		}
		cnt, err = row.read()
		if err != nil {
			return 0, false, cnt, err
		}
		return f, known == 0, cnt, nil
	}
	return 0, false, cnt, err
}

// estatsRow is a MIB_TCPROW (5 DWORDs) or MIB_TCP6ROW (13 DWORDs) in a
// DWORD-aligned buffer, with the functions taking it.
type estatsRow struct {
	words    [winestats.TCP6RowSize / 4]uint32
	get, set *windows.LazyProc
	desc     string
}

func newEStatsRow(fam uint8, local, remote netip.AddrPort) (*estatsRow, error) {
	r := &estatsRow{desc: fmt.Sprintf("%v -> %v", local, remote)}
	var b []byte
	if fam == 4 {
		row, err := winestats.TCPRow(local, remote)
		if err != nil {
			return nil, err
		}
		b, r.get, r.set = row[:], procGetPerTcpConnectionEStats, procSetPerTcpConnectionEStats
	} else {
		row, err := winestats.TCP6Row(local, remote)
		if err != nil {
			return nil, err
		}
		b, r.get, r.set = row[:], procGetPerTcp6ConnectionEStats, procSetPerTcp6ConnectionEStats
	}
	// Windows is little-endian on every architecture: DWORDs decoded
	// little-endian are stored back as the same bytes.
	for i := 0; i < len(b)/4; i++ {
		r.words[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return r, nil
}

// enable switches on Data and Path collection (TCP_ESTATS_*_RW_v0
// {EnableCollection = TRUE}).
func (r *estatsRow) enable() error {
	for _, typ := range []uintptr{winestats.TypeData, winestats.TypePath} {
		rw := byte(1)
		rc, _, _ := r.set.Call(
			uintptr(unsafe.Pointer(&r.words[0])), typ,
			uintptr(unsafe.Pointer(&rw)), 0, winestats.RWSize, 0)
		if rc != winestats.ErrorSuccess {
			return fmt.Errorf("%s(%s, type %d): %w", r.set.Name, r.desc, typ, windows.Errno(rc))
		}
	}
	return nil
}

// read gets the Data and Path read-only dynamic statistics.
func (r *estatsRow) read() (winestats.Counters, error) {
	var data [winestats.DataRODSize / 8]uint64
	var path [winestats.PathRODSize / 4]uint32
	db := unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), winestats.DataRODSize)
	pb := unsafe.Slice((*byte)(unsafe.Pointer(&path[0])), winestats.PathRODSize)
	for _, q := range []struct {
		typ uintptr
		buf []byte
	}{{winestats.TypeData, db}, {winestats.TypePath, pb}} {
		rc, _, _ := r.get.Call(
			uintptr(unsafe.Pointer(&r.words[0])), q.typ,
			0, 0, 0, // no Rw
			0, 0, 0, // no Ros
			uintptr(unsafe.Pointer(&q.buf[0])), 0, uintptr(len(q.buf)))
		if rc != winestats.ErrorSuccess {
			return winestats.Counters{}, fmt.Errorf("%s(%s, type %d): %w", r.get.Name, r.desc, q.typ, windows.Errno(rc))
		}
	}
	d, err := winestats.DecodeDataROD(db)
	if err != nil {
		return winestats.Counters{}, err
	}
	p, err := winestats.DecodePathROD(pb)
	if err != nil {
		return winestats.Counters{}, err
	}
	return winestats.Stats(d, p), nil
}
