package codesign

import (
	"fmt"
	"strings"
)

// Where a verdict's signature is (Verdict.Source).
const (
	// SourceEmbedded: the signature is in the file (an Authenticode
	// certificate table, an Apple code signature).
	SourceEmbedded = "embedded"
	// SourceCatalog: the file carries no signature of its own; its hash is
	// listed in a signed Windows system catalog (.cat) that WinVerifyTrust
	// verified.
	SourceCatalog = "catalog"
)

// Which verifier decided a verdict (Verdict.Verifier).
const (
	// VerifierFarmwatch: the pure Go verifiers (peinfo.Verify,
	// macho.Verify), on every OS and for snapshots.
	VerifierFarmwatch = "farmwatch"
	// VerifierWinVerifyTrust: Windows' WinVerifyTrust alone (a catalog
	// signature, which the Go verifier cannot see).
	VerifierWinVerifyTrust = "winverifytrust"
	// VerifierBoth: the Go verifier and WinVerifyTrust both checked the
	// embedded signature; the weaker verdict is the one given.
	VerifierBoth = "farmwatch+winverifytrust"
)

// HRESULTs WinVerifyTrust returns (winerror.h). Kept here, not taken from
// golang.org/x/sys/windows, so that the mapping is tested on every OS.
const (
	hrOK                      uint32 = 0
	hrTrustESystemError       uint32 = 0x80096001
	hrTrustENoSignerCert      uint32 = 0x80096002
	hrTrustECounterSigner     uint32 = 0x80096003
	hrTrustECertSignature     uint32 = 0x80096004
	hrTrustETimeStamp         uint32 = 0x80096005
	hrTrustEBadDigest         uint32 = 0x80096010
	hrTrustEMalformedSig      uint32 = 0x80096011
	hrTrustEBasicConstraints  uint32 = 0x80096019
	hrTrustEFinancial         uint32 = 0x8009601E
	hrTrustEProviderUnknown   uint32 = 0x800B0001
	hrTrustEActionUnknown     uint32 = 0x800B0002
	hrTrustESubjectFormUnk    uint32 = 0x800B0003
	hrTrustESubjectNotTrusted uint32 = 0x800B0004
	hrTrustENoSignature       uint32 = 0x800B0100
	hrCertEExpired            uint32 = 0x800B0101
	hrCertEValidityNesting    uint32 = 0x800B0102
	hrCertERole               uint32 = 0x800B0103
	hrCertEPathLenConst       uint32 = 0x800B0104
	hrCertECritical           uint32 = 0x800B0105
	hrCertEPurpose            uint32 = 0x800B0106
	hrCertEIssuerChaining     uint32 = 0x800B0107
	hrCertEMalformed          uint32 = 0x800B0108
	hrCertEUntrustedRoot      uint32 = 0x800B0109
	hrCertEChaining           uint32 = 0x800B010A
	hrTrustEFail              uint32 = 0x800B010B
	hrCertERevoked            uint32 = 0x800B010C
	hrCertEUntrustedTestRoot  uint32 = 0x800B010D
	hrCertERevocationFailure  uint32 = 0x800B010E
	hrCertEWrongUsage         uint32 = 0x800B0110
	hrTrustEExplicitDistrust  uint32 = 0x800B0111
	hrCertEUntrustedCA        uint32 = 0x800B0112
	hrCryptERevoked           uint32 = 0x80092010
	hrCryptENoRevocationCheck uint32 = 0x80092012
	hrCryptERevocationOffline uint32 = 0x80092013
	hrCryptEFileError         uint32 = 0x80092003
	hrCryptENoMatch           uint32 = 0x80092009
	hrCryptEBadMsg            uint32 = 0x8009200D
	hrCryptEAsn1BadTag        uint32 = 0x8009310B
	hrNTEBadSignature         uint32 = 0x80090006
	hrEFileNotFound           uint32 = 0x80070002
	hrEAccessDenied           uint32 = 0x80070005
)

// winTrustCode is one WinVerifyTrust result: its name, the verdict it
// implies and why, in words.
type winTrustCode struct {
	name   string
	status Status
	why    string
}

