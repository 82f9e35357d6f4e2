package network

import (
	"fmt"
	"math/bits"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Fully encrypted first payloads, after Wu et al., "How the Great
// Firewall of China Detects and Blocks Fully Encrypted Traffic" (USENIX
// Security 2023, §4): a connection's first payload is treated as "fully
// encrypted" unless one of the exemptions applies —
//
//	Ex1 the average popcount per byte is ≤ 3.4 or ≥ 4.6 (random bytes
//	    average 4.0);
//	Ex2 the first 6 bytes are printable ASCII;
//	Ex3 more than 50 % of the bytes are printable;
//	Ex4 a run of more than 20 contiguous printable bytes;
//	Ex5 it matches a known protocol (TLS, HTTP, SSH, … — here: anything a
//	    parser or tool signature of the engine recognised).
//
// Shadowsocks, VMess, obfs4/meek-less Tor bridges, outline and many VPN
// "stealth" modes look like this by design: no header, nothing in clear.
// The rule takes TCP only (UDP's random-looking payloads are QUIC short
// headers, games and media; encapsulation shape speaks for UDP) and needs
// both directions' first payloads to be fully encrypted when the server
// answered, the TCP handshake seen (a capture that starts mid-flow would
// test application data of some other protocol) and at least
// feMinPayload bytes.
const (
	feMinPayload   = 32
	feLowPopcount  = 3.4
	feHighPopcount = 4.6
	// A flow is a tunnel in use rather than a probe when it lasted
	// feLongLived with feMinBytes payload each way, or carried
	// feBulkBytes in all.
	feLongLived = 10e9 // ns
	feMinBytes  = 1024
	feBulkBytes = 64 << 10
)

// expectedPorts are server ports where a known, recognisable protocol is
// expected: a fully encrypted stream there is a protocol mismatch.
var expectedPorts = map[uint16]string{
	21: "ftp", 22: "ssh", 25: "smtp", 53: "dns", 80: "http", 110: "pop3", 143: "imap", 443: "https",
	465: "smtps", 587: "smtp", 853: "dns-over-tls", 993: "imaps", 995: "pop3s", 3389: "rdp", 5900: "vnc",
	8080: "http", 8443: "https",
}

// feVerdict is the outcome of the exemption test on one payload.
type feVerdict struct {
	encrypted bool
	popcount  float64
	exemption string
}

// fullyEncrypted applies the exemptions Ex1–Ex4 to b (Ex5, known
// protocols, is the caller's: it knows what the parsers found).
func fullyEncrypted(b []byte) feVerdict {
	if len(b) == 0 {
		return feVerdict{exemption: "empty"}
	}
	ones, printable, run, maxRun := 0, 0, 0, 0
	for _, c := range b {
		ones += bits.OnesCount8(c)
		if c >= 0x20 && c <= 0x7e {
			printable++
			run++
			maxRun = max(maxRun, run)
		} else {
			run = 0
		}
	}
	v := feVerdict{popcount: float64(ones) / float64(len(b))}
	first6 := len(b) >= 6
	for i := 0; i < 6 && i < len(b); i++ {
		first6 = first6 && b[i] >= 0x20 && b[i] <= 0x7e
	}
	switch {
	case v.popcount <= feLowPopcount || v.popcount >= feHighPopcount:
		v.exemption = "Ex1 popcount"
	case first6:
		v.exemption = "Ex2 first 6 bytes printable"
	case 2*printable > len(b):
		v.exemption = "Ex3 mostly printable"
	case maxRun > 20:
		v.exemption = "Ex4 printable run"
	default:
		v.encrypted = true
	}
	return v
}

// recognised reports whether any parser or tool signature understood the
// flow's opening (exemption Ex5).
func recognised(m *Meta) bool {
	return m.TLSClient != nil || m.TLSServer != nil || m.HTTPReq != nil || m.HTTPResp != nil || m.SOCKS != nil ||
		m.SSHClient != nil || m.SSHServer != nil || m.STUN != nil || m.DTLS || m.RFB != nil ||
		m.RDPRequest != nil || m.RDPConfirm != nil || len(m.Marks) > 0
}

// feMark keys the inspector's result: the popcounts, for evidence.
const feMark = "fully-encrypted"

var fullyEncryptedAnalyzer = analyzer{
	name: "fully-encrypted",
	inspect: func(v *view, m *Meta) {
		f := v.f
		if f.Proto != 6 || !f.SawSYN || recognised(m) {
			return
		}
		c, s := v.c2s, v.s2c
		if len(c) < feMinPayload {
			return
		}
		cv := fullyEncrypted(c)
		if !cv.encrypted {
			return
		}
		what := fmt.Sprintf("client's first %d bytes fully encrypted (popcount %.2f/byte, no printable structure, no known protocol)", len(c), cv.popcount)
		if len(s) > 0 {
			sv := fullyEncrypted(s)
			if !sv.encrypted {
				return
			}
			what = fmt.Sprintf("first payloads fully encrypted both ways (client %d bytes popcount %.2f, server %d bytes popcount %.2f; no printable structure, no known protocol)",
				len(c), cv.popcount, len(s), sv.popcount)
		}
		m.addMark(feMark, what)
	},
	classify: func(c *classCtx) {
		mk, ok := c.m.mark(feMark)
		if !ok {
			return
		}
		if c.identified { // a tool or name analyzer claimed the flow
			return
		}
		f := c.f
		cd, sd := &f.Dir[flow.C2S], &f.Dir[flow.S2C]
		conf := 0.5
		ex := map[string]any{"generic": true, "evidence": "fully-encrypted-first-payload"}
		if sd.PayloadBytes > 0 {
			conf += 0.1
		}
		if p, ok := expectedPorts[f.Server.Port]; ok {
			conf += 0.1
			ex["expected_protocol"] = p
		}
		inUse := (f.Duration() >= feLongLived && cd.PayloadBytes >= feMinBytes && sd.PayloadBytes >= feMinBytes) ||
			cd.PayloadBytes+sd.PayloadBytes >= feBulkBytes
		sev := report.SeverityLow
		if inUse {
			conf += 0.1
			sev = report.SeverityMedium
		}
		summary := fmt.Sprintf("Fully encrypted stream with no recognisable protocol from %s to %s (Shadowsocks/VMess/obfs4-style proxy or stealth VPN).", f.Client.Addr, f.Server)
		if p, ok := ex["expected_protocol"]; ok {
			summary = fmt.Sprintf("Fully encrypted stream with no recognisable protocol from %s to %s, a port where %s is expected (Shadowsocks/VMess/obfs4-style proxy or stealth VPN).", f.Client.Addr, f.Server, p)
		}
		c.emit(result{Rule: "network.behavior.fully-encrypted", Tool: "unknown", Category: report.CategoryProxy,
			Severity: sev, Conf: round3(conf), Matched: mk.What, Extra: ex, Summary: summary})
	},
}
