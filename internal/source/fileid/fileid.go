// Package fileid reads everything farmwatch can learn about one executable
// file from the file itself, on any OS: its format (PE, Mach-O thin or
// universal, ELF), its SHA-256, the identity it carries (PE version strings
// and Authenticode signer, Mach-O signing identifier and Team ID, the
// enclosing .app bundle's identifier) and the verdict on its code signature
// (codesign.Verdict: valid, invalid, unsigned, untrusted, unverified).
//
// The live sources use it for running executables and `farmwatch-agent
// identify` prints it. Files are untrusted input: the format readers are
// bounded and a malformed file yields fields left empty and a reason, never
// a panic.
package fileid

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/farmwatch/farmwatch/internal/source/codesign"
	"github.com/farmwatch/farmwatch/internal/source/macho"
	"github.com/farmwatch/farmwatch/internal/source/peinfo"
)

// Formats.
const (
	FormatPE      = "pe"
	FormatMachO   = "mach-o"
	FormatMachOUn = "mach-o-universal"
	FormatELF     = "elf"
	FormatUnknown = "unknown"
)

// MaxHashBytes is the largest file hashed (bigger files get no SHA256).
const MaxHashBytes = 1 << 30

// Identity is what a file says about itself.
type Identity struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	// PE version information and Authenticode signer.
	OriginalFilename string `json:"original_filename,omitempty"`
	Product          string `json:"product,omitempty"`
	Company          string `json:"company,omitempty"`
	FileDescription  string `json:"file_description,omitempty"`
	FileVersion      string `json:"file_version,omitempty"`
	// Signer is the Authenticode signer's CN (or O), or the Apple code
	// signing certificate's O (or CN).
	Signer string `json:"signer,omitempty"`
	// Mach-O code signature: signing identifier, Team ID, ad hoc.
	Identifier string `json:"identifier,omitempty"`
	TeamID     string `json:"team_id,omitempty"`
	AdHoc      bool   `json:"ad_hoc,omitempty"`
	// BundleID is the enclosing .app bundle's CFBundleIdentifier.
	BundleID string `json:"bundle_id,omitempty"`
	// ELF: machine and GNU build ID.
	Machine string `json:"machine,omitempty"`
	BuildID string `json:"build_id,omitempty"`
	// Signature is the verdict on the code signature.
	Signature codesign.Verdict `json:"signature"`
	// SignatureSource is where a PE's signature was found on Windows:
	// "embedded", or "catalog" for a system file whose hash a signed
	// system catalog lists (empty elsewhere: only the embedded signature
	// is read).
	SignatureSource string `json:"signature_source,omitempty"`
	// Errors are what could not be read (a malformed version resource, a
	// truncated signature ...).
	Errors []string `json:"errors,omitempty"`
}

// Read identifies the file at path. Only an unreadable file is an error;
// a file of no known format is FormatUnknown with an unverified signature.
// hostPath, when not "", is the path the file has on the host it came from
// (for the .app bundle lookup); it defaults to path.
func Read(path string, trust *codesign.Trust) (*Identity, error) {
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
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	id := &Identity{Path: path, Size: st.Size(), Format: FormatUnknown}
	if st.Size() <= MaxHashBytes {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, st.Size())); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		id.SHA256 = hex.EncodeToString(h.Sum(nil))
	}
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil {
		id.Signature = codesign.Verdict{Status: codesign.Unverified, Reason: "file too short for any executable format"}
		return id, nil
	}
	switch {
	case magic[0] == 'M' && magic[1] == 'Z':
		id.Format = FormatPE
		readPE(f, st.Size(), id, trust)
		if id.Signature.Status != codesign.Unverified {
			// On Windows, WinVerifyTrust's verdict too (the OS store,
			// revocation, system catalogs); elsewhere unchanged.
			id.Signature = codesign.OSVerifyPE(path, id.Signature, trust)
			if id.Signer == "" {
				id.Signer = id.Signature.Signer
			}
		}
		id.SignatureSource = id.Signature.Source
	case isMachO(magic[:]):
		id.Format = FormatMachO
		if bytes.Equal(magic[:], []byte{0xca, 0xfe, 0xba, 0xbe}) || bytes.Equal(magic[:], []byte{0xca, 0xfe, 0xba, 0xbf}) {
			id.Format = FormatMachOUn
		}
		readMachO(f, st.Size(), id, trust)
		if app := macho.EnclosingApp(path); app != "" {
			id.BundleID, _ = macho.BundleID(app)
		}
	case bytes.Equal(magic[:], []byte(elf.ELFMAG)):
		id.Format = FormatELF
		readELF(f, id)
	default:
		id.Signature = codesign.Verdict{Status: codesign.Unverified, Reason: "not a PE, Mach-O or ELF file"}
	}
	return id, nil
}

func isMachO(m []byte) bool {
	for _, v := range [][]byte{{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe}, {0xca, 0xfe, 0xba, 0xbf}} {
		if bytes.Equal(m, v) {
			return true
		}
	}
	return false
}

func readPE(r io.ReaderAt, size int64, id *Identity, trust *codesign.Trust) {
	info, err := peinfo.Parse(r, size)
	if err != nil {
		id.Errors = append(id.Errors, err.Error())
	}
	if info != nil {
		id.OriginalFilename, id.Product, id.Company = info.OriginalFilename, info.ProductName, info.CompanyName
		id.FileDescription, id.FileVersion = info.FileDescription, info.FileVersion
		if info.Signer != nil {
			id.Signer = info.Signer.CommonName
			if id.Signer == "" {
				id.Signer = info.Signer.Organization
			}
		}
	}
	id.Signature = peinfo.Verify(r, size, trust)
	if id.Signer == "" {
		id.Signer = id.Signature.Signer
	}
}

func readMachO(r io.ReaderAt, size int64, id *Identity, trust *codesign.Trust) {
	sig, err := macho.Parse(r)
	switch {
	case errors.Is(err, macho.ErrNotSigned):
	case err != nil:
		id.Errors = append(id.Errors, err.Error())
	default:
		id.Identifier, id.TeamID, id.AdHoc = sig.Identifier, sig.TeamID, sig.AdHoc()
		// The developer's name as Apple certified it (the certificate's
		// O; its CN is "Developer ID Application: <O> (<team>)").
		id.Signer = sig.SignerOrg
		if id.Signer == "" {
			id.Signer = sig.SignerName
		}
	}
	id.Signature = macho.Verify(r, size, trust)
}

func readELF(r io.ReaderAt, id *Identity) {
	f, err := elf.NewFile(r)
	if err != nil {
		id.Errors = append(id.Errors, fmt.Sprintf("elf: %v", err))
	} else {
		id.Machine = f.Machine.String()
		if s := f.Section(".note.gnu.build-id"); s != nil && s.Size <= 1024 {
			if b, err := s.Data(); err == nil && len(b) > 16 {
				id.BuildID = hex.EncodeToString(b[16:])
			}
		}
	}
	id.Signature = codesign.Verdict{Status: codesign.Unsigned, Reason: "ELF executables carry no code signature farmwatch checks (package ownership is read on Linux hosts)"}
}
