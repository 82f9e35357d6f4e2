package codesign

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	modwintrust = windows.NewLazySystemDLL("wintrust.dll")

	procCryptCATAdminAcquireContext          = modwintrust.NewProc("CryptCATAdminAcquireContext")
	procCryptCATAdminAcquireContext2         = modwintrust.NewProc("CryptCATAdminAcquireContext2")
	procCryptCATAdminCalcHashFromFileHandle  = modwintrust.NewProc("CryptCATAdminCalcHashFromFileHandle")
	procCryptCATAdminCalcHashFromFileHandle2 = modwintrust.NewProc("CryptCATAdminCalcHashFromFileHandle2")
	procCryptCATAdminEnumCatalogFromHash     = modwintrust.NewProc("CryptCATAdminEnumCatalogFromHash")
	procCryptCATCatalogInfoFromContext       = modwintrust.NewProc("CryptCATCatalogInfoFromContext")
	procCryptCATAdminReleaseCatalogContext   = modwintrust.NewProc("CryptCATAdminReleaseCatalogContext")
	procCryptCATAdminReleaseContext          = modwintrust.NewProc("CryptCATAdminReleaseContext")
	procWTHelperProvDataFromStateData        = modwintrust.NewProc("WTHelperProvDataFromStateData")
	procWTHelperGetProvSignerFromChain       = modwintrust.NewProc("WTHelperGetProvSignerFromChain")

	// driverActionVerify is DRIVER_ACTION_VERIFY, the catalog subsystem
	// of the system catalogs (catroot\{F750E6C3-...}).
	driverActionVerify = windows.GUID{Data1: 0xf750e6c3, Data2: 0x38ee, Data3: 0x11d1, Data4: [8]byte{0x85, 0xe5, 0x00, 0xc0, 0x4f, 0xc2, 0x95, 0xee}}
)

// catalogInfo is CATALOG_INFO.
type catalogInfo struct {
	Size        uint32
	CatalogFile [windows.MAX_PATH]uint16
}

// winTrustCatalogInfo is WINTRUST_CATALOG_INFO.
type winTrustCatalogInfo struct {
	Size                   uint32
	CatalogVersion         uint32
	CatalogFilePath        *uint16
	MemberTag              *uint16
	MemberFilePath         *uint16
	MemberFile             windows.Handle
	CalculatedFileHash     *byte
	CalculatedFileHashSize uint32
	CatalogContext         uintptr
	CatAdmin               windows.Handle
}

// cryptProviderSgnr is the start of CRYPT_PROVIDER_SGNR.
type cryptProviderSgnr struct {
	Size         uint32
	VerifyAsOf   windows.Filetime
	CertChainLen uint32
	CertChain    *cryptProviderCert
}

// cryptProviderCert is the start of CRYPT_PROVIDER_CERT.
type cryptProviderCert struct {
	Size uint32
	Cert *windows.CertContext
}

// OSVerifyPE asks WinVerifyTrust about the PE file at path and combines
// its verdict with ours (the Go verifier's on the same file):
//
//   - revocation of the whole chain is checked from the local cache only
//     (WTD_REVOKE_WHOLECHAIN with WTD_CACHE_ONLY_URL_RETRIEVAL: no network
//     fetch, so an offline machine does not wait on CRL or OCSP servers);
//     when the cache does not know, the file is verified again without
//     revocation and the reason says revocation was not checked;
//   - a file without an embedded signature is looked up in the system
//     catalogs (SHA-256, then SHA-1 hashes) and, when one lists it, the
//     catalog's signature is verified (WTD_CHOICE_CATALOG): the verdict is
//     WinVerifyTrust's alone, with Source SourceCatalog;
//   - otherwise the weaker of the two verdicts is given (Combine).
//
// trust.UseOSVerifier false (tests pinning their roots) returns ours.
func OSVerifyPE(path string, ours Verdict, trust *Trust) Verdict {
	if !trust.UseOSVerifier() || ours.Status == Unverified && ours.Reason == "not a PE file" {
		return ours
	}
	if err := modwintrust.Load(); err != nil {
		ours.Reason += fmt.Sprintf(" (WinVerifyTrust not available: %v)", err)
		return ours
	}
	hasTable := ours.Status != Unsigned
	code, _, err := winVerifyTrust(path, nil)
	if err != nil {
		ours.Reason += fmt.Sprintf(" (WinVerifyTrust failed: %v)", err)
		return ours
	}
	win := WinTrustVerdict(code.code, hasTable)
	win.Reason += code.note
	if !hasTable && win.Status == Unsigned {
		if cv, found, err := catalogVerdict(path); err != nil {
			ours.Reason += fmt.Sprintf("; the system catalogs could not be searched: %v", err)
			ours.Verifier = VerifierBoth
			return ours
		} else if found {
			return cv
		}
		ours.Reason += "; WinVerifyTrust finds none either, and no system catalog lists the file"
		ours.Verifier = VerifierBoth
		return ours
	}
	return Combine(ours, win)
}

