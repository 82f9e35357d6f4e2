// Package dns parses DNS messages seen on the wire: the question and the
// A/AAAA/CNAME answers, so the traffic engine can remember which name a
// later flow's server address was resolved from and can spot DNS tunnels
// (long, high-entropy labels and unusual record types under one domain).
package dns

import (
	"fmt"
	"math"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// Message is the part of a DNS message the engine uses.
type Message struct {
	Response bool
	RCode    int
	QName    string // lower case, no trailing dot
	QType    uint16
	// Addrs are the first NAddrs A/AAAA records; each maps back to QName
	// (following the CNAME chain, the name the client asked for is what
	// matters). A fixed array keeps parsing free of per-answer allocations.
	Addrs  [8]netip.Addr
	NAddrs int
	// TXT/NULL/CNAME/MX answers carry payload in DNS tunnels.
	DataAnswers int
}

// Parse decodes a DNS message (UDP payload, or TCP payload without the
// two-byte length prefix) into m.
func Parse(b []byte, m *Message) error {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil {
		return fmt.Errorf("dns header: %w", err)
	}
	*m = Message{Response: h.Response, RCode: int(h.RCode)}
	q, err := p.Question()
	if err != nil {
		return fmt.Errorf("dns question: %w", err)
	}
	m.QName = normalizeBytes(q.Name.Data[:q.Name.Length])
	m.QType = uint16(q.Type)
	if err := p.SkipAllQuestions(); err != nil {
		return nil
	}
	for i := 0; i < 64; i++ {
		ah, err := p.AnswerHeader()
		if err != nil {
			break
		}
		switch ah.Type {
		case dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				return nil
			}
			if m.NAddrs < len(m.Addrs) {
				m.Addrs[m.NAddrs] = netip.AddrFrom4(r.A)
				m.NAddrs++
			}
		case dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				return nil
			}
			if m.NAddrs < len(m.Addrs) {
				m.Addrs[m.NAddrs] = netip.AddrFrom16(r.AAAA)
				m.NAddrs++
			}
		default:
			switch ah.Type {
			case dnsmessage.TypeTXT, dnsmessage.Type(10), dnsmessage.TypeCNAME, dnsmessage.TypeMX, dnsmessage.TypeSRV:
				m.DataAnswers++
			}
			if err := p.SkipAnswer(); err != nil {
				return nil
			}
		}
	}
	return nil
}

// normalizeBytes lower-cases ASCII, strips the trailing dot and returns a
// string with one allocation.
func normalizeBytes(b []byte) string {
	var buf [255]byte
	n := copy(buf[:], b)
	if n > 0 && buf[n-1] == '.' {
		n--
	}
	for i := 0; i < n; i++ {
		if c := buf[i]; c >= 'A' && c <= 'Z' {
			buf[i] = c + 32
		}
	}
	return string(buf[:n])
}

// Normalize lower-cases a DNS name and strips the trailing dot.
func Normalize(name string) string {
	return strings.TrimSuffix(strings.ToLower(name), ".")
}

// Registered returns the last two labels of name ("a.b.example.com" →
// "example.com"), or three when the second-level label is a common public
// suffix part ("x.example.co.uk" → "example.co.uk"). It returns a
// substring of name (no allocation).
func Registered(name string) string {
	var dots [3]int // positions of the last three dots
	nd := 0
	for i := len(name) - 1; i >= 0 && nd < 3; i-- {
		if name[i] == '.' {
			dots[nd] = i
			nd++
		}
	}
	if nd < 2 {
		return name
	}
	tld := name[dots[0]+1:]
	second := name[dots[1]+1 : dots[0]]
	if len(tld) == 2 {
		switch second {
		case "co", "com", "net", "org", "ac", "gov", "edu":
			if nd < 3 {
				return name
			}
			return name[dots[2]+1:]
		}
	}
	return name[dots[1]+1:]
}

// Entropy returns the Shannon entropy in bits per character of s,
// ignoring dots (label separators).
func Entropy(s string) float64 {
	var counts [256]int
	total := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '.' {
			counts[s[i]]++
			total++
		}
	}
	if total == 0 {
		return 0
	}
	var h float64
	n := float64(total)
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
