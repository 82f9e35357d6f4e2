package allowlist

import (
	"strings"
	"testing"
	"time"
)

func day(s string) Date {
	t, _ := time.Parse("2006-01-02", s)
	return Date{t}
}

func TestMatch(t *testing.T) {
	tv := Entry{Tool: "teamviewer", Signer: "TeamViewer Germany GmbH", Path: `C:\Program Files\TeamViewer\*`, Hosts: []string{"LAPTOP-*"}, Owner: "it", Reason: "helpdesk", Expires: day("2027-01-31")}
	subj := Subject{Tool: "teamviewer", Signer: "teamviewer germany gmbh", Signature: SignatureValid, Path: `C:\Program Files\TeamViewer\TeamViewer.exe`, Host: "laptop-042"}
	now := day("2026-11-22").Time
	cases := []struct {
		name string
		mut  func(*Subject)
		want bool
	}{
		{"all scopes match", func(*Subject) {}, true},
		{"other tool", func(s *Subject) { s.Tool = "anydesk" }, false},
		{"other signer", func(s *Subject) { s.Signer = "Evil Ltd" }, false},
		{"other path", func(s *Subject) { s.Path = `C:\Users\bob\Downloads\TeamViewer.exe` }, false},
		{"subdirectory is not covered by *", func(s *Subject) { s.Path = `C:\Program Files\TeamViewer\x\TeamViewer.exe` }, false},
		{"other host", func(s *Subject) { s.Host = "desktop-1" }, false},
		{"no path known", func(s *Subject) { s.Path = "" }, false},
		{"signature invalid", func(s *Subject) { s.Signature = "invalid" }, false},
		{"signature untrusted", func(s *Subject) { s.Signature = "untrusted" }, false},
		{"signature unverified", func(s *Subject) { s.Signature = "unverified" }, false},
		{"signature unknown", func(s *Subject) { s.Signature = "" }, false},
	}
	for _, c := range cases {
		s := subj
		c.mut(&s)
		live, _ := List{tv}.Match(s, now)
		if (live != nil) != c.want {
			t.Errorf("%s: matched=%v, want %v", c.name, live != nil, c.want)
		}
	}
}

func TestExpiry(t *testing.T) {
	e := Entry{Tool: "anydesk", Hosts: []string{"*"}, Owner: "o", Reason: "r", Expires: day("2026-06-30")}
	if e.Expired(day("2026-06-30").Add(23 * time.Hour)) {
		t.Fatal("entry expired during its last day")
	}
	if !e.Expired(day("2026-07-01").Time) {
		t.Fatal("entry still valid the day after expiry")
	}
	live, expired := List{e}.Match(Subject{Tool: "anydesk", Host: "h"}, day("2026-11-22").Time)
	if live != nil || expired == nil {
		t.Fatalf("expired entry: live=%v expired=%v", live, expired)
	}
}

func TestValidate(t *testing.T) {
	good := Entry{Tool: "x", Signer: "s", Owner: "o", Reason: "r", Expires: day("2030-01-01")}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for i, e := range []Entry{
		{Signer: "s", Owner: "o", Reason: "r", Expires: day("2030-01-01")},
		{Tool: "x", Signer: "s", Reason: "r", Expires: day("2030-01-01")},
		{Tool: "x", Signer: "s", Owner: "o", Expires: day("2030-01-01")},
		{Tool: "x", Signer: "s", Owner: "o", Reason: "r"},
		{Tool: "x", Owner: "o", Reason: "r", Expires: day("2030-01-01")},
		{Tool: "x", Path: "[", Owner: "o", Reason: "r", Expires: day("2030-01-01")},
	} {
		if e.Validate() == nil {
			t.Errorf("case %d accepted", i)
		}
	}
	var d Date
	if d.UnmarshalText([]byte("31/01/2027")) == nil {
		t.Fatal("bad date accepted")
	}
}

func TestMatchSHA256(t *testing.T) {
	const h = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	e := Entry{Tool: "anydesk", SHA256: strings.ToUpper(h), Owner: "it", Reason: "r", Expires: day("2027-01-31")}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	if !e.Matches(Subject{Tool: "anydesk", SHA256: h}) {
		t.Error("same hash does not match")
	}
	for _, other := range []string{"", strings.Replace(h, "9", "8", 1)} {
		if e.Matches(Subject{Tool: "anydesk", SHA256: other, Signer: "philandro Software GmbH", Signature: SignatureValid}) {
			t.Errorf("hash %q matches", other)
		}
	}
	e.SHA256 = "abc"
	if e.Validate() == nil {
		t.Error("short hash accepted")
	}
}
