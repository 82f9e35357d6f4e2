package lan

import (
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func mustName(s string) dnsmessage.Name { return dnsmessage.MustNewName(s) }

// avahiResponse builds a response like avahi-daemon's for a service
// "pikvm" of type _http._tcp on host pikvm.local at 10.200.80.2.
func avahiResponse(t testing.TB, instance string) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{Response: true, Authoritative: true})
	b.EnableCompression()
	_ = b.StartAnswers()
	h := func(n string, typ dnsmessage.Type) dnsmessage.ResourceHeader {
		return dnsmessage.ResourceHeader{Name: mustName(n), Type: typ, Class: dnsmessage.ClassINET, TTL: 120}
	}
	inst := strings.ReplaceAll(instance, ".", `\.`) + "._http._tcp.local."
	if err := b.PTRResource(h("_http._tcp.local.", dnsmessage.TypePTR), dnsmessage.PTRResource{PTR: mustName(inst)}); err != nil {
		t.Fatal(err)
	}
	_ = b.PTRResource(h("_services._dns-sd._udp.local.", dnsmessage.TypePTR), dnsmessage.PTRResource{PTR: mustName("_pikvm._tcp.local.")})
	_ = b.StartAdditionals()
	_ = b.SRVResource(h(inst, dnsmessage.TypeSRV), dnsmessage.SRVResource{Port: 80, Target: mustName("pikvm.local.")})
	_ = b.TXTResource(h(inst, dnsmessage.TypeTXT), dnsmessage.TXTResource{TXT: []string{"secret=do-not-report"}})
	_ = b.AResource(h("pikvm.local.", dnsmessage.TypeA), dnsmessage.AResource{A: [4]byte{10, 200, 80, 2}})
	_ = b.AAAAResource(h("pikvm.local.", dnsmessage.TypeAAAA), dnsmessage.AAAAResource{AAAA: [16]byte{0xfe, 0x80, 15: 2}})
	out, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseMDNS(t *testing.T) {
	r, ok := parseMDNS(avahiResponse(t, "My PiKVM v4.1"))
	if !ok {
		t.Fatal("not parsed")
	}
	join := func(ss []string) string { return strings.Join(ss, "|") }
	if join(r.Names) != "My PiKVM v4.1" || join(r.Services) != "_http._tcp|_pikvm._tcp" || join(r.Hosts) != "pikvm.local" || join(r.Addrs) != "10.200.80.2|fe80::2" {
		t.Errorf("parsed %+v", r)
	}
	for _, s := range append(append(r.Names, r.Services...), r.Hosts...) {
		if strings.Contains(s, "secret") {
			t.Errorf("TXT content leaked: %q", s)
		}
	}
	q, err := mdnsQuery()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := parseMDNS(q); ok {
		t.Error("a query must not count as an announcement")
	}
	if _, ok := parseMDNS(make([]byte, maxMDNSPacket+1)); ok {
		t.Error("oversized packet parsed")
	}
	m := map[string]*Heard{}
	heardFrom(m, "10.200.80.2", r)
	if tool := heardTool(m["10.200.80.2"]); tool != "pikvm" {
		t.Errorf("tool %q", tool)
	}
}
