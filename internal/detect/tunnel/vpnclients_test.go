package tunnel

import (
	"fmt"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

func TestVPNClientsTable(t *testing.T) {
	if vpnClientsErr != nil {
		t.Fatal(vpnClientsErr)
	}
	if len(vpnClients) < 20 {
		t.Fatalf("only %d rows in vpnclients.tsv", len(vpnClients))
	}
	for _, bad := range []string{
		"a\tb\tvpn\tprocess\tn\tfrom_writeups",         // 6 fields
		"a\tb\ttunnel\tprocess\tn\tfrom_writeups\tsrc", // category
		"a\tb\tvpn\tfile\tn\tfrom_writeups\tsrc",       // kind
		"a\tb\tvpn\tprocess\tn\tguessed\tsrc",          // provenance
		"a\tb\tvpn\tprocess\t\tfrom_writeups\tsrc",     // empty name
	} {
		if _, err := parseVPNClients([]byte(bad)); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

// TestConsumerVPNConnected: a client holding a tun device is medium; the same
// process without one is low; an unrelated name is nothing.
func TestConsumerVPNConnected(t *testing.T) {
	procs := []source.Process{
		{PID: 40, Name: "mullvad-daemon", Exe: "/opt/Mullvad VPN/resources/mullvad-daemon"},
		{PID: 41, Name: "mullvadd-helper", Exe: "/usr/bin/mullvadd-helper"},
	}
	v := newProcView(procs, nil)
	ifs := []Interface{{Name: "wg0-mullvad", Owners: []TunOwner{{PID: 40, Interface: "wg0-mullvad", Name: "mullvad-daemon"}}}}
	fs := consumerVPNFindings("h", v, nil, ifs)
	if len(fs) != 1 || fs[0].Tool != "mullvad" || fs[0].Severity != report.SeverityMedium || fs[0].Evidence["tun_interface"] != "wg0-mullvad" {
		t.Fatalf("connected: %+v", fs)
	}
	fs = consumerVPNFindings("h", v, nil, nil)
	if len(fs) != 1 || fs[0].Severity != report.SeverityLow || !strings.Contains(fs[0].Summary, "running") {
		t.Fatalf("running: %+v", fs)
	}
	if fs := consumerVPNFindings("h", newProcView(procs[1:], nil), nil, nil); len(fs) != 0 {
		t.Fatalf("decoy matched: %+v", fs)
	}
}

func FuzzParseVPNClients(f *testing.F) {
	f.Add(vpnClientsTSV)
	f.Add([]byte("a\tb\tvpn\tprocess\tn\tverified\tsrc\r\n#x\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := parseVPNClients(b)
		if err == nil {
			for _, c := range cs {
				if c.Name == "" {
					t.Fatal("empty name accepted")
				}
			}
		}
	})
}

func TestServerNameFindings(t *testing.T) {
	procs := []source.Process{
		{PID: 900, Name: "openvpn", Cmdline: []string{"openvpn", "--remote", "us1234.nordvpn.com", "1194", "--auth-user-pass", "/etc/SECRET"}},
		{PID: 901, Name: "curl", Cmdline: []string{"curl", "-x", "http://user:pw@gw.windscribe.com:8080", "https://example.com"}},
		{PID: 902, Name: "curl", Cmdline: []string{"curl", "https://notnordvpn.com/x", "nordvpn.com.evil.example"}},
	}
	fs := serverNameFindings("h", newProcView(procs, nil))
	if len(fs) != 2 || fs[0].Tool != "nordvpn" || fs[0].Evidence["server_name"] != "us1234.nordvpn.com" ||
		fs[1].Tool != "windscribe" || fs[1].Evidence["server_name"] != "gw.windscribe.com" || fs[0].Severity != report.SeverityMedium {
		t.Fatalf("%+v", fs)
	}
	b := fmt.Sprint(fs)
	if strings.Contains(b, "SECRET") || strings.Contains(b, "pw") {
		t.Fatalf("command line leaked: %s", b)
	}
}
