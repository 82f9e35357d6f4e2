// Package winestats encodes and decodes the Windows IP Helper structures of
// per-connection TCP extended statistics (GetPerTcpConnectionEStats,
// GetPerTcp6ConnectionEStats and their Set… counterparts in iphlpapi.dll):
// the MIB_TCPROW / MIB_TCP6ROW rows that name a connection and the
// TCP_ESTATS_DATA_ROD_v0 / TCP_ESTATS_PATH_ROD_v0 read-only dynamic
// statistics.
//
// It is pure Go without build constraints, so that the byte layouts are
// tested (with fixtures laid out by the mingw-w64 compiler from the SDK
// headers, see testdata/layout.sh and testdata/fixtures.sh) and fuzzed on any
// OS; the Windows system calls live in package source. All Windows
// architectures (386, amd64, arm64) are little-endian and, with the SDK's
// default packing, give these structures the same layout.
package winestats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// Sizes of the structures, in bytes (sizeof in the Windows SDK; checked by
// testdata/layout.sh and TestLayoutMatchesSDK).
const (
	TCPRowSize  = 20  // MIB_TCPROW (MIB_TCPROW_LH)
	TCP6RowSize = 52  // MIB_TCP6ROW
	DataRODSize = 96  // TCP_ESTATS_DATA_ROD_v0
	PathRODSize = 160 // TCP_ESTATS_PATH_ROD_v0
	// RWSize is the size of TCP_ESTATS_DATA_RW_v0 and TCP_ESTATS_PATH_RW_v0
	// ({BOOLEAN EnableCollection}).
	RWSize = 1
)

// TCP_ESTATS_TYPE values.
const (
	TypeSynOpts   = 0 // TcpConnectionEstatsSynOpts
	TypeData      = 1 // TcpConnectionEstatsData
	TypeSndCong   = 2 // TcpConnectionEstatsSndCong
	TypePath      = 3 // TcpConnectionEstatsPath
	TypeSendBuff  = 4 // TcpConnectionEstatsSendBuff
	TypeRec       = 5 // TcpConnectionEstatsRec
	TypeObsRec    = 6 // TcpConnectionEstatsObsRec
	TypeBandwidth = 7 // TcpConnectionEstatsBandwidth
	TypeFineRtt   = 8 // TcpConnectionEstatsFineRtt
)

// StateEstablished is MIB_TCP_STATE_ESTAB, the state written into rows.
const StateEstablished = 5

// Win32 error codes returned by the EStats functions.
const (
	ErrorSuccess          = 0    // ERROR_SUCCESS
	ErrorAccessDenied     = 5    // ERROR_ACCESS_DENIED
	ErrorNotSupported     = 50   // ERROR_NOT_SUPPORTED
	ErrorInvalidParameter = 87   // ERROR_INVALID_PARAMETER
	ErrorNotFound         = 1168 // ERROR_NOT_FOUND
)

// ErrTruncated is wrapped by the decoders when a buffer is shorter than the
// structure.
var ErrTruncated = errors.New("buffer too short")

// TCPRow returns the MIB_TCPROW bytes of the established IPv4 connection
// local→remote: dwState, then dwLocalAddr, dwLocalPort, dwRemoteAddr,
// dwRemotePort, each a little-endian DWORD. Addresses are kept in network
// byte order in memory and ports in network byte order in the low 16 bits,
// so port 443 is stored as the bytes 01 bb 00 00. IPv4-mapped IPv6
// addresses are unmapped; other IPv6 addresses are an error.
func TCPRow(local, remote netip.AddrPort) ([TCPRowSize]byte, error) {
	var b [TCPRowSize]byte
	l, r := local.Addr().Unmap(), remote.Addr().Unmap()
	if !l.Is4() || !r.Is4() {
		return b, fmt.Errorf("winestats: MIB_TCPROW for %v -> %v: not an IPv4 connection", local, remote)
	}
	binary.LittleEndian.PutUint32(b[0:], StateEstablished)
	la, ra := l.As4(), r.As4()
	copy(b[4:8], la[:])
	putPort(b[8:12], local.Port())
	copy(b[12:16], ra[:])
	putPort(b[16:20], remote.Port())
	return b, nil
}

