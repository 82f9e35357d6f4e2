package macho

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // SHA-1 CodeDirectories
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	dm "debug/macho"
	_ "embed"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/smallstep/pkcs7"

	"github.com/farmwatch/farmwatch/internal/source/codesign"
)

// Code-signing slots and magic numbers used by Verify.
const (
	slotRequirements    = 2
	slotEntitlements    = 5
	slotEntitlementsDER = 7

	// MaxSignatureSize is the largest embedded code signature verified.
	MaxSignatureSize = 64 << 20
)

//go:embed apple-root-ca.pem
var appleRootPEM []byte

// AppleRoots are Apple's code-signing roots (Apple Root CA), embedded so
// that a macOS signature verifies on any OS. Configured roots add to them.
func AppleRoots() []*x509.Certificate {
	var out []*x509.Certificate
	for rest := appleRootPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			out = append(out, c)
		}
	}
}

// VerifyFile is Verify on the file at path.
func VerifyFile(path string, trust *codesign.Trust) codesign.Verdict {
	return codesign.VerifyPath(path, trust, Verify)
}

// Verify checks the code signature of the Mach-O in r (size bytes), in
// pure Go, as far as the binary alone allows:
//
//  1. every CodeDirectory's page hashes match the image (the code slots
//     from offset 0 to codeLimit), and its special slots match the
//     requirements and entitlements blobs embedded with it;
//  2. the CMS signature (CSSLOT_SIGNATURESLOT) verifies over the primary
//     CodeDirectory, the one the identifier and Team ID are read from;
//  3. the signer certificate's OU is the CodeDirectory's Team ID, and it
//     chains, for code signing, to a trusted root (Apple Root CA is
//     embedded) at the time of a verified RFC 3161 timestamp, or now.
//
// The bundle's Info.plist and sealed resources (special slots 1 and 3) are
// outside the binary and are not checked. An ad hoc signature (no CMS
// signer, no Team ID) is Unsigned. For a universal binary every slice must
// verify; the first slice that does not decides the verdict.
func Verify(r io.ReaderAt, size int64, trust *codesign.Trust) codesign.Verdict {
	if trust == nil {
		trust = &codesign.Trust{}
	}
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return codesign.Verdict{Status: codesign.Unverified, Reason: "not a Mach-O file"}
	}
	if be.Uint32(magic[:]) != 0xcafebabe { // thin
		return verifyThin(r, size, trust)
	}
	arches, err := fatSlices(r, size)
	if err != nil {
		return codesign.Verdict{Status: codesign.Invalid, Reason: err.Error()}
	}
	var first codesign.Verdict
	for i, s := range arches {
		v := verifyThin(io.NewSectionReader(r, s.off, s.size), s.size, trust)
		if v.Status != codesign.Valid {
			v.Reason = fmt.Sprintf("%v slice: %s", s.cpu, v.Reason)
			return v
		}
		if i == 0 {
			first = v
		}
	}
	first.Reason = fmt.Sprintf("all %d slices: %s", len(arches), first.Reason)
	return first
}

type fatSlice struct {
	cpu       dm.Cpu
	off, size int64
}

func fatSlices(r io.ReaderAt, size int64) ([]fatSlice, error) {
	var h [8]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, errors.New("truncated universal header")
	}
	n := be.Uint32(h[4:])
	if n == 0 || n > maxArches {
		return nil, fmt.Errorf("universal binary with %d architectures", n)
	}
	recs := make([]byte, 20*n)
	if _, err := r.ReadAt(recs, 8); err != nil {
		return nil, errors.New("truncated universal header")
	}
	var out []fatSlice
	for i := range int(n) {
		rec := recs[20*i:]
		s := fatSlice{dm.Cpu(be.Uint32(rec)), int64(be.Uint32(rec[8:])), int64(be.Uint32(rec[12:]))}
		if s.off+s.size > size {
			return nil, fmt.Errorf("%v slice runs past the end of the file", s.cpu)
		}
		out = append(out, s)
	}
	return out, nil
}

