package network

import (
	"fmt"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/report"
)

// TLS inside TLS, after Xue et al., "Fingerprinting Obfuscated Proxy
// Traffic with Encapsulated TLS Handshakes" (USENIX Security 2024): a proxy
// that carries the user's HTTPS inside its own TLS (stunnel, Trojan,
// V2Ray/Xray VMess/VLESS over TLS or WebSocket, NaiveProxy, gost) shows the
// inner handshake in the outer session's record sizes and their order,
// which stay in clear: after the outer handshake, the client's first
// application records are
//
//	c1  the inner ClientHello (tiiMinHello–tiiMaxHello bytes of record
//	    payload: a ClientHello plus proxy framing and the outer AEAD tag),
//	… the server answers, at least a round trip later, with the inner
//	    server flight (tiiMinFlight–tiiMaxFlight bytes: ServerHello,
//	    certificate, Finished),
//	c2  the inner client Finished (with ChangeCipherSpec, or the TLS 1.2
//	    key exchange): tiiMinFinished–tiiMaxFinished bytes, and
//	c3  the inner application data right behind it (within
//	    tiiFollowGap): the client does not wait for the server after its
//	    Finished.
//
// Plain HTTPS does not answer a request with a flight that the client
// acknowledges with a Finished-sized record and data at once. Record
// lengths come from the kept client stream prefix (flow.ClientBytes);
// timing and the server's bytes from flow.Flow.Opening.
const (
	tiiMinHello    = 200
	tiiMaxHello    = 2100
	tiiMinFlight   = 90
	tiiMaxFlight   = 12000
	tiiMinFinished = 60
	tiiMaxFinished = 220
	tiiFollowGap   = 50 * time.Millisecond
	// tiiMinWait: c2 comes at least this share of the handshake RTT after
	// c1 (the inner server flight had to arrive first).
	tiiMinWait = 0.5
)

// tlsRecord is one TLS record of a stream prefix.
type tlsRecord struct {
	off, n int // offset of the header, payload length
	typ    byte
}

// tlsRecords walks the TLS records at the start of b, stopping at the
// first incomplete or malformed one.
func tlsRecords(b []byte) []tlsRecord {
	var out []tlsRecord
	for off := 0; off+5 <= len(b); {
		typ := b[off]
		if typ < 20 || typ > 23 || b[off+1] != 3 {
			break
		}
		n := int(b[off+3])<<8 | int(b[off+4])
		if off+5+n > len(b) || n == 0 || n > 16384+2048 {
			break
		}
		out = append(out, tlsRecord{off: off, n: n, typ: typ})
		off += 5 + n
	}
	return out
}

const (
	tiiMark      = "tls-in-tls"
	tiiLooseMark = "tls-in-tls-loose"
	// tiiMinLooseFlows outer sessions from one client to one server with
	// the loose shape make it medium.
	tiiMinLooseFlows = 3
	maxTIILoose      = 4096
)

var tlsInTLSAnalyzer = analyzer{
	name: "tls-in-tls",
	inspect: func(v *view, m *Meta) {
		f := v.f
		if f.Proto != 6 || m.TLSClient == nil || m.TLSServer == nil {
			return
		}
		if what, strict, ok := tlsInTLS(f, v.c2s, m.TLSServer.Version == 0x0304); ok {
			key := tiiLooseMark
			if strict {
				key = tiiMark
			}
			m.addMark(key, what)
		}
	},
	classify: func(c *classCtx) {
		if c.claimed("tor") {
			return
		}
		f := c.f
		ex := map[string]any{"generic": true, "evidence": "tls-in-tls-handshake-shape", "inner_protocol": "tls"}
		sev, conf := report.SeverityMedium, 0.7
		mk, ok := c.m.mark(tiiMark)
		if !ok {
			if mk, ok = c.m.mark(tiiLooseMark); !ok {
				return
			}
			// Finished and data in one record: medium once repeated.
			k := f.Client.Addr.String() + "|" + f.Server.String()
			if _, known := c.e.tiiLoose[k]; !c.m.tiiCounted && (known || len(c.e.tiiLoose) < maxTIILoose) {
				c.m.tiiCounted = true // a snapshot classifies live flows again
				c.e.tiiLoose[k]++
			}
			ex["tls_in_tls_flows"] = c.e.tiiLoose[k]
			sev, conf = report.SeverityLow, 0.5
			if c.e.tiiLoose[k] >= tiiMinLooseFlows {
				sev, conf = report.SeverityMedium, 0.6
			}
		}
		c.emit(result{Rule: "network.behavior.tls-in-tls", Tool: "unknown", Category: report.CategoryProxy,
			Severity: sev, Conf: conf, Matched: mk.What, Extra: ex,
			Summary: fmt.Sprintf("TLS tunnelled inside TLS from %s to %s: the outer session's first records carry an inner TLS handshake (stunnel, Trojan, V2Ray/Xray, NaiveProxy-style proxy).", f.Client.Addr, f.Server)})
	},
}