// TCP6Row returns the MIB_TCP6ROW bytes of the established IPv6 connection
// local→remote: State (int), LocalAddr (16 bytes, network order),
// dwLocalScopeId, dwLocalPort, RemoteAddr, dwRemoteScopeId, dwRemotePort.
// Ports are stored as in TCPRow. A numeric zone of an address ("fe80::1%12")
// is its scope id; other zones and no zone give scope id 0. IPv4 addresses
// are written IPv4-mapped.
func TCP6Row(local, remote netip.AddrPort) ([TCP6RowSize]byte, error) {
	var b [TCP6RowSize]byte
	l, r := local.Addr(), remote.Addr()
	if !l.IsValid() || !r.IsValid() {
		return b, fmt.Errorf("winestats: MIB_TCP6ROW for %v -> %v: invalid address", local, remote)
	}
	binary.LittleEndian.PutUint32(b[0:], StateEstablished)
	la, ra := l.As16(), r.As16()
	copy(b[4:20], la[:])
	binary.LittleEndian.PutUint32(b[20:], ScopeID(l))
	putPort(b[24:28], local.Port())
	copy(b[28:44], ra[:])
	binary.LittleEndian.PutUint32(b[44:], ScopeID(r))
	putPort(b[48:52], remote.Port())
	return b, nil
}

