package vpnnames

import "testing"

func TestList(t *testing.T) {
	if len(Entries) < 20 {
		t.Fatalf("only %d entries", len(Entries))
	}
	for name, tool := range map[string]string{"us1234.nordvpn.com": "nordvpn", "NORDVPN.COM.": "nordvpn", "surfshark.com": "surfshark"} {
		if e, ok := Match(name); !ok || e.Tool != tool {
			t.Errorf("Match(%q) = %+v %v, want %s", name, e, ok, tool)
		}
	}
	for _, name := range []string{"notnordvpn.com", "nordvpn.com.evil.example", "", "com"} {
		if e, ok := Match(name); ok {
			t.Errorf("Match(%q) = %+v", name, e)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("us1.nordvpn.com")
	f.Add(".")
	f.Fuzz(func(t *testing.T, s string) { Match(s) })
}
