// Package macho reads the code-signing identity of macOS executables, on
// any OS and in pure Go:
//
//   - from a Mach-O binary (thin, or universal/fat), the signing identifier
//     and Team ID of its embedded code signature (LC_CODE_SIGNATURE →
//     SuperBlob 0xfade0cc0 → CodeDirectory 0xfade0c02);
//   - from an application bundle, its CFBundleIdentifier
//     (Contents/Info.plist, XML or binary), and for an executable path the
//     .app bundle that encloses it.
//
// Parse does not verify the signature: the identifier and Team ID are what
// the file claims. Verify (verify.go) checks the page hashes, the CMS
// signature over the CodeDirectory and the chain to Apple's root, and its
// verdict decides whether the Team ID may be trusted. Binaries are
// untrusted input: every offset is bounds-checked and reads are capped, so
// hostile or truncated files yield errors, never panics or unbounded
// allocations.
package macho

import (
	"bytes"
	"debug/macho"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/farmwatch/farmwatch/internal/source/peinfo"
)

// ErrNotSigned is returned for a Mach-O without a code signature.
var ErrNotSigned = errors.New("macho: no code signature")

var be = binary.BigEndian

// ErrNotMachO is returned for input that is not a Mach-O file.
var ErrNotMachO = errors.New("macho: not a Mach-O file")

// Signature is what a Mach-O code signature says about its signer.
type Signature struct {
	// Identifier is the signing identifier: usually the bundle ID for an
	// app, the file name for ad-hoc and linker signatures.
	Identifier string
	// TeamID is the Apple Developer Team ID; empty for ad-hoc signatures,
	// Apple's own platform binaries and CodeDirectory versions before
	// 0x20200.
	TeamID string
	// Flags are the CodeDirectory flags (CS_ADHOC, CS_RUNTIME, ...).
	Flags uint32
	// Version is the CodeDirectory version.
	Version uint32
	// SignerName and SignerOrg are the subject CN and O of the certificate
	// that made the CMS signature ("Developer ID Application: Name
	// (TEAMID)"); empty for ad-hoc and linker signatures, which have none.
	// The signature is read, not verified.
	SignerName string
	SignerOrg  string
	// CMSError says why a present CMS signature could not be read.
	CMSError string
}

// CodeDirectory flags.
const (
	FlagAdHoc        = 0x00000002 // CS_ADHOC
	FlagLinkerSigned = 0x00020000 // CS_LINKER_SIGNED
)

// AdHoc reports whether the signature is ad hoc (no signing identity).
func (s Signature) AdHoc() bool { return s.Flags&FlagAdHoc != 0 }

// Code-signing magic numbers, slot types and limits.
const (
	magicEmbeddedSignature uint32 = 0xfade0cc0 // CSMAGIC_EMBEDDED_SIGNATURE
	magicCodeDirectory     uint32 = 0xfade0c02 // CSMAGIC_CODEDIRECTORY
	magicBlobWrapper       uint32 = 0xfade0b01 // CSMAGIC_BLOBWRAPPER (the CMS signature)
	slotSignature                 = 0x10000    // CSSLOT_SIGNATURESLOT
	maxCMSSize                    = 1 << 20
	slotCodeDirectory             = 0      // CSSLOT_CODEDIRECTORY
	slotAlternateFirst            = 0x1000 // CSSLOT_ALTERNATE_CODEDIRECTORIES
	slotAlternateLast             = 0x1004
	versionTeamID                 = 0x20200 // first CodeDirectory version with teamOffset
	lcCodeSignature               = 0x1d    // LC_CODE_SIGNATURE

	maxBlobs        = 64       // SuperBlob index entries read
	maxStringLen    = 1024     // identifier and team ID
	maxArches       = 64       // slices of a universal binary
	maxLoadCommands = 16 << 20 // bytes of load commands
)

// ParseFile is Parse on the file at path.
func ParseFile(path string) (*Signature, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("macho: %s is not a regular file", path)
	}
	return Parse(f)
}

// Parse reads the code signature of the Mach-O in r. For a universal
// binary it reads the slice for this machine's architecture first, then the
// others in order, and returns the first signature found.
func Parse(r io.ReaderAt) (*Signature, error) {
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, ErrNotMachO
	}
	switch be.Uint32(magic[:]) {
	case macho.MagicFat:
		return parseFat(r)
	case 0xcafebabf: // FAT_MAGIC_64
		return nil, errors.New("macho: 64-bit universal binaries are not supported")
	}
	return parseThin(r)
}

