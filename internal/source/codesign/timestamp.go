package codesign

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // SHA-1 digests in old signatures
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/smallstep/pkcs7"
)

// OIDTimeStampToken is the unsigned attribute id-aa-timeStampToken (RFC
// 3161 appendix A) that carries a timestamp token in a CMS SignerInfo
// (Apple code signatures; Authenticode uses its own OID for the same
// token).
var OIDTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

var (
	oidContentTypeAttr = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidTSTInfo         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
)

// ErrTimestampMismatch is a timestamp token over something else than the
// signature it is attached to.
var ErrTimestampMismatch = errors.New("timestamp does not cover this signature")

// tstInfo is RFC 3161's TSTInfo, as far as needed.
type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	SerialNumber *big.Int
	GenTime      time.Time `asn1:"generalized"`
}

// VerifyTimestampToken checks an RFC 3161 timestamp token (a CMS SignedData
// over a TSTInfo, DER) whose message imprint must be the hash of sig (the
// countersigned signature value). It returns the time the token vouches
// for. When the token verifies but its TSA certificate does not chain to a
// trusted root (for time stamping) the time is returned with a
// *ChainError.
func VerifyTimestampToken(der, sig []byte, trust *Trust) (time.Time, error) {
	tok, err := pkcs7.Parse(der)
	if err != nil {
		return time.Time{}, fmt.Errorf("RFC 3161 timestamp: %w", err)
	}
	var info tstInfo
	if _, err := asn1.Unmarshal(tok.Content, &info); err != nil {
		return time.Time{}, fmt.Errorf("RFC 3161 TSTInfo: %w", err)
	}
	h, err := HashFor(info.MessageImprint.HashAlgorithm.Algorithm)
	if err != nil {
		return time.Time{}, fmt.Errorf("RFC 3161 timestamp: %w", err)
	}
	d := h.New()
	d.Write(sig)
	if !bytes.Equal(d.Sum(nil), info.MessageImprint.HashedMessage) {
		return time.Time{}, ErrTimestampMismatch
	}
	var ct asn1.ObjectIdentifier
	if err := tok.UnmarshalSignedAttribute(oidContentTypeAttr, &ct); err != nil || !ct.Equal(oidTSTInfo) {
		return time.Time{}, errors.New("RFC 3161 timestamp: signed content type is not TSTInfo")
	}
	if err := tok.Verify(); err != nil {
		return time.Time{}, fmt.Errorf("RFC 3161 timestamp signature: %w", err)
	}
	tsa := tok.GetOnlySigner()
	if tsa == nil {
		return time.Time{}, errors.New("RFC 3161 timestamp: no TSA certificate")
	}
	if _, err := trust.VerifyChain(tsa, tok.Certificates, info.GenTime, x509.ExtKeyUsageTimeStamping); err != nil {
		return info.GenTime, fmt.Errorf("RFC 3161 timestamp: %w", err)
	}
	return info.GenTime, nil
}

var (
	oidDigestSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidDigestSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidDigestSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidDigestSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// HashFor maps a digest algorithm OID to a hash (SHA-1 and the SHA-2
// family; MD5 is refused).
func HashFor(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	switch {
	case oid.Equal(oidDigestSHA1):
		return crypto.SHA1, nil
	case oid.Equal(oidDigestSHA256):
		return crypto.SHA256, nil
	case oid.Equal(oidDigestSHA384):
		return crypto.SHA384, nil
	case oid.Equal(oidDigestSHA512):
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("unsupported digest algorithm %v", oid)
}