// winTrustCodes maps WinVerifyTrust's results to verdicts. A code not in
// the table is Invalid (fail closed).
var winTrustCodes = map[uint32]winTrustCode{
	hrOK:                      {"ERROR_SUCCESS", Valid, "the signature verifies and chains to a root of the Windows certificate store"},
	hrTrustEBadDigest:         {"TRUST_E_BAD_DIGEST", Invalid, "the file was changed after signing: its digest does not match the signed digest"},
	hrTrustENoSignature:       {"TRUST_E_NOSIGNATURE", Unsigned, "no signature"},
	hrTrustESubjectFormUnk:    {"TRUST_E_SUBJECT_FORM_UNKNOWN", Unverified, "WinVerifyTrust does not know this kind of file"},
	hrTrustEProviderUnknown:   {"TRUST_E_PROVIDER_UNKNOWN", Unverified, "no trust provider for this file"},
	hrTrustEActionUnknown:     {"TRUST_E_ACTION_UNKNOWN", Unverified, "the trust provider does not support Authenticode verification"},
	hrTrustESystemError:       {"TRUST_E_SYSTEM_ERROR", Unverified, "the trust provider failed"},
	hrEFileNotFound:           {"ERROR_FILE_NOT_FOUND", Unverified, "the file is not there"},
	hrEAccessDenied:           {"ERROR_ACCESS_DENIED", Unverified, "the file cannot be read"},
	hrCryptEFileError:         {"CRYPT_E_FILE_ERROR", Unverified, "the file cannot be read"},
	hrTrustENoSignerCert:      {"TRUST_E_NO_SIGNER_CERT", Invalid, "the signer's certificate is not in the signature"},
	hrTrustECounterSigner:     {"TRUST_E_COUNTER_SIGNER", Invalid, "the timestamp countersignature does not verify"},
	hrTrustECertSignature:     {"TRUST_E_CERT_SIGNATURE", Invalid, "a certificate's signature does not verify"},
	hrTrustETimeStamp:         {"TRUST_E_TIME_STAMP", Invalid, "the timestamp does not verify"},
	hrTrustEMalformedSig:      {"TRUST_E_MALFORMED_SIGNATURE", Invalid, "malformed signature"},
	hrTrustEBasicConstraints:  {"TRUST_E_BASIC_CONSTRAINTS", Invalid, "a certificate in the chain violates its basic constraints"},
	hrTrustEFinancial:         {"TRUST_E_FINANCIAL_CRITERIA", Invalid, "the certificate's financial criteria are not met"},
	hrTrustESubjectNotTrusted: {"TRUST_E_SUBJECT_NOT_TRUSTED", Untrusted, "the signature is not trusted"},
	hrTrustEFail:              {"TRUST_E_FAIL", Invalid, "the signature or a certificate does not verify"},
	hrTrustEExplicitDistrust:  {"TRUST_E_EXPLICIT_DISTRUST", Invalid, "a certificate in the chain is explicitly distrusted in the Windows store"},
	hrCertEExpired:            {"CERT_E_EXPIRED", Invalid, "a certificate in the chain has expired and no timestamp says the file was signed while it was valid"},
	hrCertEValidityNesting:    {"CERT_E_VALIDITYPERIODNESTING", Invalid, "certificate validity periods do not nest"},
	hrCertERole:               {"CERT_E_ROLE", Invalid, "a certificate is used in a role it may not have"},
	hrCertEPathLenConst:       {"CERT_E_PATHLENCONST", Invalid, "the chain exceeds a path length constraint"},
	hrCertECritical:           {"CERT_E_CRITICAL", Invalid, "a certificate has an unknown critical extension"},
	hrCertEPurpose:            {"CERT_E_PURPOSE", Invalid, "a certificate is not for code signing"},
	hrCertEWrongUsage:         {"CERT_E_WRONG_USAGE", Invalid, "a certificate is not for code signing"},
	hrCertEMalformed:          {"CERT_E_MALFORMED", Invalid, "a certificate is malformed"},
	hrCertEIssuerChaining:     {"CERT_E_ISSUERCHAINING", Invalid, "a certificate's issuer does not match its parent"},
	hrCertEUntrustedRoot:      {"CERT_E_UNTRUSTEDROOT", Untrusted, "the chain ends at a root the Windows certificate store does not trust"},
	hrCertEChaining:           {"CERT_E_CHAINING", Untrusted, "the chain does not reach a root of the Windows certificate store"},
	hrCertEUntrustedTestRoot:  {"CERT_E_UNTRUSTEDTESTROOT", Untrusted, "the chain ends at a test root"},
	hrCertEUntrustedCA:        {"CERT_E_UNTRUSTEDCA", Untrusted, "a CA in the chain is not trusted"},
	hrCertERevoked:            {"CERT_E_REVOKED", Invalid, "revoked: a certificate in the chain was revoked by its issuer"},
	hrCryptERevoked:           {"CRYPT_E_REVOKED", Invalid, "revoked: a certificate in the chain was revoked by its issuer"},
	hrCertERevocationFailure:  {"CERT_E_REVOCATION_FAILURE", Unverified, "revocation could not be checked"},
	hrCryptERevocationOffline: {"CRYPT_E_REVOCATION_OFFLINE", Unverified, "revocation could not be checked (offline)"},
	hrCryptENoRevocationCheck: {"CRYPT_E_NO_REVOCATION_CHECK", Unverified, "revocation could not be checked"},
	hrCryptENoMatch:           {"CRYPT_E_NO_MATCH", Invalid, "the signer's certificate is not in the signature"},
	hrCryptEBadMsg:            {"CRYPT_E_BAD_MSG", Invalid, "malformed signature"},
	hrCryptEAsn1BadTag:        {"CRYPT_E_ASN1_BADTAG", Invalid, "malformed signature"},
	hrNTEBadSignature:         {"NTE_BAD_SIGNATURE", Invalid, "the signature does not verify"},
}