// parseThin reads the code signature of a single-architecture image.
func parseThin(r io.ReaderAt) (*Signature, error) {
	if err := checkHeader(r); err != nil {
		return nil, err
	}
	f, err := macho.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("macho: %w", err)
	}
	for _, l := range f.Loads {
		raw := l.Raw()
		if len(raw) < 16 || f.ByteOrder.Uint32(raw) != lcCodeSignature {
			continue
		}
		// linkedit_data_command: cmd, cmdsize, dataoff, datasize.
		off, size := f.ByteOrder.Uint32(raw[8:]), f.ByteOrder.Uint32(raw[12:])
		return ParseSignature(io.NewSectionReader(r, int64(off), int64(size)), int64(size))
	}
	return nil, ErrNotSigned
}

// checkHeader rejects what is not a Mach-O image and headers whose load
// commands cannot be in the file, before debug/macho sizes allocations
// from the header's counts.
func checkHeader(r io.ReaderAt) error {
	var h [28]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		if _, err := r.ReadAt(h[:4], 0); err == nil && isThinMagic(h[:4]) {
			return errors.New("macho: truncated header")
		}
		return ErrNotMachO
	}
	if !isThinMagic(h[:4]) {
		return ErrNotMachO
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if m := be.Uint32(h[:]); m == macho.Magic32 || m == macho.Magic64 {
		bo = binary.BigEndian
	}
	hdrSize := int64(28)
	if bo.Uint32(h[:]) == macho.Magic64 {
		hdrSize = 32
	}
	ncmds, sizeofcmds := bo.Uint32(h[16:]), bo.Uint32(h[20:])
	if sizeofcmds > maxLoadCommands {
		return fmt.Errorf("macho: %d bytes of load commands (more than %d)", sizeofcmds, maxLoadCommands)
	}
	if uint64(ncmds)*8 > uint64(sizeofcmds) {
		return fmt.Errorf("macho: %d load commands cannot fit in %d bytes", ncmds, sizeofcmds)
	}
	if sizeofcmds > 0 {
		var last [1]byte
		if _, err := r.ReadAt(last[:], hdrSize+int64(sizeofcmds)-1); err != nil {
			return errors.New("macho: load commands run past the end of the file")
		}
	}
	return nil
}

func isThinMagic(b []byte) bool {
	for _, m := range []uint32{binary.LittleEndian.Uint32(b), be.Uint32(b)} {
		if m == macho.Magic32 || m == macho.Magic64 {
			return true
		}
	}
	return false
}

// parseFat reads a universal binary: a big-endian fat_header (magic,
// nfat_arch) and nfat_arch fat_arch records (cputype, cpusubtype, offset,
// size, align), each naming a thin image.
func parseFat(r io.ReaderAt) (*Signature, error) {
	var h [8]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, errors.New("macho: truncated universal header")
	}
	n := be.Uint32(h[4:])
	if n == 0 || n > maxArches {
		return nil, fmt.Errorf("macho: universal binary with %d architectures", n)
	}
	recs := make([]byte, 20*n)
	if _, err := r.ReadAt(recs, 8); err != nil {
		return nil, errors.New("macho: truncated universal header")
	}
	type arch struct {
		cpu       macho.Cpu
		off, size int64
	}
	host := hostCPU()
	var arches []arch
	for i := range int(n) {
		rec := recs[20*i:]
		a := arch{macho.Cpu(be.Uint32(rec)), int64(be.Uint32(rec[8:])), int64(be.Uint32(rec[12:]))}
		if a.cpu == host {
			arches = append([]arch{a}, arches...)
		} else {
			arches = append(arches, a)
		}
	}
	var firstErr error
	for _, a := range arches {
		s, err := parseThin(io.NewSectionReader(r, a.off, a.size))
		if err == nil {
			return s, nil
		}
		if firstErr == nil || errors.Is(firstErr, ErrNotSigned) {
			firstErr = fmt.Errorf("%v slice: %w", a.cpu, err)
		}
	}
	return nil, firstErr
}

func hostCPU() macho.Cpu {
	switch runtime.GOARCH {
	case "arm64":
		return macho.CpuArm64
	case "amd64":
		return macho.CpuAmd64
	}
	return 0
}

// blobReader reads big-endian code-signing structures within size bytes.
type blobReader struct {
	r    io.ReaderAt
	size int64
}

func (b blobReader) read(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > b.size || int64(n) > b.size-off {
		return nil, fmt.Errorf("macho: code signature: %d bytes at offset %d are outside its %d bytes", n, off, b.size)
	}
	buf := make([]byte, n)
	if _, err := b.r.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("macho: code signature: %w", err)
	}
	return buf, nil
}

// cstring reads a NUL-terminated string at off, not past limit.
func (b blobReader) cstring(off, limit int64) (string, error) {
	n := min(limit-off, maxStringLen+1)
	buf, err := b.read(off, int(max(n, 0)))
	if err != nil {
		return "", err
	}
	i := bytes.IndexByte(buf, 0)
	if i < 0 {
		return "", fmt.Errorf("macho: code signature: unterminated string at offset %d", off)
	}
	return string(buf[:i]), nil
}

