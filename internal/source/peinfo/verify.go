package peinfo

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // Authenticode digests may be SHA-1
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/farmwatch/farmwatch/internal/source/codesign"
)

var (
	oidSpcIndirectData    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}
	oidContentTypeAttr    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigestAttr  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTimeAttr    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidCounterSignature   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 6}
	oidRFC3161Timestamp   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 3, 3, 1}
	oidEncryptionRSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSASHA1            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidRSASHA256          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidRSASHA384          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidRSASHA512          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECPublicKey        = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSASHA256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384        = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512        = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	errTimestampNotSigned = codesign.ErrTimestampMismatch
)

// VerifyFile is Verify on the file at path, then, on Windows, combined
// with WinVerifyTrust's verdict on the same file (codesign.OSVerifyPE:
// the weaker wins; a file without an embedded signature is looked up in
// the system catalogs). A file that cannot be read is Unverified.
func VerifyFile(path string, trust *codesign.Trust) codesign.Verdict {
	v := codesign.VerifyPath(path, trust, Verify)
	if v.Status == codesign.Unverified {
		return v
	}
	return codesign.OSVerifyPE(path, v, trust)
}

// Verify checks the Authenticode signature of the PE image in r (size
// bytes long), in pure Go:
//
//  1. the image digest (the file hashed without its CheckSum field, its
//     security directory entry and its certificate table, with the
//     algorithm the signature names: SHA-1, SHA-256, SHA-384 or SHA-512)
//     equals the digest in the signed SpcIndirectDataContent;
//  2. the PKCS#7 signature verifies over the authenticated attributes, and
//     their messageDigest over the SpcIndirectDataContent;
//  3. a timestamp countersignature (RFC 3161, or the legacy PKCS#9
//     countersignature), when present, verifies over this signature and
//     its TSA certificate chains to a trusted root: the signing time is
//     then the timestamp's, so a certificate that expired since still
//     verifies;
//  4. the signer certificate chains, for code signing, to a root of trust
//     at the signing time (or now).
//
// Only the first signature is checked (nested signatures are not).
// Catalog-signed system files carry no embedded signature and read as
// Unsigned here; VerifyFile on Windows finds their catalog.
func Verify(r io.ReaderAt, size int64, trust *codesign.Trust) codesign.Verdict {
	if trust == nil {
		trust = &codesign.Trust{}
	}
	f := &file{r: r, size: size}
	if err := f.parseHeaders(); err != nil {
		if errors.Is(err, ErrNotPE) {
			return codesign.Verdict{Status: codesign.Unverified, Reason: "not a PE file"}
		}
		return invalid("malformed PE headers: %v", err)
	}
	blob, tab, err := f.signatureBlob()
	if err != nil {
		return invalid("malformed certificate table: %v", err)
	}
	if blob == nil {
		return codesign.Verdict{Status: codesign.Unsigned, Reason: "no embedded Authenticode signature"}
	}
	v := verifyBlob(f, blob, tab, trust)
	if v.Signer == "" {
		if s, err := signerOf(blob); err == nil {
			v.Signer = s.CommonName
			if v.Signer == "" {
				v.Signer = s.Organization
			}
		}
	}
	return v
}

func invalid(format string, a ...any) codesign.Verdict {
	return codesign.Verdict{Status: codesign.Invalid, Reason: fmt.Sprintf(format, a...)}
}

// spcDigestInfo is the DigestInfo inside SpcIndirectDataContent.
type spcDigestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

