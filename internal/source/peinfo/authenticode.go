package peinfo

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	winCertTypePKCSSignedData = 2
	tagUniversalString        = 28
)

// readSigner reads the first PKCS#7 WIN_CERTIFICATE of the security
// directory and fills info.Signer from it. A file without one is not an
// error.
func (f *file) readSigner(info *Info) error {
	blob, _, err := f.signatureBlob()
	if err != nil || blob == nil {
		return err
	}
	s, err := signerOf(blob)
	if err != nil {
		return err
	}
	info.Signer = s
	return nil
}

// certTable is where the certificate table (security directory) lies in
// the file.
type certTable struct{ off, size int64 }

// signatureBlob returns the DER of the first PKCS#7 WIN_CERTIFICATE of the
// security directory and where that directory lies; a nil blob and no
// error when the file has no signature.
func (f *file) signatureBlob() ([]byte, certTable, error) {
	d := f.dir(dirSecurity)
	if d.virtualAddress == 0 || d.size == 0 {
		return nil, certTable{}, nil
	}
	// The security directory holds a file offset, not an address.
	off, end := int64(d.virtualAddress), int64(d.virtualAddress)+int64(d.size)
	tab := certTable{off, int64(d.size)}
	if end > f.size {
		return nil, tab, fmt.Errorf("certificate table (%d bytes at %d) runs past the end of the file", d.size, off)
	}
	for range maxCertEntries {
		if end-off < 8 {
			return nil, tab, nil
		}
		hdr, err := f.read(off, 8)
		if err != nil {
			return nil, tab, err
		}
		length := int64(le.Uint32(hdr))
		certType := le.Uint16(hdr[6:])
		if length < 8 || length > end-off {
			return nil, tab, fmt.Errorf("WIN_CERTIFICATE length %d does not fit the certificate table", length)
		}
		if certType == winCertTypePKCSSignedData {
			// Data stuffed after the DER value (seen in the wild) is
			// ignored: the DER header says where the value ends.
			blob, err := f.read(off+8, int(min(length-8, MaxSignatureSize)))
			if err != nil {
				return nil, tab, err
			}
			return trimDER(blob), tab, nil
		}
		off += (length + 7) &^ 7
	}
	return nil, tab, nil
}

// trimDER cuts b after the first DER/BER value when its header gives a
// definite length that fits.
func trimDER(b []byte) []byte {
	var v asn1.RawValue
	if rest, err := asn1.Unmarshal(b, &v); err == nil {
		return b[:len(b)-len(rest)]
	}
	return b
}

var (
	oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOrgName    = asn1.ObjectIdentifier{2, 5, 4, 10}
)

// PKCS#7 / CMS structures (RFC 2315, RFC 5652), only as far as needed to
// find the signer's certificate. encoding/asn1 ignores trailing elements of
// a SEQUENCE, so the fields after the ones named here need no declaring.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	ContentInfo      asn1.RawValue
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      asn1.RawValue
}

type signerInfo struct {
	Version int
	SID     asn1.RawValue // IssuerAndSerialNumber, or [0] SubjectKeyIdentifier
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial asn1.RawValue
}

type certificate struct {
	TBS tbsCertificate
}

type tbsCertificate struct {
	Version  int `asn1:"optional,explicit,default:0,tag:0"`
	Serial   asn1.RawValue
	SigAlg   asn1.RawValue
	Issuer   asn1.RawValue
	Validity asn1.RawValue
	Subject  asn1.RawValue
}

type parsedCert struct {
	raw []byte
	tbs tbsCertificate
}

