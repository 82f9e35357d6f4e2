package codesign

import (
	"strings"
	"testing"
)

// TestWinTrustVerdict covers the HRESULT→verdict table for the results
// Wine's wintrust cannot be made to return (revocation, CERT_E_EXPIRED
// from a chain Wine checks at the current time, explicit distrust …)
// alongside those the Wine lane produces for real (test/wine
// TestWineWinVerifyTrust).
func TestWinTrustVerdict(t *testing.T) {
	for _, c := range []struct {
		code     uint32
		hasTable bool
		want     Status
		reason   string
	}{
		{0, true, Valid, "ERROR_SUCCESS"},
		{0x80096010, true, Invalid, "TRUST_E_BAD_DIGEST (0x80096010): the file was changed after signing"},
		{0x800B0100, false, Unsigned, "TRUST_E_NOSIGNATURE"},
		{0x800B0100, true, Invalid, "has a certificate table but Windows finds no signature"},
		{0x800B0109, true, Untrusted, "CERT_E_UNTRUSTEDROOT"},
		{0x800B010A, true, Untrusted, "CERT_E_CHAINING"},
		{0x800B0101, true, Invalid, "CERT_E_EXPIRED (0x800B0101): a certificate in the chain has expired and no timestamp"},
		{0x800B010C, true, Invalid, "CERT_E_REVOKED (0x800B010C): revoked"},
		{0x80092010, true, Invalid, "CRYPT_E_REVOKED (0x80092010): revoked"},
		{0x800B010E, true, Unverified, "revocation could not be checked"},
		{0x80092013, true, Unverified, "offline"},
		{0x800B0111, true, Invalid, "explicitly distrusted"},
		{0x800B0110, true, Invalid, "not for code signing"},
		{0x800B0003, true, Unverified, "does not know this kind of file"},
		{0x80096011, true, Invalid, "malformed"},
		{0x12345678, true, Invalid, "0x12345678: unknown result, taken as invalid"},
	} {
		v := WinTrustVerdict(c.code, c.hasTable)
		if v.Status != c.want || !strings.Contains(v.Reason, c.reason) || !strings.HasPrefix(v.Reason, "WinVerifyTrust: ") {
			t.Errorf("0x%08X (table %v): %s, want %s with %q", c.code, c.hasTable, v, c.want, c.reason)
		}
	}
	for _, code := range []uint32{0x800B010E, 0x80092013, 0x80092012} {
		if !IsRevocationUnknown(code) {
			t.Errorf("0x%08X is a revocation-unknown result", code)
		}
	}
	if IsRevocationUnknown(0x800B010C) {
		t.Error("CERT_E_REVOKED is a verdict, not an unknown revocation status")
	}
}

// TestCombine: agreeing verifiers keep the Go verifier's details; when they
// disagree the weaker verdict wins and the reason gives both.
func TestCombine(t *testing.T) {
	ours := Verdict{Status: Valid, Reason: "signature and digest verify; chain to trusted root \"X\"", Signer: "Vendor"}
	win := WinTrustVerdict(0, true)
	v := Combine(ours, win)
	if v.Status != Valid || v.Signer != "Vendor" || v.Verifier != VerifierBoth || v.Source != SourceEmbedded || !strings.Contains(v.Reason, "Windows certificate store") {
		t.Errorf("agreeing: %+v", v)
	}
	for _, c := range []struct {
		ours, win, want Status
	}{
		{Valid, Untrusted, Untrusted},
		{Untrusted, Valid, Untrusted},
		{Valid, Invalid, Invalid},
		{Invalid, Valid, Invalid},
		{Untrusted, Invalid, Invalid},
		{Valid, Unverified, Unverified},
		{Unsigned, Invalid, Invalid},
	} {
		v := Combine(Verdict{Status: c.ours, Reason: "ours"}, Verdict{Status: c.win, Reason: "WinVerifyTrust: theirs"})
		if v.Status != c.want || !strings.Contains(v.Reason, "farmwatch says "+string(c.ours)+" (ours)") || !strings.Contains(v.Reason, "WinVerifyTrust says "+string(c.win)+" (theirs)") {
			t.Errorf("%s + %s: %+v, want %s with both reasons", c.ours, c.win, v, c.want)
		}
	}
	// The allowlist trusts only valid: no combination with a non-valid
	// verdict is trusted.
	for _, s := range []Status{Invalid, Unsigned, Untrusted, Unverified} {
		if Combine(Verdict{Status: Valid}, Verdict{Status: s}).Trusted() || Combine(Verdict{Status: s}, Verdict{Status: Valid}).Trusted() {
			t.Errorf("valid combined with %s is trusted", s)
		}
	}
}