// trustResult is a WinVerifyTrust result and a note on how revocation was
// checked.
type trustResult struct {
	code uint32
	note string
}

// winVerifyTrust verifies the file at path (catalog nil) or the catalog
// member catalog describes, first with revocation from the cache, then
// without when the cache cannot say. It returns the catalog signer's name
// (from the verified state) for a catalog.
func winVerifyTrust(path string, catalog *winTrustCatalogInfo) (trustResult, string, error) {
	r, signer, err := winVerifyTrustOnce(path, catalog, windows.WTD_REVOKE_WHOLECHAIN)
	if err != nil || !IsRevocationUnknown(r) {
		return trustResult{code: r}, signer, err
	}
	r2, signer, err := winVerifyTrustOnce(path, catalog, windows.WTD_REVOKE_NONE)
	return trustResult{code: r2, note: fmt.Sprintf(" (revocation not checked: %s with cached revocation data only)", WinTrustName(r))}, signer, err
}

func winVerifyTrustOnce(path string, catalog *winTrustCatalogInfo, revoke uint32) (uint32, string, error) {
	p16, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, "", fmt.Errorf("path %q: %w", path, err)
	}
	data := windows.WinTrustData{
		Size:             uint32(unsafe.Sizeof(windows.WinTrustData{})),
		UIChoice:         windows.WTD_UI_NONE,
		RevocationChecks: revoke,
		StateAction:      windows.WTD_STATEACTION_VERIFY,
		ProvFlags:        windows.WTD_CACHE_ONLY_URL_RETRIEVAL,
	}
	fi := windows.WinTrustFileInfo{Size: uint32(unsafe.Sizeof(windows.WinTrustFileInfo{})), FilePath: p16}
	if catalog != nil {
		data.UnionChoice = windows.WTD_CHOICE_CATALOG
		data.FileOrCatalogOrBlobOrSgnrOrCert = unsafe.Pointer(catalog)
	} else {
		data.UnionChoice = windows.WTD_CHOICE_FILE
		data.FileOrCatalogOrBlobOrSgnrOrCert = unsafe.Pointer(&fi)
	}
	code := hresult(windows.WinVerifyTrustEx(windows.InvalidHWND, &windows.WINTRUST_ACTION_GENERIC_VERIFY_V2, &data))
	signer := ""
	if catalog != nil && data.StateData != 0 {
		signer = stateSigner(data.StateData)
	}
	data.StateAction = windows.WTD_STATEACTION_CLOSE
	_ = windows.WinVerifyTrustEx(windows.InvalidHWND, &windows.WINTRUST_ACTION_GENERIC_VERIFY_V2, &data)
	return code, signer, nil
}

// hresult is the HRESULT in a WinVerifyTrustEx error (0 for nil).
func hresult(err error) uint32 {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return uint32(e)
	}
	return hrTrustEFail
}

// stateSigner is the simple display name of the first signer's
// certificate in a WinVerifyTrust state.
func stateSigner(state windows.Handle) string {
	if procWTHelperProvDataFromStateData.Find() != nil || procWTHelperGetProvSignerFromChain.Find() != nil {
		return ""
	}
	prov, _, _ := procWTHelperProvDataFromStateData.Call(uintptr(state))
	if prov == 0 {
		return ""
	}
	sg, _, _ := procWTHelperGetProvSignerFromChain.Call(prov, 0, 0, 0)
	if sg == 0 {
		return ""
	}
	sgnr := (*cryptProviderSgnr)(*(*unsafe.Pointer)(unsafe.Pointer(&sg)))
	if sgnr.CertChainLen == 0 || sgnr.CertChain == nil || sgnr.CertChain.Cert == nil {
		return ""
	}
	buf := make([]uint16, 256)
	n := windows.CertGetNameString(sgnr.CertChain.Cert, windows.CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, nil, &buf[0], uint32(len(buf)))
	if n <= 1 {
		return ""
	}
	return windows.UTF16ToString(buf[:n])
}