func verifyThin(r io.ReaderAt, size int64, trust *codesign.Trust) codesign.Verdict {
	unverified := func(format string, a ...any) codesign.Verdict {
		return codesign.Verdict{Status: codesign.Unverified, Reason: fmt.Sprintf(format, a...)}
	}
	invalid := func(format string, a ...any) codesign.Verdict {
		return codesign.Verdict{Status: codesign.Invalid, Reason: fmt.Sprintf(format, a...)}
	}
	off, sigSize, err := signatureLocation(r)
	switch {
	case errors.Is(err, ErrNotMachO):
		return unverified("not a Mach-O file")
	case errors.Is(err, ErrNotSigned):
		return codesign.Verdict{Status: codesign.Unsigned, Reason: "no code signature"}
	case err != nil:
		return invalid("malformed Mach-O: %v", err)
	}
	if sigSize > MaxSignatureSize || off+sigSize > size {
		return invalid("code signature (%d bytes at %d) does not fit the file", sigSize, off)
	}
	sb, err := readSuperBlob(io.NewSectionReader(r, off, sigSize), sigSize)
	if err != nil {
		return invalid("%v", err)
	}
	primary, ok := sb.blobs[slotCodeDirectory]
	if !ok {
		return invalid("the code signature has no CodeDirectory")
	}
	sig, err := parseCodeDirectory(blobReader{r: bytes.NewReader(primary), size: int64(len(primary))}, 0)
	if err != nil {
		return invalid("%v", err)
	}
	v := codesign.Verdict{Signer: sig.TeamID}
	// 1. Every CodeDirectory against the image and the embedded blobs.
	for _, slot := range sb.order {
		if slot != slotCodeDirectory && (slot < slotAlternateFirst || slot > slotAlternateLast) {
			continue
		}
		if err := checkCodeDirectory(sb.blobs[slot], sb, r, off); err != nil {
			v.Status, v.Reason = codesign.Invalid, err.Error()
			return v
		}
	}
	cms := sb.blobs[slotSignature]
	if sig.AdHoc() || len(cms) <= 8 {
		v.Status, v.Reason = codesign.Unsigned, "ad hoc signature: the hashes match the code but there is no signing identity and no Team ID"
		return v
	}
	// 2. The CMS signature over the primary CodeDirectory.
	p7, err := pkcs7.Parse(cms[8:])
	if err != nil {
		v.Status, v.Reason = codesign.Invalid, fmt.Sprintf("malformed CMS signature: %v", err)
		return v
	}
	if len(p7.Signers) != 1 {
		v.Status, v.Reason = codesign.Invalid, fmt.Sprintf("%d CMS signers (want one)", len(p7.Signers))
		return v
	}
	p7.Content = primary
	if err := p7.Verify(); err != nil {
		v.Status, v.Reason = codesign.Invalid, fmt.Sprintf("the CMS signature does not verify over the CodeDirectory: %v", err)
		return v
	}
	leaf := p7.GetOnlySigner()
	if leaf == nil {
		v.Status, v.Reason = codesign.Invalid, "the signer's certificate is not in the signature"
		return v
	}
	// 3. Team ID, timestamp, chain.
	if sig.TeamID == "" || !slices.Contains(leaf.Subject.OrganizationalUnit, sig.TeamID) {
		v.Status, v.Reason = codesign.Invalid, fmt.Sprintf("the CodeDirectory's Team ID %q is not the signing certificate's (OU %v)", sig.TeamID, leaf.Subject.OrganizationalUnit)
		return v
	}
	for _, c := range p7.Certificates {
		c.UnhandledCriticalExtensions = slices.DeleteFunc(c.UnhandledCriticalExtensions, isAppleExtension)
	}
	ts := codesign.TimestampResult{Err: codesign.ErrNoTimestamp}
	si := p7.Signers[0]
	for _, a := range si.UnauthenticatedAttributes {
		if a.Type.Equal(codesign.OIDTimeStampToken) {
			ts = codesign.TimestampFrom(codesign.VerifyTimestampToken(a.Value.Bytes, si.EncryptedDigest, trust))
			break
		}
	}
	return trust.Conclude(v, leaf, p7.Certificates, ts, x509.ExtKeyUsageCodeSigning)
}

// isAppleExtension reports Apple's certificate extensions
// (1.2.840.113635.100.6.*: Developer ID and the like), which Apple marks
// critical and crypto/x509 does not know.
func isAppleExtension(oid asn1.ObjectIdentifier) bool {
	apple := asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6}
	return len(oid) > len(apple) && oid[:len(apple)].Equal(apple)
}

// signatureLocation returns where LC_CODE_SIGNATURE points in a thin image.
func signatureLocation(r io.ReaderAt) (off, size int64, err error) {
	if err := checkHeader(r); err != nil {
		return 0, 0, err
	}
	f, err := dm.NewFile(r)
	if err != nil {
		return 0, 0, fmt.Errorf("macho: %w", err)
	}
	for _, l := range f.Loads {
		raw := l.Raw()
		if len(raw) < 16 || f.ByteOrder.Uint32(raw) != lcCodeSignature {
			continue
		}
		return int64(f.ByteOrder.Uint32(raw[8:])), int64(f.ByteOrder.Uint32(raw[12:])), nil
	}
	return 0, 0, ErrNotSigned
}

// superBlob is an embedded signature's blobs by slot type.
type superBlob struct {
	blobs map[uint32][]byte
	order []uint32
}

