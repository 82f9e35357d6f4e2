package lan

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedFiles adds every fixture file whose path ends with one of names.
func seedFiles(f *testing.F, names ...string) {
	f.Helper()
	_ = filepath.Walk(fixtures, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		for _, n := range names {
			if strings.HasSuffix(filepath.ToSlash(p), n) {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b)
				}
			}
		}
		return nil
	})
}

func checkNeighbors(t *testing.T, ns []Neighbor) {
	t.Helper()
	if len(ns) > maxNeighbors {
		t.Fatalf("%d neighbours", len(ns))
	}
	for _, n := range ns {
		if _, err := netip.ParseAddr(n.IP); err != nil {
			t.Fatalf("ip %q: %v", n.IP, err)
		}
		if normMAC(n.MAC) != n.MAC {
			t.Fatalf("mac %q not normalized", n.MAC)
		}
		checkString(t, n.Interface)
		checkString(t, n.State)
	}
}

func checkString(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxString || strings.ContainsAny(s, "\x00\n\r\t\x1b") {
		t.Fatalf("unclean string %q", s)
	}
}

func FuzzParseProcARP(f *testing.F) {
	seedFiles(f, "proc/net/arp")
	f.Fuzz(func(t *testing.T, b []byte) { checkNeighbors(t, parseProcARP(b)) })
}

func FuzzParseIPNeigh(f *testing.F) {
	seedFiles(f, "ip-6-neigh.txt")
	f.Fuzz(func(t *testing.T, b []byte) { checkNeighbors(t, parseIPNeigh(b)) })
}

func FuzzParseDarwinARP(f *testing.F) {
	seedFiles(f, "arp-an.txt")
	f.Fuzz(func(t *testing.T, b []byte) { checkNeighbors(t, parseDarwinARP(b)) })
}

func FuzzParseNeighborsJSON(f *testing.F) {
	seedFiles(f, "neighbors.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		ns, err := parseNeighborsJSON(b)
		if err == nil {
			checkNeighbors(t, ns)
		}
	})
}

func FuzzParseMDNS(f *testing.F) {
	f.Add(avahiResponse(f, "pikvm"))
	f.Add(avahiResponse(f, "Weird\x00\x1b[2Jname.with.dots"))
	if q, err := mdnsQuery(); err == nil {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _ := parseMDNS(b)
		for _, list := range [][]string{r.Names, r.Services, r.Hosts} {
			if len(list) > maxNamesPerHost {
				t.Fatalf("%d names", len(list))
			}
			for _, s := range list {
				checkString(t, s)
			}
		}
		for _, a := range r.Addrs {
			if _, err := netip.ParseAddr(a); err != nil {
				t.Fatalf("addr %q", a)
			}
		}
		m := map[string]*Heard{}
		heardFrom(m, "10.0.0.1", r)
		_ = heardTool(m["10.0.0.1"])
	})
}

func FuzzParseMDNSJSON(f *testing.F) {
	seedFiles(f, "mdns.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		var hs []Heard
		if json.Unmarshal(b, &hs) != nil {
			return
		}
		for _, h := range sanitizeHeard(hs) {
			for _, s := range append(append(h.Names, h.Services...), h.Hosts...) {
				checkString(t, s)
			}
		}
	})
}

func FuzzParseTitle(f *testing.F) {
	f.Add([]byte("<html><title>PiKVM</title></html>"))
	f.Add([]byte("<TITLE lang=en>Tiny&amp;Pilot\n</TITLE>"))
	f.Add([]byte("<title>unterminated"))
	f.Fuzz(func(t *testing.T, b []byte) { checkString(t, parseTitle(b)) })
}