func verifyBlob(f *file, blob []byte, tab certTable, trust *codesign.Trust) codesign.Verdict {
	var ci contentInfo
	if _, err := asn1.Unmarshal(blob, &ci); err != nil || !ci.ContentType.Equal(oidSignedData) {
		return invalid("the signature is not a PKCS#7 SignedData")
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return invalid("malformed PKCS#7 SignedData: %v", err)
	}
	var inner struct{ ContentType asn1.ObjectIdentifier }
	if _, err := asn1.Unmarshal(sd.ContentInfo.FullBytes, &inner); err != nil || !inner.ContentType.Equal(oidSpcIndirectData) {
		return invalid("the signed content is not an Authenticode SpcIndirectDataContent")
	}
	p7, err := pkcs7.Parse(blob)
	if err != nil {
		return invalid("malformed PKCS#7 signature: %v", err)
	}
	if len(p7.Signers) != 1 {
		return invalid("%d signers (Authenticode has one)", len(p7.Signers))
	}
	leaf := p7.GetOnlySigner()
	if leaf == nil {
		return invalid("the signer's certificate is not in the signature")
	}
	v := codesign.Verdict{Signer: codesign.Name(leaf)}

	// 1. The image digest.
	var data asn1.RawValue
	rest, err := asn1.Unmarshal(p7.Content, &data)
	if err != nil {
		return invalid("malformed SpcIndirectDataContent: %v", err)
	}
	var di spcDigestInfo
	if _, err := asn1.Unmarshal(rest, &di); err != nil {
		return invalid("malformed SpcIndirectDataContent digest: %v", err)
	}
	h, err := codesign.HashFor(di.Algorithm.Algorithm)
	if err != nil {
		return invalid("image digest: %v", err)
	}
	got, err := f.imageDigest(h, tab)
	if err != nil {
		return codesign.Verdict{Status: codesign.Unverified, Signer: v.Signer, Reason: fmt.Sprintf("cannot hash the image: %v", err)}
	}
	if subtle.ConstantTimeCompare(got, di.Digest) != 1 {
		v.Status, v.Reason = codesign.Invalid, "the file was changed after signing: its image digest does not match the signed digest"
		return v
	}

	// 2. The signature over the authenticated attributes.
	var ct asn1.ObjectIdentifier
	if err := p7.UnmarshalSignedAttribute(oidContentTypeAttr, &ct); err != nil || !ct.Equal(oidSpcIndirectData) {
		v.Status, v.Reason = codesign.Invalid, "the signed contentType attribute is missing or not SpcIndirectDataContent"
		return v
	}
	if err := p7.Verify(); err != nil {
		v.Status, v.Reason = codesign.Invalid, fmt.Sprintf("the PKCS#7 signature does not verify: %v", err)
		return v
	}

	// 3. Timestamp.
	si := p7.Signers[0]
	var unauth []attribute
	for _, a := range si.UnauthenticatedAttributes {
		unauth = append(unauth, attribute{Type: a.Type, Value: a.Value})
	}
	ts := verifyTimestamps(p7, si.EncryptedDigest, unauth, trust)
	return trust.Conclude(v, leaf, p7.Certificates, ts, x509.ExtKeyUsageCodeSigning)
}

// imageDigest hashes the file as Authenticode does: everything except the
// CheckSum field, the security directory entry and the certificate table.
// Bytes after the certificate table are hashed too, so data appended to a
// signed file changes its digest.
func (f *file) imageDigest(h crypto.Hash, tab certTable) ([]byte, error) {
	if f.checksumOff == 0 || f.secDirOff == 0 || f.checksumOff+4 > f.secDirOff || f.secDirOff+8 > tab.off {
		return nil, errors.New("the headers do not leave room for the signed ranges")
	}
	w := h.New()
	ranges := [][2]int64{{0, f.checksumOff}, {f.checksumOff + 4, f.secDirOff}, {f.secDirOff + 8, tab.off}, {tab.off + tab.size, f.size}}
	for _, rg := range ranges {
		if err := copyRange(w, f.r, rg[0], rg[1]); err != nil {
			return nil, err
		}
	}
	return w.Sum(nil), nil
}

func copyRange(w hash.Hash, r io.ReaderAt, from, to int64) error {
	if to <= from {
		return nil
	}
	if _, err := io.Copy(w, io.NewSectionReader(r, from, to-from)); err != nil {
		return fmt.Errorf("read bytes %d-%d: %w", from, to, err)
	}
	return nil
}

// verifyTimestamps checks the timestamp countersignatures among attrs over
// sig (the signer's encrypted digest) and returns the best: trusted, else
// verifying but untrusted, else the last error.
func verifyTimestamps(p7 *pkcs7.PKCS7, sig []byte, attrs []attribute, trust *codesign.Trust) codesign.TimestampResult {
	best := codesign.TimestampResult{Err: codesign.ErrNoTimestamp}
	for _, a := range attrs {
		var r codesign.TimestampResult
		switch {
		case a.Type.Equal(oidRFC3161Timestamp), a.Type.Equal(codesign.OIDTimeStampToken):
			r = codesign.TimestampFrom(codesign.VerifyTimestampToken(a.Value.Bytes, sig, trust))
		case a.Type.Equal(oidCounterSignature):
			r = codesign.TimestampFrom(verifyCounterSignature(p7, a.Value, sig, trust))
		default:
			continue
		}
		switch {
		case r.Err == nil && r.ChainErr == nil:
			return r
		case r.ChainErr != nil || best.ChainErr == nil:
			best = r
		}
	}
	return best
}

// attribute is a PKCS#9 attribute: a type and a SET of values.
type attribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

// counterSignerInfo is a PKCS#9 countersignature (a SignerInfo).
type counterSignerInfo struct {
	Version                   int
	IssuerAndSerial           issuerAndSerial
	DigestAlgorithm           pkix.AlgorithmIdentifier
	AuthenticatedAttributes   asn1.RawValue `asn1:"optional,tag:0"`
	DigestEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedDigest           []byte
}

