// Package allowlist holds sanctioned-tool entries: a remote-access tool the
// organisation approved, scoped by signer, executable hash, executable path
// and host, each with an owner, a reason and an expiry date. Expired entries
// stop matching.
//
// A signer scope matches only a signature verified as valid (the image
// digest, the signature and the chain to a trusted root all check out):
// never an invalid, untrusted, unverified or absent one, so copying a signed
// file's certificate table onto another binary does not borrow its entry.
package allowlist

import (
	"fmt"
	"path"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Entry is one sanctioned tool. Tool is required; Signer, SHA256, Path and
// Hosts narrow it (all given scopes must match).
type Entry struct {
	Tool string `yaml:"tool" json:"tool"`
	// Signer is the Authenticode signer (certificate CN or O), or the macOS
	// signing certificate's O or Team ID; it matches only a signature
	// verified as valid.
	Signer string `yaml:"signer,omitempty" json:"signer,omitempty"`
	// SHA256 is the executable's SHA-256 (hex); it matches only that file.
	SHA256  string   `yaml:"sha256,omitempty" json:"sha256,omitempty"`
	Path    string   `yaml:"path,omitempty" json:"path,omitempty"`
	Hosts   []string `yaml:"hosts,omitempty" json:"hosts,omitempty"`
	Owner   string   `yaml:"owner" json:"owner"`
	Reason  string   `yaml:"reason" json:"reason"`
	Expires Date     `yaml:"expires" json:"expires"`
}

// Date is a calendar day (YYYY-MM-DD). An entry is valid through the end of
// its expiry day, UTC.
type Date struct{ time.Time }

// UnmarshalText parses YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("want a date like 2027-01-31, got %q", string(b))
	}
	d.Time = t
	return nil
}

// UnmarshalYAML parses YYYY-MM-DD and reports the line of a bad value.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// MarshalText writes YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.Format("2006-01-02")), nil }

// Validate checks required fields.
func (e Entry) Validate() error {
	switch {
	case e.Tool == "":
		return fmt.Errorf("tool is required")
	case e.Owner == "":
		return fmt.Errorf("owner is required")
	case e.Reason == "":
		return fmt.Errorf("reason is required")
	case e.Expires.IsZero():
		return fmt.Errorf("expires is required")
	case e.Signer == "" && e.SHA256 == "" && e.Path == "" && len(e.Hosts) == 0:
		return fmt.Errorf("scope it by at least one of signer, sha256, path or hosts")
	}
	if e.SHA256 != "" && !isSHA256(e.SHA256) {
		return fmt.Errorf("sha256 %q is not 64 hex digits", e.SHA256)
	}
	if e.Path != "" {
		if _, err := path.Match(normPath(e.Path), ""); err != nil {
			return fmt.Errorf("path %q: %w", e.Path, err)
		}
	}
	for _, h := range e.Hosts {
		if _, err := path.Match(strings.ToLower(h), ""); err != nil {
			return fmt.Errorf("hosts %q: %w", h, err)
		}
	}
	return nil
}

// Expired reports whether the entry no longer applies at now.
func (e Entry) Expired(now time.Time) bool {
	return !now.UTC().Before(e.Expires.Time.AddDate(0, 0, 1))
}

// SignatureValid is the Subject.Signature a signer scope requires.
const SignatureValid = "valid"

// Subject is what an entry is matched against.
type Subject struct {
	// SHA256 is the executable's SHA-256 (hex), when known.
	SHA256 string
	// TeamID is the macOS Team ID; a signer scope matches it as well as
	// Signer.
	TeamID string
	// Signature is the verdict on the signature Signer comes from
	// (codesign.Status: valid, invalid, unsigned, untrusted, unverified).
	Signature string
	Tool      string
	Signer    string
	Path      string
	// Paths, when set, are every executable of a finding that covers several
	// processes; the path scope must cover all of them.
	Paths []string
	Host  string
}

// Matches reports whether the entry covers the subject, ignoring expiry.
// Signers compare case-insensitively and only when the subject's signature
// is valid; hashes compare case-insensitively; path and host are globs ('*', '?',
// '[...]'), case-insensitive, with Windows backslashes treated as slashes
// and '*' not crossing a separator.
func (e Entry) Matches(s Subject) bool {
	if !strings.EqualFold(e.Tool, s.Tool) {
		return false
	}
	if e.Signer != "" {
		want := strings.TrimSpace(e.Signer)
		if s.Signature != SignatureValid || !(strings.EqualFold(want, strings.TrimSpace(s.Signer)) || (s.TeamID != "" && strings.EqualFold(want, strings.TrimSpace(s.TeamID)))) {
			return false
		}
	}
	if e.SHA256 != "" && (s.SHA256 == "" || !strings.EqualFold(strings.TrimSpace(e.SHA256), s.SHA256)) {
		return false
	}
	if e.Path != "" {
		if s.Path == "" {
			return false
		}
		if ok, _ := path.Match(normPath(e.Path), normPath(s.Path)); !ok {
			return false
		}
		for _, p := range s.Paths {
			if ok, _ := path.Match(normPath(e.Path), normPath(p)); !ok {
				return false
			}
		}
	}
	if len(e.Hosts) > 0 {
		hit := false
		for _, h := range e.Hosts {
			if ok, _ := path.Match(strings.ToLower(h), strings.ToLower(s.Host)); ok {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

func isSHA256(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) != 64 {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func normPath(p string) string { return strings.ToLower(strings.ReplaceAll(p, `\`, "/")) }

// List is an ordered set of entries.
type List []Entry

// Match returns the first live entry covering s, and the first expired entry
// that would have covered it (so the finding can say why it is not allowed).
func (l List) Match(s Subject, now time.Time) (live *Entry, expired *Entry) {
	for i := range l {
		if !l[i].Matches(s) {
			continue
		}
		if l[i].Expired(now) {
			if expired == nil {
				expired = &l[i]
			}
			continue
		}
		return &l[i], expired
	}
	return nil, expired
}
