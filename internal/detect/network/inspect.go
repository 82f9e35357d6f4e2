package network

import (
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/http"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/rdp"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/rfb"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/socks"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/ssh"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/stun"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/tls"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"
)

// inspectCommon runs the protocol parsers every analyzer may rely on.
func inspectCommon(v *view, m *Meta) {
	if v.f.Proto == 6 {
		inspectTCP(v, m)
		return
	}
	if v.f.Proto != 17 {
		return
	}
	for d := 0; d < 2; d++ {
		dg, _ := v.dgrams(d)
		for _, b := range dg {
			if s, err := stun.Parse(b); err == nil {
				m.STUNPackets++
				if m.STUN == nil {
					m.STUN = s
				}
				continue
			}
			if d == flow.C2S && m.TLSClient == nil && tls.IsHandshake(b) && b[1] == 0xfe {
				if ch, err := tls.ParseClientHello(b); err == nil {
					m.TLSClient, m.JA4, m.DTLS = ch, ch.JA4('d'), true
				}
			}
		}
	}
}

func inspectTCP(v *view, m *Meta) {
	c, s := v.c2s, v.s2c
	if tls.IsHandshake(c) {
		if ch, err := tls.ParseClientHello(c); err == nil {
			m.TLSClient, m.JA4 = ch, ch.JA4('t')
		}
	}
	if tls.IsHandshake(s) {
		if sh, err := tls.ParseServer(s); err == nil {
			m.TLSServer = sh
		}
	}
	if req, body, err := http.ParseRequest(c); err == nil {
		m.HTTPReq = req
		if resp, err := http.ParseResponse(s); err == nil {
			m.HTTPResp = resp
			if resp.Status == 101 && strings.EqualFold(resp.Upgrade, "websocket") {
				m.WSClient = wire.WebSocketPayload(body)
				m.WSServer = wire.WebSocketPayload(resp.Body)
			}
			if req.Method == "CONNECT" && resp.Status == 200 && m.TLSClient == nil {
				// The tunnelled bytes follow the response: look for TLS
				// inside, and for RFB (either role: a VNC server may be
				// the side that connected through the proxy).
				if i := strings.Index(string(c), "\r\n\r\n"); i > 0 {
					inner := c[i+4:]
					if tls.IsHandshake(inner) {
						if ch, err := tls.ParseClientHello(inner); err == nil {
							m.TLSClient, m.JA4 = ch, ch.JA4('t')
						}
					}
					innerRFB(m, inner, resp.Body)
				}
			}
		}
	}
	if sess, err := socks.Parse(c, s); err == nil {
		m.SOCKS = sess
	} else if sess, err := socks.Parse(s, c); err == nil {
		// Reverse SOCKS: the side that accepted the connection speaks the
		// client's greeting; the side that dialled out is the proxy.
		m.SOCKS, m.SOCKSReverse = sess, true
	}
	if st, err := ssh.Parse(c); err == nil {
		m.SSHClient = st
	}
	if st, err := ssh.Parse(s); err == nil {
		m.SSHServer = st
	}
	// RFB: the server speaks first, whichever side opened the connection
	// (x11vnc -connect, UltraVNC's "add new client" connect out to a
	// listening viewer).
	rs, rc, side := s, c, flow.S2C
	if cf, sf := v.f.Dir[flow.C2S].FirstPayload, v.f.Dir[flow.S2C].FirstPayload; cf != 0 && (sf == 0 || cf < sf) {
		rs, rc, side = c, s, flow.C2S
	}
	if h, err := rfb.Parse(rs, rc); err == nil {
		m.RFB, m.RCServer = h, int8(side+1)
	}
	// RDP: the client sends the X.224 Connection Request; a TCP responder
	// sending it is a reverse-connect session (the RDP server dialled out).
	if r, err := rdp.ParseRequest(s); err == nil && m.RFB == nil {
		m.RDPRequest, m.RCServer = r, int8(flow.C2S+1)
		if cc, err := rdp.ParseConfirm(c); err == nil {
			m.RDPConfirm = cc
		}
	}
	if r, err := rdp.ParseRequest(c); err == nil {
		m.RCServer = int8(flow.S2C + 1)
		m.RDPRequest = r
		if cc, err := rdp.ParseConfirm(s); err == nil {
			m.RDPConfirm = cc
		}
		// RDP upgraded to TLS (CredSSP/NLA): the handshake follows the
		// X.224 exchange.
		if cn, sn := tpktLen(c), tpktLen(s); cn > 0 && sn > 0 && cn < len(c) && sn < len(s) {
			if ch, err := tls.ParseClientHello(c[cn:]); err == nil {
				m.TLSClient, m.JA4 = ch, ch.JA4('t')
			}
			if sh, err := tls.ParseServer(s[sn:]); err == nil {
				m.TLSServer = sh
			}
		}
	}
}

// innerRFB parses an RFB exchange carried inside a tunnel (c: what the TCP
// client sent in it, s: what it received), where the order in which the
// two sides spoke is not known: the server's half is the one the parser
// can follow to ServerInit (or through its security offer).
func innerRFB(m *Meta, c, s []byte) {
	if m.RFB != nil {
		return
	}
	hs, errS := rfb.Parse(s, c)
	hc, errC := rfb.Parse(c, s)
	switch {
	case errC == nil && (errS != nil || (hc.ServerInit && !hs.ServerInit) || (len(hc.SecurityTypes) > 0 && len(hs.SecurityTypes) == 0)):
		m.RFB, m.RCServer = hc, int8(flow.C2S+1)
	case errS == nil:
		m.RFB, m.RCServer = hs, int8(flow.S2C+1)
	}
}

// tpktLen returns the length of the TPKT packet at the start of b, or 0.
func tpktLen(b []byte) int {
	if len(b) < 4 || b[0] != 3 || b[1] != 0 {
		return 0
	}
	return int(b[2])<<8 | int(b[3])
}