// verifyCounterSignature checks a legacy Authenticode timestamp: a PKCS#9
// countersignature whose messageDigest is the hash of sig, made by a
// certificate carried in the main signature.
func verifyCounterSignature(p7 *pkcs7.PKCS7, val asn1.RawValue, sig []byte, trust *codesign.Trust) (time.Time, error) {
	var cs counterSignerInfo
	if _, err := asn1.Unmarshal(val.Bytes, &cs); err != nil {
		return time.Time{}, fmt.Errorf("countersignature: %w", err)
	}
	if len(cs.AuthenticatedAttributes.FullBytes) == 0 {
		return time.Time{}, errors.New("countersignature without authenticated attributes")
	}
	var attrs []attribute
	if _, err := asn1.UnmarshalWithParams(cs.AuthenticatedAttributes.FullBytes, &attrs, "set,tag:0"); err != nil {
		return time.Time{}, fmt.Errorf("countersignature attributes: %w", err)
	}
	var digest []byte
	var signingTime time.Time
	for _, a := range attrs {
		switch {
		case a.Type.Equal(oidMessageDigestAttr):
			if _, err := asn1.Unmarshal(a.Value.Bytes, &digest); err != nil {
				return time.Time{}, fmt.Errorf("countersignature messageDigest: %w", err)
			}
		case a.Type.Equal(oidSigningTimeAttr):
			if _, err := asn1.Unmarshal(a.Value.Bytes, &signingTime); err != nil {
				return time.Time{}, fmt.Errorf("countersignature signingTime: %w", err)
			}
		}
	}
	if digest == nil || signingTime.IsZero() {
		return time.Time{}, errors.New("countersignature without messageDigest or signingTime")
	}
	h, err := codesign.HashFor(cs.DigestAlgorithm.Algorithm)
	if err != nil {
		return time.Time{}, fmt.Errorf("countersignature: %w", err)
	}
	d := h.New()
	d.Write(sig)
	if !bytes.Equal(d.Sum(nil), digest) {
		return time.Time{}, errTimestampNotSigned
	}
	var tsa *x509.Certificate
	for _, c := range p7.Certificates {
		if bytes.Equal(c.RawIssuer, cs.IssuerAndSerial.Issuer.FullBytes) && bytes.Equal(c.SerialNumber.Bytes(), new(big.Int).SetBytes(cs.IssuerAndSerial.Serial.Bytes).Bytes()) {
			tsa = c
			break
		}
	}
	if tsa == nil {
		return time.Time{}, errors.New("countersignature: the TSA certificate is not in the signature")
	}
	alg, err := signatureAlgorithm(cs.DigestEncryptionAlgorithm.Algorithm, h)
	if err != nil {
		return time.Time{}, fmt.Errorf("countersignature: %w", err)
	}
	// The signature is over the DER SET OF the attributes, not the [0]
	// IMPLICIT encoding they are stored in.
	signed := append([]byte{0x31}, cs.AuthenticatedAttributes.FullBytes[1:]...)
	if err := tsa.CheckSignature(alg, signed, cs.EncryptedDigest); err != nil {
		return time.Time{}, fmt.Errorf("countersignature signature: %w", err)
	}
	if _, err := trust.VerifyChain(tsa, p7.Certificates, signingTime, x509.ExtKeyUsageTimeStamping); err != nil {
		return signingTime, fmt.Errorf("countersignature: %w", err)
	}
	return signingTime, nil
}

// signatureAlgorithm maps a SignerInfo's digestEncryptionAlgorithm and
// digest to an x509 signature algorithm.
func signatureAlgorithm(enc asn1.ObjectIdentifier, h crypto.Hash) (x509.SignatureAlgorithm, error) {
	switch {
	case enc.Equal(oidEncryptionRSA), enc.Equal(oidRSASHA1), enc.Equal(oidRSASHA256), enc.Equal(oidRSASHA384), enc.Equal(oidRSASHA512):
		switch h {
		case crypto.SHA1:
			return x509.SHA1WithRSA, nil
		case crypto.SHA256:
			return x509.SHA256WithRSA, nil
		case crypto.SHA384:
			return x509.SHA384WithRSA, nil
		case crypto.SHA512:
			return x509.SHA512WithRSA, nil
		}
	case enc.Equal(oidECPublicKey), enc.Equal(oidECDSASHA256), enc.Equal(oidECDSASHA384), enc.Equal(oidECDSASHA512):
		switch h {
		case crypto.SHA256:
			return x509.ECDSAWithSHA256, nil
		case crypto.SHA384:
			return x509.ECDSAWithSHA384, nil
		case crypto.SHA512:
			return x509.ECDSAWithSHA512, nil
		}
	}
	return 0, fmt.Errorf("unsupported signature algorithm %v with %v", enc, h)
}