// signerOf returns the subject of the certificate that made the first
// signature in a DER PKCS#7 SignedData.
func signerOf(der []byte) (*Signer, error) {
	var ci contentInfo
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		return nil, fmt.Errorf("PKCS#7 ContentInfo: %w", err)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("PKCS#7 content type %v is not SignedData", ci.ContentType)
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("PKCS#7 SignedData: %w", err)
	}
	var certs []parsedCert
	for rest := sd.Certificates.Bytes; len(rest) > 0; {
		var raw asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &raw); err != nil {
			return nil, fmt.Errorf("PKCS#7 certificates: %w", err)
		}
		var c certificate
		if _, err := asn1.Unmarshal(raw.FullBytes, &c); err != nil {
			continue // not an X.509 certificate (attribute certificate, ...)
		}
		certs = append(certs, parsedCert{raw: raw.FullBytes, tbs: c.TBS})
	}
	if len(certs) == 0 {
		return nil, errors.New("PKCS#7 SignedData holds no certificate")
	}
	var si signerInfo
	if _, err := asn1.Unmarshal(sd.SignerInfos.Bytes, &si); err != nil {
		return nil, fmt.Errorf("PKCS#7 SignerInfo: %w", err)
	}
	leaf := findSignerCert(si, certs)
	if leaf == nil {
		return nil, errors.New("PKCS#7 signer certificate not found among the certificates")
	}
	return subjectOf(leaf.tbs.Subject.FullBytes)
}

// findSignerCert returns the certificate the SignerInfo names.
func findSignerCert(si signerInfo, certs []parsedCert) *parsedCert {
	switch {
	case si.SID.Class == asn1.ClassUniversal && si.SID.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if _, err := asn1.Unmarshal(si.SID.FullBytes, &ias); err != nil {
			return nil
		}
		for i, c := range certs {
			if bytes.Equal(c.tbs.Issuer.FullBytes, ias.Issuer.FullBytes) && bytes.Equal(c.tbs.Serial.Bytes, ias.Serial.Bytes) {
				return &certs[i]
			}
		}
	case si.SID.Class == asn1.ClassContextSpecific && si.SID.Tag == 0:
		// subjectKeyIdentifier: needs the certificates' extensions.
		for i, c := range certs {
			if xc, err := x509.ParseCertificate(c.raw); err == nil && len(xc.SubjectKeyId) > 0 && bytes.Equal(xc.SubjectKeyId, si.SID.Bytes) {
				return &certs[i]
			}
		}
	}
	return nil
}

type attributeTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// subjectOf reads CN and O from a DER Name. It decodes the string types
// itself so that names in BMPString, T61String or UniversalString (all seen
// in code-signing certificates) read as well as UTF8String ones.
func subjectOf(name []byte) (*Signer, error) {
	var rdns []asn1.RawValue
	if _, err := asn1.Unmarshal(name, &rdns); err != nil {
		return nil, fmt.Errorf("certificate subject: %w", err)
	}
	s := &Signer{}
	for _, rdn := range rdns {
		var atvs []attributeTypeAndValue
		if _, err := asn1.UnmarshalWithParams(rdn.FullBytes, &atvs, "set"); err != nil {
			return nil, fmt.Errorf("certificate subject: %w", err)
		}
		for _, atv := range atvs {
			switch {
			case atv.Type.Equal(oidCommonName) && s.CommonName == "":
				s.CommonName = decodeString(atv.Value)
			case atv.Type.Equal(oidOrgName) && s.Organization == "":
				s.Organization = decodeString(atv.Value)
			}
		}
	}
	return s, nil
}

// decodeString decodes an X.520 DirectoryString.
func decodeString(v asn1.RawValue) string {
	b := v.Bytes
	var s string
	switch v.Tag {
	case asn1.TagBMPString: // UTF-16BE
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(b[2*i:])
		}
		s = string(utf16.Decode(u))
	case tagUniversalString: // UTF-32BE
		var sb strings.Builder
		for i := 0; i+3 < len(b); i += 4 {
			sb.WriteRune(rune(binary.BigEndian.Uint32(b[i:])))
		}
		s = sb.String()
	case asn1.TagT61String: // in practice Latin-1
		rs := make([]rune, len(b))
		for i, c := range b {
			rs[i] = rune(c)
		}
		s = string(rs)
	default: // UTF8String, PrintableString, IA5String, ...
		s = string(b)
	}
	return strings.TrimSpace(strings.ToValidUTF8(s, string(utf8.RuneError)))
}
