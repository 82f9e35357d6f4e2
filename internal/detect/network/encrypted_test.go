package network

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/detect/network/internal/pcaptest"
	"github.com/farmwatch/farmwatch/internal/report"
)

// TestFullyEncryptedExemptions checks each exemption of Wu et al. (2023).
func TestFullyEncryptedExemptions(t *testing.T) {
	// Ciphertext-like bytes from a fixed seed: about 0.3 % of truly random
	// payloads start with 6 printable bytes and are exempt by Ex2 (as the
	// GFW exempts them), so a fresh random buffer would fail now and then.
	random := make([]byte, 600)
	if _, err := rand.NewChaCha8([32]byte{'f', 'a', 'r', 'm', 'w', 'a', 't', 'c', 'h'}).Read(random); err != nil {
		t.Fatal(err)
	}
	if v := fullyEncrypted(random); !v.encrypted {
		t.Fatalf("random bytes exempted by %s (popcount %.2f)", v.exemption, v.popcount)
	}
	withRun := bytes.Clone(random)
	copy(withRun[100:], "abcdefghijklmnopqrstuvwxyz")
	cases := []struct {
		name string
		b    []byte
		ex   string
	}{
		{"zeros", make([]byte, 100), "Ex1 popcount"},
		{"0xff", bytes.Repeat([]byte{0xff}, 100), "Ex1 popcount"},
		{"http", append([]byte("GET / HTTP/1.1\r\n"), random[:100]...), "Ex2 first 6 bytes printable"},
		{"printable run", withRun, "Ex4 printable run"},
		{"mostly printable", bytes.Repeat([]byte("w\x81k3"), 40), "Ex3 mostly printable"},
	}
	for _, c := range cases {
		if v := fullyEncrypted(c.b); v.encrypted || v.exemption != c.ex {
			t.Errorf("%s: encrypted=%v exemption %q, want %q", c.name, v.encrypted, v.exemption, c.ex)
		}
	}
}

// TestCertificateMatchCategory: a VPN matched by its certificate is a VPN
// finding (it was once reported as remote-access).
func TestCertificateMatchCategory(t *testing.T) {
	cp := pcaptest.New()
	tlsSession(cp, "192.168.1.10:50000", "185.1.1.1:443", clientHello(""),
		serverFlight(t, "node1", "Windscribe", "Windscribe CA", "Windscribe"))
	fs := run(t, cp)
	f := find(fs, "network.windscribe.session", "windscribe")
	if f == nil {
		t.Fatalf("no windscribe finding; got %s", summarize(fs))
	}
	if f.Category != report.CategoryVPN {
		t.Errorf("category %s, want vpn", f.Category)
	}
}

// TestVPNNameList: every line of the embedded list is well formed and
// applied, the longest suffix wins, and each match carries its category.
func TestVPNNameList(t *testing.T) {
	n := 0
	for _, line := range strings.Split(vpnNamesTSV, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		n++
		f := strings.Split(line, "\t")
		if len(f) != 4 || !report.Category(f[2]).Valid() {
			t.Fatalf("malformed line %q", line)
		}
		if ind := matchName("x." + f[3]); ind == nil || ind.tool != f[0] || ind.category != report.Category(f[2]) {
			t.Errorf("%s: matched %+v, want %s/%s", f[3], ind, f[0], f[2])
		}
	}
	if n < 25 {
		t.Fatalf("%d names in the list, want ≥ 25", n)
	}
	for name, tool := range map[string]string{"secure.logmein.com": "hamachi", "control.logmein.com": "logmein", "api.surfshark.com": "surfshark"} {
		if ind := matchName(name); ind == nil || ind.tool != tool {
			t.Errorf("%s: matched %+v, want %s", name, ind, tool)
		}
	}
	cp := pcaptest.New()
	tlsSession(cp, "192.168.1.10:50000", "104.1.1.1:443", clientHello(""),
		serverFlight(t, "*.tunnelbear.com", "", "R3", "Let's Encrypt"))
	fs := run(t, cp)
	if f := find(fs, "network.tunnelbear.session", "tunnelbear"); f == nil || f.Category != report.CategoryVPN {
		t.Errorf("TunnelBear certificate: got %s", summarize(fs))
	}
}
