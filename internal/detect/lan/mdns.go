package lan

import (
	"sort"
	"strings"

	"net/netip"

	"golang.org/x/net/dns/dnsmessage"
)

// Bounds on mDNS.
const (
	maxMDNSPacket     = 9000 // RFC 6762 §17
	maxMDNSPackets    = 2048
	maxMDNSResponders = 512
	maxNamesPerHost   = 64
)

// Heard is what one responder (source address) announced over mDNS:
// instance names, service types and host names, never TXT contents.
type Heard struct {
	From     string   `json:"from"`
	Names    []string `json:"names,omitempty"`
	Services []string `json:"services,omitempty"`
	Hosts    []string `json:"hosts,omitempty"`
	// Addrs are A/AAAA addresses announced for its host names.
	Addrs []string `json:"addrs,omitempty"`
}

// mdnsRecords is what one mDNS message announces.
type mdnsRecords struct {
	Names, Services, Hosts, Addrs []string
}

// parseMDNS decodes one mDNS message and returns the names it announces in
// its answer, authority and additional sections (questions are ignored: a
// query says nothing about who is on the LAN).
func parseMDNS(b []byte) (mdnsRecords, bool) {
	var r mdnsRecords
	if len(b) > maxMDNSPacket {
		return r, false
	}
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil || !h.Response {
		return r, false
	}
	if err := p.SkipAllQuestions(); err != nil {
		return r, false
	}
	n := 0
	for _, sec := range []section{answer, authority, additional} {
		for n < 512 {
			n++
			rh, err := header(&p, sec)
			if err != nil {
				break
			}
			if !addRecord(&p, rh, &r, sec) {
				goto done
			}
		}
	}
done:
	r.Names, r.Services, r.Hosts, r.Addrs = uniq(r.Names), uniq(r.Services), uniq(r.Hosts), uniq(r.Addrs)
	return r, len(r.Names)+len(r.Services)+len(r.Hosts) > 0
}

type section int

const (
	answer section = iota
	authority
	additional
)

// addRecord reads the body of the record whose header was just read.
func addRecord(p *dnsmessage.Parser, rh dnsmessage.ResourceHeader, r *mdnsRecords, s section) bool {
	name := rh.Name.String()
	switch rh.Type {
	case dnsmessage.TypePTR:
		body, err := p.PTRResource()
		if err != nil {
			return false
		}
		target := body.PTR.String()
		switch {
		case strings.EqualFold(name, "_services._dns-sd._udp.local."):
			r.Services = append(r.Services, svcName(target))
		case isServiceType(name):
			r.Services = append(r.Services, svcName(name))
			r.Names = append(r.Names, instanceName(target, name))
		case strings.HasSuffix(asciiLower(name), ".arpa."):
			r.Hosts = append(r.Hosts, hostName(target))
		}
	case dnsmessage.TypeSRV:
		body, err := p.SRVResource()
		if err != nil {
			return false
		}
		if i := serviceSplit(name); i > 0 {
			r.Names = append(r.Names, clean(unescape(name[:i])))
			r.Services = append(r.Services, svcName(name[i+1:]))
		}
		r.Hosts = append(r.Hosts, hostName(body.Target.String()))
	case dnsmessage.TypeA:
		body, err := p.AResource()
		if err != nil {
			return false
		}
		r.Hosts = append(r.Hosts, hostName(name))
		r.Addrs = append(r.Addrs, normIP(ipString(body.A[:])))
	case dnsmessage.TypeAAAA:
		body, err := p.AAAAResource()
		if err != nil {
			return false
		}
		r.Hosts = append(r.Hosts, hostName(name))
		r.Addrs = append(r.Addrs, normIP(ipString(body.AAAA[:])))
	default:
		if isInstance(name) {
			if i := serviceSplit(name); i > 0 {
				r.Names = append(r.Names, clean(unescape(name[:i])))
				r.Services = append(r.Services, svcName(name[i+1:]))
			}
		}
		if err := skipAny(p, s); err != nil {
			return false
		}
	}
	return true
}

func header(p *dnsmessage.Parser, s section) (dnsmessage.ResourceHeader, error) {
	switch s {
	case authority:
		return p.AuthorityHeader()
	case additional:
		return p.AdditionalHeader()
	}
	return p.AnswerHeader()
}

