// Package codesign holds what the code-signature verifiers share: the
// verdict on one executable's signature (valid, invalid, unsigned,
// untrusted, unverified, with a reason) and the trust roots and clock a
// certificate chain is checked against.
//
// The verifiers themselves live with the parsers of each format:
// peinfo.Verify for Authenticode (Windows PE) and macho.Verify for Apple
// code signatures. Both are pure Go and run on every OS, so a snapshot
// taken on one machine can be checked on another.
//
// On Windows, OSVerifyPE also asks WinVerifyTrust about a PE file on this
// machine (the OS root store, revocation from the local cache, and system
// catalogs for files without an embedded signature) and Combine gives the
// weaker of the two verdicts; elsewhere OSVerifyPE returns the Go verdict.
package codesign

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Status is the verdict on a signature.
type Status string

// Verdicts. Only Valid may be trusted: an allowlist entry scoped by a signer
// never matches any other.
const (
	// Valid: the signature covers the file as it is, and its certificate
	// chain reaches a trusted root at the signing time (a verified timestamp)
	// or now.
	Valid Status = "valid"
	// Invalid: the file was changed after signing, the signature does not
	// verify, the certificate had expired (and no timestamp says it was
	// signed while valid) or is not for code signing, or the signature is
	// malformed.
	Invalid Status = "invalid"
	// Unsigned: the file carries no signature, or an ad hoc macOS signature
	// (no signing identity at all).
	Unsigned Status = "unsigned"
	// Untrusted: the signature verifies over the file, but its certificate
	// chain does not reach a trusted root.
	Untrusted Status = "untrusted"
	// Unverified: the signature could not be checked (a snapshot without
	// the file, an unreadable file, an unknown format).
	Unverified Status = "unverified"
)

// Verdict is the result of checking one file's signature.
type Verdict struct {
	Status Status `json:"status"`
	// Reason says why, in a few words (always set).
	Reason string `json:"reason"`
	// Signer is the signer the signature claims (certificate CN, or O), or
	// the macOS Team ID.
	Signer string `json:"signer,omitempty"`
	// Timestamp is the signing time vouched for by a verified timestamp
	// countersignature, when there is one.
	Timestamp *time.Time `json:"timestamp,omitempty"`
	// Source is where the signature is: SourceEmbedded, or SourceCatalog
	// for a Windows system file whose hash a signed system catalog lists
	// (set when WinVerifyTrust checked the file, on Windows).
	Source string `json:"source,omitempty"`
	// Verifier says who decided: VerifierFarmwatch (empty: the pure Go
	// verifier alone), VerifierWinVerifyTrust or VerifierBoth.
	Verifier string `json:"verifier,omitempty"`
}

// String is "status: reason".
func (v Verdict) String() string { return string(v.Status) + ": " + v.Reason }

// Trusted reports whether the verdict is Valid.
func (v Verdict) Trusted() bool { return v.Status == Valid }

// Trust is what a certificate chain is checked against. The zero value
// trusts the operating system's roots and uses the current time.
type Trust struct {
	// Roots are trusted in addition to the system's (configured roots, the
	// embedded Apple root for macOS code signatures).
	Roots []*x509.Certificate
	// NoSystemRoots leaves the operating system's roots out: only Roots
	// are trusted. Tests set it so that the result does not depend on the
	// machine.
	NoSystemRoots bool
	// NoOSVerifier leaves the operating system's verifier out (Windows:
	// WinVerifyTrust, which knows only the OS store): the pure Go verifier
	// alone decides. NoSystemRoots implies it.
	NoOSVerifier bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	once sync.Once
	pool *x509.CertPool
	err  error
}