func readSuperBlob(r io.ReaderAt, size int64) (*superBlob, error) {
	b := blobReader{r: r, size: size}
	hdr, err := b.read(0, 12)
	if err != nil {
		return nil, err
	}
	if m := be.Uint32(hdr); m != magicEmbeddedSignature {
		return nil, fmt.Errorf("code signature magic %#x, want %#x", m, magicEmbeddedSignature)
	}
	if l := int64(be.Uint32(hdr[4:])); l < b.size {
		b.size = l
	}
	count := be.Uint32(hdr[8:])
	if count > maxBlobs {
		return nil, fmt.Errorf("code signature has %d blobs (more than %d)", count, maxBlobs)
	}
	index, err := b.read(12, 8*int(count))
	if err != nil {
		return nil, err
	}
	sb := &superBlob{blobs: map[uint32][]byte{}}
	for i := range int(count) {
		typ, off := be.Uint32(index[8*i:]), int64(be.Uint32(index[8*i+4:]))
		h, err := b.read(off, 8)
		if err != nil {
			return nil, fmt.Errorf("blob %#x: %w", typ, err)
		}
		n := int64(be.Uint32(h[4:]))
		if n < 8 {
			return nil, fmt.Errorf("blob %#x has length %d", typ, n)
		}
		blob, err := b.read(off, int(n))
		if err != nil {
			return nil, fmt.Errorf("blob %#x: %w", typ, err)
		}
		if _, dup := sb.blobs[typ]; dup {
			return nil, fmt.Errorf("blob %#x appears twice", typ)
		}
		sb.blobs[typ] = blob
		sb.order = append(sb.order, typ)
	}
	return sb, nil
}

// checkCodeDirectory verifies one CodeDirectory's code slots against the
// image (sigOff is where the signature starts: code is hashed up to
// codeLimit, which must not reach into it) and its special slots against
// the embedded requirements and entitlements.
func checkCodeDirectory(cd []byte, sb *superBlob, r io.ReaderAt, sigOff int64) error {
	if len(cd) < 44 {
		return errors.New("CodeDirectory too short")
	}
	version := be.Uint32(cd[8:])
	hashOff := int64(be.Uint32(cd[16:]))
	nSpecial := int64(be.Uint32(cd[24:]))
	nCode := int64(be.Uint32(cd[28:]))
	codeLimit := int64(be.Uint32(cd[32:]))
	hashSize := int64(cd[36])
	hashType := cd[37]
	pageShift := cd[39]
	if version >= 0x20300 && len(cd) >= 64 {
		if l64 := int64(binaryBE64(cd[56:])); l64 != 0 {
			codeLimit = l64
		}
	}
	var h crypto.Hash
	var trunc int64
	switch hashType {
	case 1:
		h, trunc = crypto.SHA1, 20
	case 2:
		h, trunc = crypto.SHA256, 32
	case 3:
		h, trunc = crypto.SHA256, 20
	case 4:
		h, trunc = crypto.SHA384, 48
	default:
		return fmt.Errorf("CodeDirectory hash type %d is not supported", hashType)
	}
	if hashSize != trunc {
		return fmt.Errorf("CodeDirectory hash size %d does not fit hash type %d", hashSize, hashType)
	}
	if pageShift > 30 || codeLimit < 0 || codeLimit > sigOff {
		return fmt.Errorf("CodeDirectory code limit %d / page size 2^%d do not fit the image", codeLimit, pageShift)
	}
	page := codeLimit
	if pageShift != 0 {
		page = int64(1) << pageShift
	}
	want := int64(0)
	if page > 0 {
		want = (codeLimit + page - 1) / page
	}
	if nCode != want {
		return fmt.Errorf("CodeDirectory has %d code slots for %d bytes in %d-byte pages", nCode, codeLimit, page)
	}
	if hashOff-nSpecial*hashSize < 0 || hashOff+nCode*hashSize > int64(len(cd)) || nSpecial > 64 {
		return errors.New("CodeDirectory hash slots fall outside it")
	}
	buf := make([]byte, min(page, 1<<20))
	for i := range nCode {
		start := i * page
		end := min(start+page, codeLimit)
		w := h.New()
		for p := start; p < end; {
			n := min(int64(len(buf)), end-p)
			if _, err := r.ReadAt(buf[:n], p); err != nil {
				return fmt.Errorf("read page %d: %w", i, err)
			}
			w.Write(buf[:n])
			p += n
		}
		got := w.Sum(nil)[:hashSize]
		if subtle.ConstantTimeCompare(got, cd[hashOff+i*hashSize:hashOff+(i+1)*hashSize]) != 1 {
			return fmt.Errorf("the file was changed after signing: page %d (bytes %d-%d) does not match its hash", i, start, end)
		}
	}
	zero := make([]byte, hashSize)
	for _, slot := range []int64{slotRequirements, slotEntitlements, slotEntitlementsDER} {
		if slot > nSpecial {
			continue
		}
		stored := cd[hashOff-slot*hashSize : hashOff-(slot-1)*hashSize]
		blob, ok := sb.blobs[uint32(slot)]
		if !ok {
			if !bytes.Equal(stored, zero) {
				return fmt.Errorf("special slot %d is hashed but its blob is missing", slot)
			}
			continue
		}
		w := h.New()
		w.Write(blob)
		if subtle.ConstantTimeCompare(w.Sum(nil)[:hashSize], stored) != 1 {
			return fmt.Errorf("the embedded blob of special slot %d (requirements or entitlements) was changed after signing", slot)
		}
	}
	return nil
}

func binaryBE64(b []byte) uint64 { return be.Uint64(b) }