// catalogVerdict looks the file at path up in the system catalogs and, when
// one lists its hash, verifies that catalog's signature for it.
func catalogVerdict(path string) (Verdict, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return Verdict{}, false, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	var lastErr error
	// Catalogs list SHA-256 member hashes (CryptCATAdminAcquireContext2,
	// Windows 8 and later) or SHA-1 ones (the original API).
	for _, sha256 := range []bool{true, false} {
		v, found, err := catalogLookup(f, path, sha256)
		if err != nil {
			lastErr = err
			continue
		}
		if found {
			return v, true, nil
		}
	}
	if lastErr != nil {
		return Verdict{}, false, lastErr
	}
	return Verdict{}, false, nil
}

func catalogLookup(f *os.File, path string, sha256 bool) (Verdict, bool, error) {
	var admin windows.Handle
	if sha256 {
		if procCryptCATAdminAcquireContext2.Find() != nil || procCryptCATAdminCalcHashFromFileHandle2.Find() != nil {
			return Verdict{}, false, nil // an older wintrust: SHA-1 only
		}
		alg, _ := windows.UTF16PtrFromString("SHA256")
		if ok, _, e := procCryptCATAdminAcquireContext2.Call(uintptr(unsafe.Pointer(&admin)), uintptr(unsafe.Pointer(&driverActionVerify)), uintptr(unsafe.Pointer(alg)), 0, 0); ok == 0 {
			return Verdict{}, false, fmt.Errorf("CryptCATAdminAcquireContext2: %w", e)
		}
	} else {
		if err := procCryptCATAdminAcquireContext.Find(); err != nil {
			return Verdict{}, false, err
		}
		if ok, _, e := procCryptCATAdminAcquireContext.Call(uintptr(unsafe.Pointer(&admin)), uintptr(unsafe.Pointer(&driverActionVerify)), 0); ok == 0 {
			return Verdict{}, false, fmt.Errorf("CryptCATAdminAcquireContext: %w", e)
		}
	}
	defer procCryptCATAdminReleaseContext.Call(uintptr(admin), 0)

	hash := make([]byte, 64)
	size := uint32(len(hash))
	calc := procCryptCATAdminCalcHashFromFileHandle
	args := []uintptr{uintptr(f.Fd()), uintptr(unsafe.Pointer(&size)), uintptr(unsafe.Pointer(&hash[0])), 0}
	if sha256 {
		calc = procCryptCATAdminCalcHashFromFileHandle2
		args = append([]uintptr{uintptr(admin)}, args...)
	}
	if ok, _, e := calc.Call(args...); ok == 0 {
		return Verdict{}, false, fmt.Errorf("%s: %w", calc.Name, e)
	}
	hash = hash[:size]
	info, _, _ := procCryptCATAdminEnumCatalogFromHash.Call(uintptr(admin), uintptr(unsafe.Pointer(&hash[0])), uintptr(size), 0, 0)
	if info == 0 {
		return Verdict{}, false, nil
	}
	defer procCryptCATAdminReleaseCatalogContext.Call(uintptr(admin), info, 0)
	ci := catalogInfo{Size: uint32(unsafe.Sizeof(catalogInfo{}))}
	if ok, _, e := procCryptCATCatalogInfoFromContext.Call(info, uintptr(unsafe.Pointer(&ci)), 0); ok == 0 {
		return Verdict{}, false, fmt.Errorf("CryptCATCatalogInfoFromContext: %w", e)
	}
	catPath := windows.UTF16ToString(ci.CatalogFile[:])
	cat16, err := windows.UTF16PtrFromString(catPath)
	if err != nil {
		return Verdict{}, false, err
	}
	tag16, err := windows.UTF16PtrFromString(strings.ToUpper(hex.EncodeToString(hash)))
	if err != nil {
		return Verdict{}, false, err
	}
	member16, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return Verdict{}, false, err
	}
	wci := &winTrustCatalogInfo{
		Size:                   uint32(unsafe.Sizeof(winTrustCatalogInfo{})),
		CatalogFilePath:        cat16,
		MemberTag:              tag16,
		MemberFilePath:         member16,
		MemberFile:             windows.Handle(f.Fd()),
		CalculatedFileHash:     &hash[0],
		CalculatedFileHashSize: size,
		CatAdmin:               admin,
	}
	r, signer, err := winVerifyTrust(path, wci)
	if err != nil {
		return Verdict{}, false, err
	}
	v := WinTrustVerdict(r.code, true)
	v.Reason = strings.Replace(v.Reason, "WinVerifyTrust: ", fmt.Sprintf("signed by the system catalog %s (no embedded signature); WinVerifyTrust: ", catPath), 1) + r.note
	v.Signer, v.Source, v.Verifier = signer, SourceCatalog, VerifierWinVerifyTrust
	return v, true, nil
}