// IsRevocationUnknown reports whether a WinVerifyTrust result only says
// that revocation could not be checked (no cached CRL or OCSP answer).
func IsRevocationUnknown(code uint32) bool {
	switch code {
	case hrCertERevocationFailure, hrCryptERevocationOffline, hrCryptENoRevocationCheck:
		return true
	}
	return false
}

// WinTrustName is the winerror.h name of a WinVerifyTrust result, with its
// value.
func WinTrustName(code uint32) string {
	if c, ok := winTrustCodes[code]; ok {
		return fmt.Sprintf("%s (0x%08X)", c.name, code)
	}
	return fmt.Sprintf("0x%08X", code)
}

// WinTrustVerdict is the verdict a WinVerifyTrust result implies for a
// file. hasCertTable says whether the file has an Authenticode
// certificate table: TRUST_E_NOSIGNATURE on a file with one means
// WinVerifyTrust could not load a signature that is there (a malformed or
// foreign blob), which is Invalid, not Unsigned. An unknown code is
// Invalid.
func WinTrustVerdict(code uint32, hasCertTable bool) Verdict {
	c, ok := winTrustCodes[code]
	if !ok {
		return Verdict{Status: Invalid, Reason: fmt.Sprintf("WinVerifyTrust: %s: unknown result, taken as invalid", WinTrustName(code))}
	}
	v := Verdict{Status: c.status, Reason: fmt.Sprintf("WinVerifyTrust: %s: %s", WinTrustName(code), c.why)}
	if code == hrTrustENoSignature && hasCertTable {
		v.Status = Invalid
		v.Reason = fmt.Sprintf("WinVerifyTrust: %s: the file has a certificate table but Windows finds no signature in it", WinTrustName(code))
	}
	return v
}

// strength orders verdicts from the strongest (Valid) to the weakest
// (Invalid): when two verifiers disagree the weaker wins.
func strength(s Status) int {
	switch s {
	case Valid:
		return 4
	case Untrusted:
		return 3
	case Unverified:
		return 2
	case Unsigned:
		return 1
	}
	return 0 // Invalid, or anything unknown
}

// Combine joins the Go verifier's verdict on an embedded signature (ours)
// with WinVerifyTrust's (win): the same status keeps ours (its reason is
// the more precise) and notes that Windows agrees; a different status
// gives the weaker of the two, and the reason says both. Identity fields
// (signer, timestamp) come from ours.
func Combine(ours, win Verdict) Verdict {
	out := ours
	out.Verifier = VerifierBoth
	if out.Source == "" {
		out.Source = SourceEmbedded
	}
	if ours.Status == win.Status {
		out.Reason = ours.Reason + "; " + win.Reason
		return out
	}
	weaker := ours.Status
	if strength(win.Status) < strength(ours.Status) {
		weaker = win.Status
	}
	out.Status = weaker
	out.Reason = fmt.Sprintf("the verifiers disagree, the weaker verdict is given: farmwatch says %s (%s); WinVerifyTrust says %s (%s)",
		ours.Status, ours.Reason, win.Status, strings.TrimPrefix(win.Reason, "WinVerifyTrust: "))
	return out
}
