package network

import (
	"encoding/binary"
	"fmt"

	"github.com/farmwatch/farmwatch/internal/report"
)

// Encapsulation shape: a VPN whose handshake is encrypted (OpenVPN
// tls-crypt / tls-crypt-v2, WireGuard behind an obfuscator, consumer VPN
// "stealth" modes) still carries inner TCP sessions, and those show
// through the outer packet sizes, whatever the cipher:
//
//   - the downloading direction fills the tunnel's MTU: at least
//     encMinFullShare of its packets have one size of at least encMinFull
//     bytes (inner full-sized segments plus a constant per-packet
//     overhead);
//   - the other direction carries the inner TCP's ACKs: at least
//     encMinAckShare of its packets have one size of at most encMaxAck
//     bytes (an inner 40–60-byte ACK plus the same overhead);
//   - on one long-lived flow (≥ encMinDuration) to one peer, with at
//     least encMinPackets such packets each way.
//
// Over UDP and IP protocols other than TCP (ESP is IPsec's), for flows no
// parser recognised. Look-alikes are kept out by what they are: WebRTC
// and video calls are STUN/DTLS/RTP (RTP version 2 in every kept
// datagram), QUIC is recognised by its long header (or, on UDP 443, by
// short headers whose first byte varies under header protection), and
// game traffic does not fill the MTU with ACK-clocked bulk.
const (
	encMinDuration  = 20e9 // ns
	encMinFull      = 1000
	encMinFullShare = 0.3
	encMaxAck       = 200
	encMinAckShare  = 0.3
	encMinPackets   = 20
)

const encMark = "encap-media" // inspect: the flow is RTP or QUIC

var encapsulationAnalyzer = analyzer{
	name: "encapsulation",
	inspect: func(v *view, m *Meta) {
		if v.f.Proto != 17 {
			return
		}
		if what, ok := mediaOrQUIC(v); ok {
			m.Marks = append(m.Marks, Mark{encMark, what})
		}
	},
	classify: func(c *classCtx) {
		f := c.f
		if f.Proto == 6 || f.Proto == 50 || c.identified || f.Duration() < encMinDuration {
			return
		}
		m := c.m
		if m.STUN != nil || m.DTLS || m.TLSClient != nil || len(m.Marks) > 0 {
			return
		}
		for bulk := 0; bulk < 2; bulk++ {
			b, a := &f.Dir[bulk], &f.Dir[1-bulk]
			fullSize, fullN := b.FrequentSize(encMinFull, 65535)
			ackSize, ackN := a.FrequentSize(1, encMaxAck)
			if fullN < encMinPackets || ackN < encMinPackets {
				continue
			}
			full := float64(fullN) / float64(b.PayloadPackets)
			ack := float64(ackN) / float64(a.PayloadPackets)
			if full < encMinFullShare || ack < encMinAckShare {
				continue
			}
			ex := map[string]any{"generic": true, "evidence": "encapsulation-shape",
				"full_packet_bytes": fullSize, "full_packet_share": round3(full),
				"ack_packet_bytes": ackSize, "ack_packet_share": round3(ack),
				"bulk_side": endpoint(f, bulk).String()}
			what := fmt.Sprintf("%.0f%% of %s's %d packets are exactly %d bytes (MTU-bound) and %.0f%% of %s's %d are exactly %d bytes (inner ACKs): inner TCP carried with a constant per-packet overhead",
				100*full, endpoint(f, bulk).Addr, b.PayloadPackets, fullSize, 100*ack, endpoint(f, 1-bulk).Addr, a.PayloadPackets, ackSize)
			conf := 0.6
			if p, ok := expectedPorts[f.Server.Port]; ok {
				// DNS's port carrying tunnel-shaped datagrams that are not
				// DNS (the engine parses DNS on 53 before any analyzer).
				conf += 0.1
				ex["expected_protocol"] = p
				what += "; on the " + p + " port"
			}
			c.emit(result{Rule: "network.behavior.encapsulation", Tool: "unknown", Category: report.CategoryVPN,
				Severity: report.SeverityMedium, Conf: conf, Matched: what, Extra: ex,
				Summary: fmt.Sprintf("Unrecognised VPN or tunnel between %s and %s: one long %s flow carries inner TCP sessions (MTU-bound packets one way, constant-size ACKs the other).", f.Client.Addr, f.Server, protoName(f.Proto))})
			return
		}
	},
}

// mediaOrQUIC recognises what the encapsulation shape must leave alone on
// UDP: RTP/RTCP media (version 2 in every kept datagram both ways) and
// QUIC (a long header of a known version, or short headers on port 443
// whose first byte varies).
func mediaOrQUIC(v *view) (string, bool) {
	rtp, n := true, 0
	short, varies, first := true, false, -1
	for d := 0; d < 2; d++ {
		dg, _ := v.dgrams(d)
		for _, b := range dg {
			if len(b) == 0 {
				continue
			}
			n++
			if len(b) < 12 || b[0]>>6 != 2 {
				rtp = false
			}
			if quicLong(b) {
				return "QUIC long header", true
			}
			if b[0]&0xc0 != 0x40 {
				short = false
			}
			if first >= 0 && int(b[0]) != first {
				varies = true
			}
			first = int(b[0])
		}
	}
	if n >= 2 && rtp {
		return "RTP/RTCP version 2", true
	}
	if n >= 2 && short && varies && (v.f.Server.Port == 443 || v.f.Client.Port == 443) {
		return "QUIC short headers on 443", true
	}
	return "", false
}

// quicLong: a QUIC long header (form and fixed bits) of version 1, 2, a
// draft, version negotiation, or Google QUIC ("Q0xx").
func quicLong(b []byte) bool {
	if len(b) < 7 || b[0]&0x80 == 0 {
		return false
	}
	ver := binary.BigEndian.Uint32(b[1:5])
	switch {
	case ver == 1 || ver == 0x6b3343cf || ver == 0 || ver>>8 == 0xff0000:
		return b[0]&0x40 != 0 || ver == 0
	case b[1] == 'Q' && b[2] == '0':
		return true
	}
	return false
}