// ParseSignature reads an embedded code signature (the SuperBlob that
// LC_CODE_SIGNATURE points to), size bytes long.
func ParseSignature(r io.ReaderAt, size int64) (*Signature, error) {
	b := blobReader{r: r, size: size}
	hdr, err := b.read(0, 12)
	if err != nil {
		return nil, err
	}
	if m := be.Uint32(hdr); m != magicEmbeddedSignature {
		return nil, fmt.Errorf("macho: code signature magic %#x, want %#x", m, magicEmbeddedSignature)
	}
	if l := int64(be.Uint32(hdr[4:])); l < b.size {
		b.size = l // the SuperBlob may be padded
	}
	count := be.Uint32(hdr[8:])
	if count > maxBlobs {
		return nil, fmt.Errorf("macho: code signature has %d blobs (more than %d)", count, maxBlobs)
	}
	index, err := b.read(12, 8*int(count))
	if err != nil {
		return nil, err
	}
	cdOff, cmsOff := int64(-1), int64(-1)
	for i := range int(count) {
		typ, off := be.Uint32(index[8*i:]), be.Uint32(index[8*i+4:])
		switch {
		case typ == slotCodeDirectory:
			cdOff = int64(off)
		case typ >= slotAlternateFirst && typ <= slotAlternateLast:
			if cdOff < 0 {
				cdOff = int64(off)
			}
		case typ == slotSignature && cmsOff < 0:
			cmsOff = int64(off)
		}
	}
	if cdOff < 0 {
		return nil, errors.New("macho: code signature has no CodeDirectory")
	}
	s, err := parseCodeDirectory(b, cdOff)
	if err != nil || cmsOff < 0 {
		return s, err
	}
	// A CMS blob that does not parse leaves the signer empty: the
	// CodeDirectory's identity stands on its own.
	if err := readCMSSigner(b, cmsOff, s); err != nil {
		s.SignerName, s.SignerOrg = "", ""
		s.CMSError = err.Error()
	}
	return s, nil
}

// readCMSSigner reads the subject of the signing certificate from the CMS
// blob wrapper at off (magic, length, DER SignedData). Ad-hoc signatures
// carry an empty wrapper: no signer.
func readCMSSigner(b blobReader, off int64, s *Signature) error {
	hdr, err := b.read(off, 8)
	if err != nil {
		return err
	}
	if m := be.Uint32(hdr); m != magicBlobWrapper {
		return fmt.Errorf("macho: CMS signature magic %#x, want %#x", m, magicBlobWrapper)
	}
	length := int64(be.Uint32(hdr[4:]))
	if length < 8 || length > b.size-off || length > maxCMSSize {
		return fmt.Errorf("macho: CMS signature length %d does not fit its signature", length)
	}
	if length == 8 {
		return nil
	}
	der, err := b.read(off+8, int(length-8))
	if err != nil {
		return err
	}
	signer, err := peinfo.SignerOfPKCS7(der)
	if err != nil {
		return fmt.Errorf("macho: CMS signature: %w", err)
	}
	s.SignerName, s.SignerOrg = signer.CommonName, signer.Organization
	return nil
}

// parseCodeDirectory reads the CodeDirectory blob at off. Its layout (all
// big-endian): magic, length, version, flags, hashOffset, identOffset
// (20), nSpecialSlots, nCodeSlots, codeLimit, hashSize, hashType,
// platform, pageSize, spare2, then scatterOffset (44) from version 0x20100
// and teamOffset (48) from version 0x20200.
func parseCodeDirectory(b blobReader, off int64) (*Signature, error) {
	hdr, err := b.read(off, 44)
	if err != nil {
		return nil, err
	}
	if m := be.Uint32(hdr); m != magicCodeDirectory {
		return nil, fmt.Errorf("macho: CodeDirectory magic %#x, want %#x", m, magicCodeDirectory)
	}
	length := int64(be.Uint32(hdr[4:]))
	if length < 44 || length > b.size-off {
		return nil, fmt.Errorf("macho: CodeDirectory length %d does not fit its signature", length)
	}
	s := &Signature{Version: be.Uint32(hdr[8:]), Flags: be.Uint32(hdr[12:])}
	end := off + length
	if identOff := int64(be.Uint32(hdr[20:])); identOff != 0 {
		if s.Identifier, err = b.cstring(off+identOff, end); err != nil {
			return nil, fmt.Errorf("identifier: %w", err)
		}
	}
	if s.Version >= versionTeamID && length >= 52 {
		t, err := b.read(off+48, 4)
		if err != nil {
			return nil, err
		}
		if teamOff := int64(be.Uint32(t)); teamOff != 0 {
			if s.TeamID, err = b.cstring(off+teamOff, end); err != nil {
				return nil, fmt.Errorf("team ID: %w", err)
			}
		}
	}
	return s, nil
}