// ScopeID is a's zone as a numeric IPv6 scope id, 0 when it has none or a
// non-numeric one.
func ScopeID(a netip.Addr) uint32 {
	z := a.Zone()
	if z == "" {
		return 0
	}
	n, err := strconv.ParseUint(z, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// putPort stores p in network byte order in the low 16 bits of a
// little-endian DWORD.
func putPort(b []byte, p uint16) {
	binary.BigEndian.PutUint16(b[0:2], p)
	b[2], b[3] = 0, 0
}

// DataROD is TCP_ESTATS_DATA_ROD_v0 (all counters since collection of
// TcpConnectionEstatsData was enabled for the connection).
type DataROD struct {
	DataBytesOut      uint64 // payload bytes sent, retransmissions included
	DataSegsOut       uint64 // data-carrying segments sent
	DataBytesIn       uint64 // payload bytes received
	DataSegsIn        uint64 // data-carrying segments received
	SegsOut           uint64 // all segments sent
	SegsIn            uint64 // all segments received
	SoftErrors        uint32
	SoftErrorReason   uint32
	SndUna            uint32
	SndNxt            uint32
	SndMax            uint32
	ThruBytesAcked    uint64 // bytes acknowledged by the peer
	RcvNxt            uint32
	ThruBytesReceived uint64 // bytes received in sequence
}

// DecodeDataROD decodes a TCP_ESTATS_DATA_ROD_v0. Bytes after the first
// DataRODSize are ignored, and so are the alignment padding bytes at
// offsets 68 and 84.
func DecodeDataROD(b []byte) (DataROD, error) {
	if len(b) < DataRODSize {
		return DataROD{}, fmt.Errorf("winestats: decode TCP_ESTATS_DATA_ROD_v0: %w: %d bytes, want %d", ErrTruncated, len(b), DataRODSize)
	}
	le := binary.LittleEndian
	return DataROD{
		DataBytesOut:      le.Uint64(b[0:]),
		DataSegsOut:       le.Uint64(b[8:]),
		DataBytesIn:       le.Uint64(b[16:]),
		DataSegsIn:        le.Uint64(b[24:]),
		SegsOut:           le.Uint64(b[32:]),
		SegsIn:            le.Uint64(b[40:]),
		SoftErrors:        le.Uint32(b[48:]),
		SoftErrorReason:   le.Uint32(b[52:]),
		SndUna:            le.Uint32(b[56:]),
		SndNxt:            le.Uint32(b[60:]),
		SndMax:            le.Uint32(b[64:]),
		ThruBytesAcked:    le.Uint64(b[72:]),
		RcvNxt:            le.Uint32(b[80:]),
		ThruBytesReceived: le.Uint64(b[88:]),
	}, nil
}

// PathROD is TCP_ESTATS_PATH_ROD_v0. RTT and RTO fields are in
// milliseconds.
type PathROD struct {
	FastRetran            uint32
	Timeouts              uint32
	SubsequentTimeouts    uint32
	CurTimeoutCount       uint32
	AbruptTimeouts        uint32
	PktsRetrans           uint32
	BytesRetrans          uint32
	DupAcksIn             uint32
	SacksRcvd             uint32
	SackBlocksRcvd        uint32
	CongSignals           uint32
	PreCongSumCwnd        uint32
	PreCongSumRtt         uint32
	PostCongSumRtt        uint32
	PostCongCountRtt      uint32
	EcnSignals            uint32
	EceRcvd               uint32
	SendStall             uint32
	QuenchRcvd            uint32
	RetranThresh          uint32
	SndDupAckEpisodes     uint32
	SumBytesReordered     uint32
	NonRecovDa            uint32
	NonRecovDaEpisodes    uint32
	AckAfterFr            uint32
	DsackDups             uint32
	SampleRtt             uint32
	SmoothedRtt           uint32
	RttVar                uint32
	MaxRtt                uint32
	MinRtt                uint32
	SumRtt                uint32
	CountRtt              uint32
	CurRto                uint32
	MaxRto                uint32
	MinRto                uint32
	CurMss                uint32
	MaxMss                uint32
	MinMss                uint32
	SpuriousRtoDetections uint32
}

// DecodePathROD decodes a TCP_ESTATS_PATH_ROD_v0 (40 little-endian ULONGs).
// Bytes after the first PathRODSize are ignored.
func DecodePathROD(b []byte) (PathROD, error) {
	if len(b) < PathRODSize {
		return PathROD{}, fmt.Errorf("winestats: decode TCP_ESTATS_PATH_ROD_v0: %w: %d bytes, want %d", ErrTruncated, len(b), PathRODSize)
	}
	var p PathROD
	fields := [...]*uint32{
		&p.FastRetran, &p.Timeouts, &p.SubsequentTimeouts, &p.CurTimeoutCount,
		&p.AbruptTimeouts, &p.PktsRetrans, &p.BytesRetrans, &p.DupAcksIn,
		&p.SacksRcvd, &p.SackBlocksRcvd, &p.CongSignals, &p.PreCongSumCwnd,
		&p.PreCongSumRtt, &p.PostCongSumRtt, &p.PostCongCountRtt, &p.EcnSignals,
		&p.EceRcvd, &p.SendStall, &p.QuenchRcvd, &p.RetranThresh,
		&p.SndDupAckEpisodes, &p.SumBytesReordered, &p.NonRecovDa, &p.NonRecovDaEpisodes,
		&p.AckAfterFr, &p.DsackDups, &p.SampleRtt, &p.SmoothedRtt,
		&p.RttVar, &p.MaxRtt, &p.MinRtt, &p.SumRtt,
		&p.CountRtt, &p.CurRto, &p.MaxRto, &p.MinRto,
		&p.CurMss, &p.MaxMss, &p.MinMss, &p.SpuriousRtoDetections,
	}
	for i, f := range fields {
		*f = binary.LittleEndian.Uint32(b[4*i:])
	}
	return p, nil
}

// Counters are one connection's statistics in the units of
// source.TCPStats, from this host's point of view.
type Counters struct {
	RTTms         float64 // smoothed RTT, ms
	RTTVarMs      float64 // RTT variation, ms
	BytesSent     uint64  // payload bytes sent and acknowledged (ThruBytesAcked)
	BytesReceived uint64  // payload bytes received (ThruBytesReceived)
	SegsSent      uint64  // data-carrying segments sent (DataSegsOut)
	SegsReceived  uint64  // data-carrying segments received (DataSegsIn)
}

// Stats converts the Data and Path statistics of a connection.
func Stats(data DataROD, path PathROD) Counters {
	return Counters{
		RTTms:    float64(path.SmoothedRtt),
		RTTVarMs: float64(path.RttVar),
		// Acknowledged and received payload octets (RFC 4898
		// tcpEStatsAppHCThruOctetsAcked/Received): the same meaning as
		// Linux tcp_info bytes_acked/bytes_received, so counters of two
		// relayed connections compare across OSes. DataBytesOut would
		// include retransmissions.
		BytesSent:     data.ThruBytesAcked,
		BytesReceived: data.ThruBytesReceived,
		SegsSent:      data.DataSegsOut,
		SegsReceived:  data.DataSegsIn,
	}
}

// Zero reports whether c holds no traffic and no RTT sample, as a
// connection's first read right after its collection was enabled does.
func (c Counters) Zero() bool { return c == Counters{} }
