package network

import (
	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/http"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/rdp"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/rfb"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/socks"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/ssh"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/stun"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/tls"
)

// Meta is what the inspectors derived from a flow's first payload bytes.
// The bytes themselves are released after inspection; only this remains.
type Meta struct {
	TLSClient *tls.ClientHello
	JA4       string
	TLSServer *tls.ServerHello
	HTTPReq   *http.Request
	HTTPResp  *http.Response
	// WebSocket payload prefixes after an HTTP Upgrade, client and server.
	WSClient, WSServer []byte
	SOCKS              *socks.Session
	// SOCKSReverse: the greeting came from the TCP server (the side that
	// opened the connection is the proxy).
	SOCKSReverse bool
	// SSH streams by TCP direction.
	SSHClient, SSHServer *ssh.Stream
	STUN                 *stun.Message
	STUNPackets          int
	DTLS                 bool
	RFB                  *rfb.Handshake
	RDPRequest           *rdp.Request
	RDPConfirm           *rdp.Confirm
	// RCServer is 1 + the flow direction (flow.C2S, flow.S2C) sent by the
	// remote-control protocol's server — the controlled side — when a
	// parser saw the roles (0: unknown). It is flow.C2S when the
	// controlled host opened the connection (a VNC server connecting out
	// to a listening viewer, reverse-connect RDP).
	RCServer int8
	// Marks are signature matches by byte-level inspectors: tool → what.
	Marks []Mark
	// Conn is set on flows fed from the connection table (telemetry.go).
	Conn *connState
	// Owner caches the process attribution of a captured flow;
	// OwnerUrgent is set when it was looked up for a finding of medium or
	// above (with the executable's hash).
	Owner       *Owner
	OwnerUrgent bool
	// tiiCounted: the flow was counted in Engine.tiiLoose.
	tiiCounted bool
	// evidentAt is the flow's last packet time when Evident last
	// classified it; evident is set once it produced a high finding.
	evidentAt int64
	evident   bool
}

// Mark is one byte-signature match.
type Mark struct {
	Key  string // analyzer-defined key, e.g. "teamviewer"
	What string // what matched, for evidence
}

// mark returns the first mark with key.
func (m *Meta) mark(key string) (Mark, bool) {
	for _, k := range m.Marks {
		if k.Key == key {
			return k, true
		}
	}
	return Mark{}, false
}

func (m *Meta) addMark(key, what string) {
	if _, ok := m.mark(key); !ok {
		m.Marks = append(m.Marks, Mark{key, what})
	}
}

// view is what an inspector sees: the flow and its captured payload. The
// engine reuses one view for every flow.
type view struct {
	f        *flow.Flow
	c2s, s2c []byte // TCP stream prefixes
	dg       [2][flow.MaxDatagrams][]byte
	lens     [2][flow.MaxDatagrams]int
	n        [2]int
}

func (v *view) reset(f *flow.Flow) {
	v.f, v.c2s, v.s2c = f, nil, nil
	if f.Proto == 6 {
		v.c2s, v.s2c = f.Dir[flow.C2S].Buf, f.Dir[flow.S2C].Buf
	}
	for d := 0; d < 2; d++ {
		dir := &f.Dir[d]
		v.n[d] = dir.NDgrams
		for i := 0; i < dir.NDgrams; i++ {
			v.dg[d][i] = dir.Datagram(i)
			v.lens[d][i] = dir.Dgrams[i].Len
		}
	}
}

// dgrams returns the kept datagrams of direction d and their original
// lengths.
func (v *view) dgrams(d int) ([][]byte, []int) {
	return v.dg[d][:v.n[d]], v.lens[d][:v.n[d]]
}

// first returns the first payload of direction d (TCP stream prefix or
// first datagram) and its original length.
func (v *view) first(d int) ([]byte, int) {
	if v.f.Proto == 6 {
		if d == flow.C2S {
			return v.c2s, len(v.c2s)
		}
		return v.s2c, len(v.s2c)
	}
	dir := &v.f.Dir[d]
	if dir.NDgrams == 0 {
		return nil, 0
	}
	return dir.Datagram(0), dir.Dgrams[0].Len
}

// controlledSide is the flow direction sent by the controlled side as far
// as a protocol parser knows it; flow.S2C (the TCP server) otherwise.
func (m *Meta) controlledSide() int {
	if m.RCServer > 0 {
		return int(m.RCServer - 1)
	}
	return flow.S2C
}
