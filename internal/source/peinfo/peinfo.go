// Package peinfo reads the identity a Windows PE executable (.exe, .dll)
// carries about itself, on any OS and in pure Go:
//
//   - the version information strings (OriginalFilename, ProductName,
//     CompanyName, FileDescription, FileVersion) from the RT_VERSION
//     resource (VS_VERSIONINFO → StringFileInfo), taking the English string
//     table when there is one and the first table otherwise;
//   - the Authenticode signer: subject CN and O of the certificate that
//     signed the PKCS#7 SignedData stored in the PE security directory
//     (WIN_CERTIFICATE).
//
// Parse does not verify the signature: the signer names say who the file
// claims to be signed by. Verify checks it (image digest, PKCS#7 signature,
// timestamp countersignatures, chain to a trusted root) and returns the
// verdict that decides whether the signer may be trusted (verify.go).
//
// Executables are untrusted input. Every read is bounds-checked against the
// file size and capped (see the Max* constants), so a hostile or truncated
// file yields an error, never a panic or an unbounded allocation.
package peinfo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Caps on what is read from a file.
const (
	// MaxSections is the most section headers read (the Windows loader
	// accepts at most 96).
	MaxSections = 1024
	// MaxResourceEntries is the most entries read from one resource
	// directory.
	MaxResourceEntries = 4096
	// MaxVersionInfoSize is the largest RT_VERSION resource read;
	// VS_VERSIONINFO's length field is 16 bits.
	MaxVersionInfoSize = 64 << 10
	// MaxSignatureSize is the most bytes of one PKCS#7 signature read.
	MaxSignatureSize = 1 << 20
	// maxCertEntries is the most WIN_CERTIFICATE entries walked.
	maxCertEntries = 16
)

// ErrNotPE is returned for input that is not a PE image.
var ErrNotPE = errors.New("peinfo: not a PE file")

// Info is what a PE file says about itself. Fields the file does not carry
// are empty.
type Info struct {
	OriginalFilename string
	ProductName      string
	CompanyName      string
	FileDescription  string
	FileVersion      string
	// Signer is the Authenticode signer, nil when the file carries no
	// PKCS#7 signature.
	Signer *Signer
}

// Signer names the subject of the certificate that made an Authenticode
// signature.
type Signer struct {
	CommonName   string // subject CN
	Organization string // subject O (the first one)
}

// ParseFile is Parse on the file at path.
func ParseFile(path string) (*Info, error) {
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
		return nil, fmt.Errorf("peinfo: %s is not a regular file", path)
	}
	return Parse(f, st.Size())
}

// Parse reads the version strings and Authenticode signer of the PE image
// in r, which is size bytes long.
//
// A file without version information or without a signature is not an
// error: the fields stay empty. Malformed headers return a nil Info and an
// error; a malformed version resource or signature returns an Info with
// whatever could be read and an error describing what could not.
func Parse(r io.ReaderAt, size int64) (*Info, error) {
	f := &file{r: r, size: size}
	if err := f.parseHeaders(); err != nil {
		return nil, err
	}
	info := &Info{}
	var errs []error
	if err := f.readVersionInfo(info); err != nil {
		errs = append(errs, fmt.Errorf("version info: %w", err))
	}
	if err := f.readSigner(info); err != nil {
		errs = append(errs, fmt.Errorf("authenticode: %w", err))
	}
	return info, errors.Join(errs...)
}

type section struct {
	virtualSize, virtualAddress, sizeOfRawData, pointerToRawData uint32
}

type dataDirectory struct{ virtualAddress, size uint32 }

// file is a PE image being read.
type file struct {
	r        io.ReaderAt
	size     int64
	sections []section
	dirs     []dataDirectory
	// checksumOff and secDirOff are the file offsets of the optional
	// header's CheckSum field and of the security data directory entry:
	// the Authenticode image digest leaves both out (0 when absent).
	checksumOff, secDirOff int64
}

const (
	dirResource = 2
	dirSecurity = 4
)

var le = binary.LittleEndian

// read returns n bytes at off, or an error when they lie outside the file.
func (f *file) read(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || int64(n) > f.size-off {
		return nil, fmt.Errorf("peinfo: read of %d bytes at offset %d is outside the %d-byte file", n, off, f.size)
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, off); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("peinfo: read at offset %d: %w", off, err)
	}
	return b, nil
}

func (f *file) parseHeaders() error {
	dos, err := f.read(0, 64)
	if err != nil || dos[0] != 'M' || dos[1] != 'Z' {
		return ErrNotPE
	}
	peOff := int64(le.Uint32(dos[0x3c:]))
	// Signature (4) + COFF file header (20) + the optional header's magic.
	hdr, err := f.read(peOff, 24+2)
	if err != nil || string(hdr[:4]) != "PE\x00\x00" {
		return ErrNotPE
	}
	numSections := int(le.Uint16(hdr[6:]))
	optSize := int(le.Uint16(hdr[20:]))
	optOff := peOff + 24

	var countOff, dirsOff int
	switch magic := le.Uint16(hdr[24:]); magic {
	case 0x10b: // PE32
		countOff, dirsOff = 92, 96
	case 0x20b: // PE32+
		countOff, dirsOff = 108, 112
	default:
		return fmt.Errorf("peinfo: unknown optional header magic %#x", magic)
	}
	if optSize >= dirsOff {
		opt, err := f.read(optOff, optSize)
		if err != nil {
			return fmt.Errorf("peinfo: optional header: %w", err)
		}
		n := int(le.Uint32(opt[countOff:]))
		n = min(n, 16, (optSize-dirsOff)/8)
		f.checksumOff = optOff + 64
		if n > dirSecurity {
			f.secDirOff = optOff + int64(dirsOff) + 8*dirSecurity
		}
		for i := range n {
			d := opt[dirsOff+8*i:]
			f.dirs = append(f.dirs, dataDirectory{le.Uint32(d), le.Uint32(d[4:])})
		}
	}

	if numSections > MaxSections {
		return fmt.Errorf("peinfo: %d sections (more than %d)", numSections, MaxSections)
	}
	sh, err := f.read(optOff+int64(optSize), 40*numSections)
	if err != nil {
		return fmt.Errorf("peinfo: section headers: %w", err)
	}
	for i := range numSections {
		s := sh[40*i:]
		f.sections = append(f.sections, section{
			virtualSize:      le.Uint32(s[8:]),
			virtualAddress:   le.Uint32(s[12:]),
			sizeOfRawData:    le.Uint32(s[16:]),
			pointerToRawData: le.Uint32(s[20:]),
		})
	}
	return nil
}

func (f *file) dir(i int) dataDirectory {
	if i < len(f.dirs) {
		return f.dirs[i]
	}
	return dataDirectory{}
}

// offset maps a relative virtual address to a file offset through the
// section that holds it, also returning how many bytes of that section's
// file data follow it.
func (f *file) offset(rva uint32) (off int64, avail int64, err error) {
	for _, s := range f.sections {
		if rva < s.virtualAddress {
			continue
		}
		delta := rva - s.virtualAddress
		if delta < s.sizeOfRawData {
			return int64(s.pointerToRawData) + int64(delta), int64(s.sizeOfRawData - delta), nil
		}
	}
	return 0, 0, fmt.Errorf("peinfo: address %#x is in no section's file data", rva)
}