func skipAny(p *dnsmessage.Parser, s section) error {
	switch s {
	case authority:
		return p.SkipAuthority()
	case additional:
		return p.SkipAdditional()
	}
	return p.SkipAnswer()
}

// isServiceType reports whether name is "_x._tcp.local." / "_x._udp.local."
// (optionally with a "_sub" subtype prefix).
func isServiceType(name string) bool {
	l := asciiLower(name)
	if !strings.HasSuffix(l, "._tcp.local.") && !strings.HasSuffix(l, "._udp.local.") {
		return false
	}
	return strings.HasPrefix(l, "_")
}

// isInstance reports whether name is "<instance>._x._tcp.local.".
func isInstance(name string) bool { return serviceSplit(name) > 0 }

// serviceSplit returns the index of the dot between the instance label
// and the service type of "<instance>._x._tcp.local.", or -1.
func serviceSplit(name string) int {
	l := asciiLower(name)
	if !strings.HasSuffix(l, "._tcp.local.") && !strings.HasSuffix(l, "._udp.local.") {
		return -1
	}
	i := strings.Index(l, "._")
	if i <= 0 {
		return -1
	}
	// the instance label may itself contain escaped dots; take the first
	// "._" that starts the service type.
	return i
}

// instanceName turns "My PiKVM._http._tcp.local." under service type
// svc into "My PiKVM".
func instanceName(target, svc string) string {
	t := target
	if strings.HasSuffix(asciiLower(t), "."+asciiLower(svc)) {
		t = t[:len(t)-len(svc)-1]
	} else if i := serviceSplit(t); i > 0 {
		t = t[:i]
	}
	return clean(unescape(t))
}

func svcName(s string) string {
	return clean(strings.TrimSuffix(strings.TrimSuffix(s, "."), ".local"))
}

func hostName(s string) string { return clean(strings.TrimSuffix(unescape(s), ".")) }

// unescape undoes the \DDD and \c escapes of dnsmessage.Name.String.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if v < 256 {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func ipString(b []byte) string {
	switch len(b) {
	case 4:
		return netipFrom4(b)
	case 16:
		return netipFrom16(b)
	}
	return ""
}

func uniq(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	sort.Strings(out)
	if len(out) > maxNamesPerHost {
		out = out[:maxNamesPerHost]
	}
	return out
}

// heardFrom merges a message's records into the per-responder map.
func heardFrom(m map[string]*Heard, from string, r mdnsRecords) {
	h, ok := m[from]
	if !ok {
		if len(m) >= maxMDNSResponders {
			return
		}
		h = &Heard{From: from}
		m[from] = h
	}
	h.Names = uniq(append(h.Names, r.Names...))
	h.Services = uniq(append(h.Services, r.Services...))
	h.Hosts = uniq(append(h.Hosts, r.Hosts...))
	h.Addrs = uniq(append(h.Addrs, r.Addrs...))
}

// sortedHeard returns the map's values ordered by source address.
func sortedHeard(m map[string]*Heard) []Heard {
	out := make([]Heard, 0, len(m))
	for _, h := range m {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From < out[j].From })
	return out
}

// mdnsQuery builds one PTR query (QM, multicast reply) for the service
// types that reveal IP-KVMs.
func mdnsQuery() ([]byte, error) {
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), dnsmessage.Header{})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	for _, q := range queryNames {
		n, err := dnsmessage.NewName(q)
		if err != nil {
			return nil, err
		}
		if err := b.Question(dnsmessage.Question{Name: n, Type: dnsmessage.TypePTR, Class: dnsmessage.ClassINET}); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// queryNames are the service types asked for.
var queryNames = []string{
	"_services._dns-sd._udp.local.",
	"_http._tcp.local.",
	"_https._tcp.local.",
	"_pikvm._tcp.local.",
	"_ssh._tcp.local.",
	"_workstation._tcp.local.",
}

func netipFrom4(b []byte) string  { return netip.AddrFrom4([4]byte(b)).String() }
func netipFrom16(b []byte) string { return netip.AddrFrom16([16]byte(b)).String() }

// asciiLower lower-cases ASCII letters only, so indexes into the result
// are indexes into s (strings.ToLower may change the length of invalid or
// non-ASCII input).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
