package rfc5424

import (
	"strings"
	"testing"
	"time"
)

func TestMessageLayout(t *testing.T) {
	m := Message{Severity: 3, Time: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), Hostname: "my host", AppName: "farmwatch-agent",
		ProcID: "42", MsgID: "finding", Software: "farmwatch-agent", Version: "1.0", Sequence: 9,
		Private: []Param{{"kind", `a"b]c\d`}}, Body: "CEF:0|x"}
	want := `<107>1 2026-01-02T03:04:05.000006Z my_host farmwatch-agent 42 finding [origin software="farmwatch-agent" swVersion="1.0"][meta sequenceId="9"] CEF:0|x`
	if got := m.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	m.EnterpriseID = "4242"
	if got := m.String(); !strings.Contains(got, `enterpriseId="4242"][meta sequenceId="9"][farmwatch@4242 kind="a\"b\]c\\d"] CEF:0|x`) {
		t.Fatalf("with enterprise id: %s", got)
	}
	if got := (Message{}).String(); !strings.HasSuffix(got, " - - - - -") {
		t.Fatalf("empty message: %q", got)
	}
}

func TestEnterpriseID(t *testing.T) {
	for pen, ok := range map[string]bool{"": true, "4242": true, "4242.1.2": true, "32473": false, "32473.5": false, "0": false, "x": false, "1 2": false} {
		if err := ValidateEnterpriseID(pen); (err == nil) != ok {
			t.Errorf("ValidateEnterpriseID(%q) = %v", pen, err)
		}
	}
	// An invalid one configured anyway is not written.
	if got := (Message{EnterpriseID: "32473", Private: []Param{{"a", "b"}}}).String(); strings.Contains(got, "32473") {
		t.Fatalf("documentation PEN written: %s", got)
	}
}

// FuzzMessage: whatever the fields hold, the header is six space-separated
// tokens without control characters and each SD element is closed.
func FuzzMessage(f *testing.F) {
	f.Add("host", "app", "1", "finding", "v1", "kind", `x"]\`, "body", uint64(7), "4242")
	f.Add("", "", "", "", "", "", "", "", uint64(0), "")
	f.Add("h\nx", "a b", "p\x00", "m]", "v\"", "k=", "\xff", "line\nline", uint64(1<<40), "32473")
	f.Fuzz(func(t *testing.T, host, app, proc, msgid, ver, pname, pval, body string, seq uint64, pen string) {
		s := Message{Hostname: host, AppName: app, ProcID: proc, MsgID: msgid, Software: app, Version: ver, Sequence: seq,
			EnterpriseID: pen, Private: []Param{{pname, pval}}, Body: body}.String()
		head := strings.SplitN(s, " ", 7)
		if len(head) < 7 {
			t.Fatalf("header fields: %q", s)
		}
		for _, h := range head[:6] {
			if h == "" || strings.ContainsFunc(h, func(r rune) bool { return r < 33 || r > 126 }) {
				t.Fatalf("header field %q in %q", h, s)
			}
		}
		sd := head[6]
		if strings.HasPrefix(sd, "[") {
			depth, esc, inQuote := 0, false, false
			for i := 0; i < len(sd); i++ {
				c := sd[i]
				switch {
				case esc:
					esc = false
				case inQuote && c == '\\':
					esc = true
				case c == '"':
					inQuote = !inQuote
				case !inQuote && c == '[':
					depth++
				case !inQuote && c == ']':
					depth--
					if i+1 == len(sd) || sd[i+1] == ' ' {
						if depth != 0 {
							t.Fatalf("unbalanced SD: %q", s)
						}
						return
					}
				}
			}
			t.Fatalf("SD not closed: %q", s)
		}
	})
}