// tlsInTLS looks for the inner handshake shape in the client's stream
// prefix c (outer TLS 1.3 when tls13: its first application record is the
// outer Finished).
//
// strict is set when the inner Finished was followed at once by data in a
// record of its own; otherwise (Finished and data in one record) only the
// repetition over tiiMinLooseFlows outer sessions to one server makes the
// finding medium.
func tlsInTLS(f *flow.Flow, c []byte, tls13 bool) (what string, strict, ok bool) {
	loose := ""
	recs := tlsRecords(c)
	var app []tlsRecord
	skipFinished := tls13
	for _, r := range recs {
		if r.typ != 23 {
			continue
		}
		if skipFinished {
			skipFinished = false
			continue
		}
		app = append(app, r)
	}
	if len(app) < 3 {
		return "", false, false
	}
	// The client's payload packets of the opening, with their stream
	// offsets, to time each record.
	type cseg struct {
		start, end int
		idx        int // index in f.Opening
	}
	var segs []cseg
	off := 0
	for i := 0; i < f.NOpening; i++ {
		s := f.Opening[i]
		if int(s.Dir) != flow.C2S {
			continue
		}
		segs = append(segs, cseg{off, off + int(s.Len), i})
		off += int(s.Len)
	}
	segOf := func(pos int) int {
		for _, s := range segs {
			if pos >= s.start && pos < s.end {
				return s.idx
			}
		}
		return -1
	}
	rtt := f.HandshakeRTT()
	for k := 0; k+2 < len(app); k++ {
		c1, c2, c3 := app[k], app[k+1], app[k+2]
		if c1.n < tiiMinHello || c1.n > tiiMaxHello || c2.n < tiiMinFinished || c2.n > tiiMaxFinished {
			continue
		}
		i1, i2, i3 := segOf(c1.off), segOf(c2.off), segOf(c3.off)
		if i1 < 0 || i2 < 0 || i3 < 0 || i1 == i2 {
			continue
		}
		// What the server sent between c1 and c2: the inner server flight.
		flight := 0
		for i := i1 + 1; i < i2; i++ {
			if s := f.Opening[i]; int(s.Dir) == flow.S2C {
				flight += int(s.Len)
			}
		}
		t1, t2, t3 := f.SegTime(f.Opening[i1]), f.SegTime(f.Opening[i2]), f.SegTime(f.Opening[i3])
		if flight < tiiMinFlight || flight > tiiMaxFlight {
			continue
		}
		if wait := time.Duration(t2 - t1); rtt > 0 && float64(wait) < tiiMinWait*float64(rtt) {
			continue
		}
		if t3-t2 <= int64(tiiFollowGap) {
			return fmt.Sprintf("after the outer TLS handshake the client sent a %d-byte record (inner ClientHello), the server a %d-byte flight, then the client a %d-byte record (inner Finished) %.0f ms later and data at once: a TLS handshake inside the TLS session",
				c1.n, flight, c2.n, float64(t2-t1)/1e6), true, true
		}
		// The inner Finished and the first data in one record (Trojan
		// writes them together): the same shape without the data right
		// behind, which a small keep-alive request can also make.
		if loose == "" {
			loose = fmt.Sprintf("after the outer TLS handshake the client sent a %d-byte record (inner ClientHello), the server a %d-byte flight, then the client a %d-byte record (inner Finished with data) %.0f ms later",
				c1.n, flight, c2.n, float64(t2-t1)/1e6)
		}
	}
	return loose, false, loose != ""
}

// Imitated TLS: a tool that only dresses its stream as TLS (simple-obfs in
// TLS mode, with a decoy SNI of a big site) breaks the TLS 1.2 handshake it
// imitates: the client sends application data without ever sending its
// ChangeCipherSpec and Finished, which TLS 1.2 requires first (RFC 5246
// §7.3, in a full and in an abbreviated handshake alike). Checked on the
// kept client prefix when the server negotiated TLS ≤ 1.2 and itself
// sent its ChangeCipherSpec right after the ServerHello (the abbreviated,
// resumed handshake simple-obfs imitates, where the client's
// ChangeCipherSpec and Finished must follow before any data).
func tlsImitation(c, s []byte, serverVersion uint16) (string, bool) {
	if serverVersion == 0 || serverVersion >= 0x0304 {
		return "", false
	}
	serverCCS := false
	for _, r := range tlsRecords(s) {
		serverCCS = serverCCS || r.typ == 20
	}
	if !serverCCS {
		return "", false
	}
	recs := tlsRecords(c)
	if len(recs) < 2 || recs[0].typ != 22 {
		return "", false
	}
	for _, r := range recs[1:] {
		switch r.typ {
		case 20: // ChangeCipherSpec: a real handshake
			return "", false
		case 23:
			return fmt.Sprintf("TLS %s resumed (server ChangeCipherSpec), but the client sent a %d-byte application-data record without ChangeCipherSpec and Finished: an imitation of TLS", tlsVersionName(serverVersion), r.n), true
		}
	}
	return "", false
}

func tlsVersionName(v uint16) string {
	switch v {
	case 0x0301:
		return "1.0"
	case 0x0302:
		return "1.1"
	case 0x0303:
		return "1.2"
	}
	return fmt.Sprintf("0x%04x", v)
}

const fakeTLSMark = "tls-imitation"

var tlsImitationAnalyzer = analyzer{
	name: "tls-imitation",
	inspect: func(v *view, m *Meta) {
		if v.f.Proto != 6 || m.TLSClient == nil || m.TLSServer == nil {
			return
		}
		if what, ok := tlsImitation(v.c2s, v.s2c, m.TLSServer.Version); ok {
			m.addMark(fakeTLSMark, what)
		}
	},
	classify: func(c *classCtx) {
		mk, ok := c.m.mark(fakeTLSMark)
		if !ok {
			return
		}
		f := c.f
		ex := map[string]any{"generic": true, "evidence": "tls-imitation"}
		c.emit(result{Rule: "network.behavior.tls-imitation", Tool: "unknown", Category: report.CategoryProxy,
			Severity: report.SeverityMedium, Conf: 0.8, Matched: mk.What, Extra: ex,
			Summary: fmt.Sprintf("Imitated TLS from %s to %s: the handshake is only a disguise (simple-obfs-style obfuscation, often with the SNI of a big web site as a decoy).", f.Client.Addr, f.Server)})
	},
}