// now returns the current time on t's clock.
func (t *Trust) now() time.Time {
	if t != nil && t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// UseOSVerifier reports whether the operating system's verifier is
// consulted for files on this machine.
func (t *Trust) UseOSVerifier() bool {
	return t == nil || (!t.NoSystemRoots && !t.NoOSVerifier)
}

// Clock returns the current time on t's clock.
func (t *Trust) Clock() time.Time { return t.now() }

func (t *Trust) roots() (*x509.CertPool, error) {
	t.once.Do(func() {
		if t.NoSystemRoots {
			t.pool = x509.NewCertPool()
		} else if p, err := x509.SystemCertPool(); err == nil && p != nil {
			t.pool = p.Clone()
		} else {
			// No system store (a minimal container): only the given roots.
			t.pool = x509.NewCertPool()
		}
		for _, c := range t.Roots {
			t.pool.AddCert(c)
		}
	})
	return t.pool, t.err
}

// ChainError is a failed chain check, with the verdict it implies.
type ChainError struct {
	Status Status // Untrusted or Invalid
	Err    error
}

func (e *ChainError) Error() string { return e.Err.Error() }
func (e *ChainError) Unwrap() error { return e.Err }

// VerifyChain checks that leaf chains to a trusted root at time at, through
// the certificates in pool, for the extended key usage usage, and returns
// that root. A chain that ends at an unknown root is Untrusted; an expired
// certificate, a wrong key usage or a bad signature in the chain is
// Invalid.
func (t *Trust) VerifyChain(leaf *x509.Certificate, pool []*x509.Certificate, at time.Time, usage x509.ExtKeyUsage) (*x509.Certificate, error) {
	if t == nil {
		t = &Trust{}
	}
	roots, err := t.roots()
	if err != nil {
		return nil, &ChainError{Status: Invalid, Err: err}
	}
	inter := x509.NewCertPool()
	for _, c := range pool {
		if c != leaf {
			inter.AddCert(c)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{usage},
	})
	if err == nil {
		c := chains[0]
		return c[len(c)-1], nil
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return nil, &ChainError{Status: Untrusted, Err: fmt.Errorf("certificate chain of %q does not reach a trusted root", Name(leaf))}
	}
	var ci x509.CertificateInvalidError
	if errors.As(err, &ci) && ci.Reason == x509.Expired {
		return nil, &ChainError{Status: Invalid, Err: fmt.Errorf("a certificate in the chain of %q is not valid at %s", Name(leaf), at.UTC().Format(time.RFC3339))}
	}
	return nil, &ChainError{Status: Invalid, Err: fmt.Errorf("certificate chain of %q: %w", Name(leaf), err)}
}

// Name is a certificate's subject CN, or its first O when it has no CN.
func Name(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	if len(c.Subject.Organization) > 0 {
		return c.Subject.Organization[0]
	}
	return ""
}

// ErrNoTimestamp: the signature carries no timestamp countersignature.
var ErrNoTimestamp = errors.New("no timestamp")

// TimestampResult is the outcome of checking a signature's timestamp
// countersignatures: the time one vouches for, and either no error (it
// verifies and its TSA chains to a trusted root), a ChainErr (it verifies
// over the signature but its TSA does not chain to a trusted root) or an
// Err (no usable timestamp).
type TimestampResult struct {
	Time     time.Time
	ChainErr error
	Err      error
}

// TimestampFrom sorts the result of a timestamp check: a *ChainError is a
// verifying but untrusted timestamp.
func TimestampFrom(t time.Time, err error) TimestampResult {
	var ce *ChainError
	if errors.As(err, &ce) {
		return TimestampResult{Time: t, ChainErr: err}
	}
	return TimestampResult{Time: t, Err: err}
}

// Conclude finishes a verdict whose signature and digest verified: it
// checks the signer's chain at the timestamp's time (or now) and returns
// Valid only when both the signer's chain and the timestamp's reach a
// trusted root.
func (t *Trust) Conclude(v Verdict, leaf *x509.Certificate, certs []*x509.Certificate, ts TimestampResult, usage x509.ExtKeyUsage) Verdict {
	at := t.Clock()
	if ts.Err == nil { // trusted, or verifying with an untrusted TSA
		at = ts.Time
		u := ts.Time.UTC()
		v.Timestamp = &u
	}
	root, err := t.VerifyChain(leaf, certs, at, usage)
	if err != nil {
		var ce *ChainError
		v.Status = Invalid
		if errors.As(err, &ce) {
			v.Status = ce.Status
		}
		v.Reason = err.Error()
		switch {
		case ts.ChainErr != nil:
			v.Reason += fmt.Sprintf(" (checked at the timestamp %s, whose TSA is not trusted: %v)", at.UTC().Format(time.RFC3339), ts.ChainErr)
		case errors.Is(ts.Err, ErrNoTimestamp):
			v.Reason += " (no timestamp)"
		case ts.Err != nil:
			v.Reason += fmt.Sprintf(" (timestamp ignored: %v)", ts.Err)
		}
		return v
	}
	if ts.ChainErr != nil {
		v.Status = Untrusted
		v.Reason = fmt.Sprintf("signature verifies and chains to %q at the timestamp %s, but the timestamp does not: %v", Name(root), at.UTC().Format(time.RFC3339), ts.ChainErr)
		return v
	}
	v.Status = Valid
	v.Reason = fmt.Sprintf("signature and digest verify; chain to trusted root %q", Name(root))
	if v.Timestamp != nil {
		v.Reason += " at the timestamp " + v.Timestamp.Format(time.RFC3339)
	}
	return v
}

// VerifyPath runs verify (a format's verifier) on the file at path. A file
// that cannot be read, or is not a regular file, is Unverified.
func VerifyPath(path string, trust *Trust, verify func(r io.ReaderAt, size int64, trust *Trust) Verdict) Verdict {
	f, err := os.Open(path)
	if err != nil {
		return Verdict{Status: Unverified, Reason: fmt.Sprintf("cannot read the file: %v", err)}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return Verdict{Status: Unverified, Reason: "not a regular file"}
	}
	return verify(f, st.Size(), trust)
}
