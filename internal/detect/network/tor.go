package network

import (
	"fmt"
	"strings"

	"github.com/farmwatch/farmwatch/internal/report"
)

// torAnalyzer: Tor's TLS disguise — a ClientHello SNI of the form
// "www.<random>.com" to a server the capture never resolved, answered (TLS
// ≤ 1.2) by a certificate for "www.<random>.net" issued by
// "www.<random>.com" — or the published JA4 of a Tor build.
var torAnalyzer = analyzer{
	name: "tor",
	classify: func(c *classCtx) {
		m := c.m
		if m.TLSClient == nil {
			return
		}
		what := ""
		conf := 0.0
		if sh := m.TLSServer; sh != nil && sh.Cert != nil && torName(sh.Cert.SubjectCN, ".net") && torName(sh.Cert.IssuerCN, ".com") {
			what, conf = "certificate CN "+sh.Cert.SubjectCN+" issued by "+sh.Cert.IssuerCN, 0.9
		} else if torJA4[m.JA4] {
			what, conf = "Tor JA4 "+m.JA4, 0.8
		} else if torName(m.TLSClient.SNI, ".com") && c.f.ServerName == "" && len(m.TLSClient.ALPN) == 0 {
			what, conf = "random www.<x>.com SNI "+m.TLSClient.SNI+" to an unresolved address, no ALPN", 0.6
		}
		if what == "" {
			return
		}
		c.emit(result{Rule: "network.tor.session", Tool: "tor", Category: report.CategoryVPN,
			Severity: report.SeverityMedium, Conf: conf, Matched: what,
			Extra:   map[string]any{report.EvTLSSNI: m.TLSClient.SNI, "ja4": m.JA4},
			Summary: fmt.Sprintf("Tor connection from %s to relay %s.", c.f.Client.Addr, c.f.Server)})
	},
}

var torJA4 = map[string]bool{"t10d360300_77f462745360_33a13ba74d1c": true}

// torName matches www.<8-20 lowercase letters/digits>.<tld>.
func torName(s, tld string) bool {
	if !strings.HasPrefix(s, "www.") || !strings.HasSuffix(s, tld) {
		return false
	}
	mid := s[4 : len(s)-len(tld)]
	if len(mid) < 8 || len(mid) > 20 {
		return false
	}
	vowels := 0
	for i := 0; i < len(mid); i++ {
		ch := mid[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9') {
			return false
		}
		if strings.IndexByte("aeiou", ch) >= 0 {
			vowels++
		}
	}
	// Random base32 strings have few vowels; words have many.
	return float64(vowels)/float64(len(mid)) < 0.25
}
