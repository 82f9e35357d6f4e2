//go:build linux

package wine

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// wtPKI is a throw-away PKI for the WinVerifyTrust test: a root that the
// Wine prefix's certificate store trusts, a code-signing leaf, a leaf that
// expired ten days ago, a timestamping certificate, and a second root
// (never trusted) with its own leaf. RSA keys: Wine's crypt32 verifies RSA
// signatures.
type wtPKI struct {
	dir                                       string
	root                                      *x509.Certificate
	chain, key, expChain, expKey, tsa, tsaKey string // PEM paths (chain: leaf then root)
	otherChain, otherKey                      string
}

func newWTPKI(t *testing.T, dir string) *wtPKI {
	t.Helper()
	now := time.Now()
	p := &wtPKI{dir: dir}
	serial := int64(100)
	write := func(name string, blocks ...*pem.Block) string {
		var b bytes.Buffer
		for _, bl := range blocks {
			_ = pem.Encode(&b, bl)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	mk := func(tmpl, parent *x509.Certificate, parentKey *rsa.PrivateKey) (*x509.Certificate, *rsa.PrivateKey) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c, key
	}
	certPEM := func(c *x509.Certificate) *pem.Block { return &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw} }
	keyPEM := func(k *rsa.PrivateKey) *pem.Block {
		return &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	}
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"Farmwatch Test"}},
			NotBefore: now.Add(-2 * 365 * 24 * time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	}
	leaf := func(cn string, nb, na time.Time, eku x509.ExtKeyUsage) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"Farmwatch Test"}},
			NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku},
			BasicConstraintsValid: true}
	}
	root, rootKey := mk(ca("Farmwatch Wine Root"), nil, nil)
	p.root = root
	other, otherKey := mk(ca("Untrusted Wine Root"), nil, nil)
	l, lk := mk(leaf("Farmwatch Wine Publisher", now.Add(-time.Hour), now.Add(365*24*time.Hour), x509.ExtKeyUsageCodeSigning), root, rootKey)
	p.chain, p.key = write("leaf.pem", certPEM(l), certPEM(root)), write("leaf.key", keyPEM(lk))
	// Valid for ten days, a month ago.
	e, ek := mk(leaf("Farmwatch Wine Publisher", now.Add(-30*24*time.Hour), now.Add(-20*24*time.Hour), x509.ExtKeyUsageCodeSigning), root, rootKey)
	p.expChain, p.expKey = write("expired.pem", certPEM(e), certPEM(root)), write("expired.key", keyPEM(ek))
	// RFC 3161 wants the TSA's extended key usage critical, and only
	// timeStamping (osslsigncode refuses another).
	tsaT := leaf("Farmwatch Wine TSA", now.Add(-365*24*time.Hour), now.Add(5*365*24*time.Hour), x509.ExtKeyUsageTimeStamping)
	tsaT.ExtKeyUsage = nil
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		t.Fatal(err)
	}
	tsaT.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}
	ts, tk := mk(tsaT, root, rootKey)
	p.tsa, p.tsaKey = write("tsa.pem", certPEM(ts), certPEM(root)), write("tsa.key", keyPEM(tk))
	ol, olk := mk(leaf("Farmwatch Wine Publisher", now.Add(-time.Hour), now.Add(365*24*time.Hour), x509.ExtKeyUsageCodeSigning), other, otherKey)
	p.otherChain, p.otherKey = write("other.pem", certPEM(ol), certPEM(other)), write("other.key", keyPEM(olk))
	return p
}

// trustRoot adds the root to the Wine prefix's machine Root store (the
// registry store crypt32 reads: HKLM\Software\Microsoft\SystemCertificates
// \Root\Certificates\<SHA-1>\Blob, a serialized CERT_CERT_PROP_ID element)
// and removes it when the test ends.
func (l *lane) trustRoot(t *testing.T, c *x509.Certificate) {
	t.Helper()
	sum := sha1.Sum(c.Raw)
	key := `HKLM\Software\Microsoft\SystemCertificates\Root\Certificates\` + strings.ToUpper(hex.EncodeToString(sum[:]))
	blob := make([]byte, 12, 12+len(c.Raw))
	binary.LittleEndian.PutUint32(blob[0:], 32) // CERT_CERT_PROP_ID
	binary.LittleEndian.PutUint32(blob[4:], 1)  // X509_ASN_ENCODING
	binary.LittleEndian.PutUint32(blob[8:], uint32(len(c.Raw)))
	blob = append(blob, c.Raw...)
	if out, code := l.wine(context.Background(), "reg", "add", key, "/v", "Blob", "/t", "REG_BINARY", "/d", hex.EncodeToString(blob), "/f"); code != 0 {
		t.Fatalf("reg add the test root: exit %d\n%s", code, out)
	}
	t.Cleanup(func() { l.wine(context.Background(), "reg", "delete", key, "/f") })
}

// TestWineWinVerifyTrust runs the Windows build of `farmwatch-agent
// identify --format json` under Wine on PEs signed here by osslsigncode (a
// root the Wine store trusts, a copy changed after signing, the certificate
// table transplanted onto another binary, an expired certificate with and
// without an RFC 3161 timestamp, a root the store does not trust, an
// unsigned file) and on real vendor-signed files, and checks the verdict
// the agent gives: on Windows both WinVerifyTrust (Wine's wintrust and
// crypt32 here) and the Go verifier check each file and the weaker verdict
// wins. What Wine 8.0 really does is asserted, not what Windows would:
//
//   - it verifies the image digest: TRUST_E_BAD_DIGEST for the tampered and
//     the transplanted copy;
//   - its Authenticode policy lets a chain to a root it does not trust pass
//     (ERROR_SUCCESS for the test's second root and for MeshCentral
//     Router, whose Microsoft identity verification root Debian's store,
//     imported by Wine, lacks), and an expired certificate with no
//     timestamp too: the untrusted and the expired verdicts come from the
//     Go verifier, and the reason says both. (The Go verifier on Windows
//     reaches the same store through crypto/x509's platform verifier: the
//     test root is added to the prefix's registry store and the signed
//     file chains to it.)
//   - catalogs: a copy of Wine's whoami.exe (no embedded signature) listed
//     in a catalog made here (unsignedCatalog, signed by osslsigncode with
//     the trusted test key) in the prefix's catroot is valid with
//     signature_source catalog, verifier winverifytrust and the catalog's
//     signer; the same file changed by one byte is in no catalog and stays
//     unsigned. Wine 8.0 has no CryptCATAdminAcquireContext2 (the SHA-1 API
//     is used), hashes the whole file for the lookup, and cannot open a
//     catalog signed with SHA-256 (its PROV_RSA_FULL provider lacks it: the
//     catalog is then left half-open and CryptCATEnumerateMember crashes the
//     process on a NULL pointer), so the catalog is signed with SHA-1.
//   - CERT_E_EXPIRED, CERT_E_UNTRUSTEDROOT, CERT_E_CHAINING, revocation
//     (CERT_E_REVOKED) and the revocation-unknown codes cannot be produced
//     under Wine 8.0 and are covered by codesign's HRESULT table test only
//     (TestWinTrustVerdict).
//
// Cost: one identify run of 11 files under the lane's prefix (~8 s at a load
// average of 20 on 2 cores) plus RSA key generation and the signing.
func TestWineWinVerifyTrust(t *testing.T) {
	l := wineLane(t)
	osslsigncode, err := exec.LookPath("osslsigncode")
	if err != nil {
		t.Fatal("osslsigncode is not installed (Debian package osslsigncode, .ci/debian-packages.txt)")
	}
	dir := filepath.Join(l.dir, "wintrust")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := newWTPKI(t, dir)
	l.trustRoot(t, p.root)
	sign := func(out string, args ...string) string {
		t.Helper()
		path := filepath.Join(dir, out)
		b, err := exec.Command(osslsigncode, append(append([]string{"sign"}, args...), "-out", path)...).CombinedOutput()
		if err != nil {
			t.Fatalf("osslsigncode sign %v: %v\n%s", args, err, b)
		}
		return path
	}
	// Two real, unsigned Windows programs: the bcryptprimitives stand-in the
	// lane built with mingw-w64, and Wine's own hostname.exe from the
	// prefix.
	plain := filepath.Join(dir, "plain.dll")
	copyFile(t, filepath.Join(l.dir, "bcryptprimitives.dll"), plain)
	other := filepath.Join(dir, "other.exe")
	copyFile(t, l.cPath(`C:\windows\system32\hostname.exe`), other)

	signed := sign("signed.dll", "-certs", p.chain, "-key", p.key, "-h", "sha256", "-n", "farmwatch wine test", "-in", plain)
	b, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	tb := bytes.Clone(b)
	tb[0x400] ^= 1 // in the first section, after the headers
	tampered := filepath.Join(dir, "tampered.dll")
	if err := os.WriteFile(tampered, tb, 0o644); err != nil {
		t.Fatal(err)
	}
	sig := filepath.Join(dir, "sig.p7")
	if out, err := exec.Command(osslsigncode, "extract-signature", "-in", signed, "-out", sig).CombinedOutput(); err != nil {
		t.Fatalf("osslsigncode extract-signature: %v\n%s", err, out)
	}
	// The transplant: osslsigncode attaches the extracted signature to
	// another binary as its certificate table, writes the file, then checks
	// it and reports the mismatch (exit 1).
	transplanted := filepath.Join(dir, "transplanted.exe")
	aout, err := exec.Command(osslsigncode, "attach-signature", "-sigin", sig, "-in", other, "-out", transplanted).CombinedOutput()
	if _, serr := os.Stat(transplanted); serr != nil || (err != nil && !strings.Contains(string(aout), "Signature mismatch")) {
		t.Fatalf("osslsigncode attach-signature: %v (%v)\n%s", err, serr, aout)
	}
	then := strconv.FormatInt(time.Now().Add(-25*24*time.Hour).Unix(), 10)
	expiredTS := sign("expired-timestamped.dll", "-certs", p.expChain, "-key", p.expKey, "-h", "sha256", "-time", then,
		"-TSA-certs", p.tsa, "-TSA-key", p.tsaKey, "-TSA-time", then, "-in", plain)
	expired := sign("expired.dll", "-certs", p.expChain, "-key", p.expKey, "-h", "sha256", "-time", then, "-in", plain)
	untrusted := sign("untrusted.dll", "-certs", p.otherChain, "-key", p.otherKey, "-h", "sha256", "-in", plain)

	// A system file without an embedded signature, listed in a catalog
	// signed with the trusted test key (SHA-1: Wine's catalog path hashes
	// with its PROV_RSA_FULL provider, which has no SHA-256) and put into
	// the prefix's system catalog directory.
	catMember := filepath.Join(dir, "catalogued.exe")
	copyFile(t, l.cPath(`C:\windows\system32\whoami.exe`), catMember)
	unsignedCat := filepath.Join(dir, "unsigned.cat")
	unsignedCatalog(t, catMember, unsignedCat)
	cat := sign("farmwatch-test.cat", "-certs", p.chain, "-key", p.key, "-h", "sha1", "-in", unsignedCat)
	catInstalled := l.cPath(`C:\windows\system32\catroot\{f750e6c3-38ee-11d1-85e5-00c04fc295ee}\farmwatch-test.cat`)
	copyFile(t, cat, catInstalled)
	t.Cleanup(func() { _ = os.Remove(catInstalled) })
	// The same file changed by one byte: in no catalog.
	notCatalogued := filepath.Join(dir, "not-catalogued.exe")
	nb, err := os.ReadFile(catMember)
	if err != nil {
		t.Fatal(err)
	}
	nb[0x400] ^= 1
	if err := os.WriteFile(notCatalogued, nb, 0o644); err != nil {
		t.Fatal(err)
	}

	z := zooCache()
	router := filepath.Join(z, "meshcentral", "node_modules", "meshcentral", "agents", "MeshCentralRouter.exe")
	msal := filepath.Join(z, "codesign", "node_modules", "@azure", "msal-node-runtime", "dist", "windows", "x64", "msalruntime.dll")
	for _, f := range []string{router, msal} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s is missing: run scripts/zoo/identity-install.sh", f)
		}
	}

	type want struct {
		name, path, status string
		contains           []string
		signer             string
	}
	cases := []want{
		{"signed", signed, "valid", []string{`chain to trusted root "Farmwatch Wine Root"`, "WinVerifyTrust: ERROR_SUCCESS"}, "Farmwatch Wine Publisher"},
		{"tampered", tampered, "invalid", []string{"changed after signing", "WinVerifyTrust: TRUST_E_BAD_DIGEST (0x80096010)"}, "Farmwatch Wine Publisher"},
		{"transplanted", transplanted, "invalid", []string{"changed after signing", "TRUST_E_BAD_DIGEST"}, "Farmwatch Wine Publisher"},
		{"expired-timestamped", expiredTS, "valid", []string{"at the timestamp", "WinVerifyTrust: ERROR_SUCCESS"}, "Farmwatch Wine Publisher"},
		{"expired", expired, "invalid", []string{"verifiers disagree", "farmwatch says invalid", "not valid at", "(no timestamp)", "WinVerifyTrust says valid (ERROR_SUCCESS"}, "Farmwatch Wine Publisher"},
		{"untrusted-root", untrusted, "untrusted", []string{"verifiers disagree", "farmwatch says untrusted", "does not reach a trusted root", "WinVerifyTrust says valid (ERROR_SUCCESS"}, "Farmwatch Wine Publisher"},
		{"unsigned", plain, "unsigned", []string{"no embedded Authenticode signature", "WinVerifyTrust finds none either, and no system catalog lists the file"}, ""},
		{"catalog", catMember, "valid", []string{"signed by the system catalog", "farmwatch-test.cat (no embedded signature)", "WinVerifyTrust: ERROR_SUCCESS"}, "Farmwatch Wine Publisher"},
		{"not-in-catalog", notCatalogued, "unsigned", []string{"no system catalog lists the file"}, ""},
		// Signed through Microsoft's Trusted Signing: Wine's store (Debian's
		// roots) lacks Microsoft's identity verification root, so the Go
		// verifier finds it untrusted; Wine's policy lets it pass.
		{"meshcentral-router", router, "untrusted", []string{"verifiers disagree", "farmwatch says untrusted", "WinVerifyTrust says valid (ERROR_SUCCESS"}, "Ylian Saint-Hilaire"},
		// Microsoft Root Certificate Authority 2011 is among Debian's roots,
		// which Wine imports: both verifiers find it valid.
		{"msal-runtime", msal, "valid", []string{`chain to trusted root "Microsoft Root Certificate Authority 2011"`, "WinVerifyTrust: ERROR_SUCCESS"}, "Microsoft Corporation"},
	}
	args := []string{"identify", "--format", "json"}
	for _, c := range cases {
		args = append(args, winPath(c.path))
	}
	start := time.Now()
	out, errOut, code := l.agent(t, args...)
	t.Logf("identify of %d files under Wine: %s", len(cases), time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Fatalf("identify exit %d\nstdout:\n%s\nstderr:\n%s", code, out, tail(errOut, 3000))
	}
	type result struct {
		Path            string `json:"path"`
		Signer          string `json:"signer"`
		SignatureSource string `json:"signature_source"`
		Signature       struct {
			Status, Reason, Source, Verifier string
		} `json:"signature"`
	}
	var rs []result
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("identify printed %q: %v", line, err)
		}
		rs = append(rs, r)
	}
	if len(rs) != len(cases) {
		t.Fatalf("%d results for %d files:\n%s", len(rs), len(cases), out)
	}
	for i, c := range cases {
		r := rs[i]
		t.Logf("%s: %s: %s (signer %q, source %q, verifier %q)", c.name, r.Signature.Status, r.Signature.Reason, r.Signer, r.SignatureSource, r.Signature.Verifier)
		wantVerifier, wantSource := "farmwatch+winverifytrust", ""
		switch {
		case c.name == "catalog":
			// Only WinVerifyTrust sees catalogs.
			wantVerifier, wantSource = "winverifytrust", "catalog"
		case c.signer != "":
			wantSource = "embedded"
		}
		if r.Signature.Verifier != wantVerifier || r.SignatureSource != wantSource || r.Signature.Source != wantSource {
			t.Errorf("%s: verifier %q, signature_source %q / %q, want %q and %q", c.name, r.Signature.Verifier, r.SignatureSource, r.Signature.Source, wantVerifier, wantSource)
		}
		if c.status != "" && r.Signature.Status != c.status {
			t.Errorf("%s: %s, want %s", c.name, r.Signature.Status, c.status)
		}
		for _, s := range c.contains {
			if !strings.Contains(r.Signature.Reason, s) {
				t.Errorf("%s: reason %q lacks %q", c.name, r.Signature.Reason, s)
			}
		}
		if r.Signer != c.signer {
			t.Errorf("%s: signer %q, want %q", c.name, r.Signer, c.signer)
		}
	}
}

// unsignedCatalog writes a Windows catalog for the file at member, not yet
// signed: a PKCS#7 SignedData without signers whose content is a
// certificate trust list (szOID_CTL, usage szOID_CATALOG_LIST) holding, as
// makecat does, one entry per member hash — the hex tag (UTF-16) with the
// member info (PE subject GUID) and an SpcIndirectDataContent carrying the
// hash. Entries for the file's SHA-1 and SHA-256 are listed: Wine 8.0's
// CryptCATAdminCalcHashFromFileHandle hashes the whole file with SHA-1.
// osslsigncode then signs it.
func unsignedCatalog(t *testing.T, member, out string) {
	t.Helper()
	b, err := os.ReadFile(member)
	if err != nil {
		t.Fatal(err)
	}
	type algID struct {
		Alg    asn1.ObjectIdentifier
		Params asn1.RawValue `asn1:"optional"`
	}
	type attr struct {
		Type   asn1.ObjectIdentifier
		Values []asn1.RawValue `asn1:"set"`
	}
	type entry struct {
		ID    []byte
		Attrs []attr `asn1:"set"`
	}
	type ctl struct {
		Usage      []asn1.ObjectIdentifier
		ListID     []byte
		ThisUpdate time.Time `asn1:"utc"`
		SubjectAlg algID
		Entries    []entry
	}
	type contentInfo struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}
	null := asn1.RawValue{Tag: asn1.TagNull}
	must := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	explicit0 := func(b []byte) asn1.RawValue {
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: b}
	}
	bmp := func(s string) []byte {
		var out []byte
		for _, c := range utf16.Encode([]rune(s)) {
			out = append(out, byte(c>>8), byte(c))
		}
		return out
	}
	memberInfo := must(asn1.Marshal(struct {
		SubjectGUID asn1.RawValue
		CertVersion int
	}{asn1.RawValue{Tag: asn1.TagBMPString, Bytes: bmp("{C689AAB8-8E78-11D0-8C47-00C04FC295EE}")}, 512}))
	// SpcPeImageData { flags BIT STRING {}, file [0] { [2] { [0] "" } } }
	peImage := []byte{0x30, 0x09, 0x03, 0x01, 0x00, 0xa0, 0x04, 0xa2, 0x02, 0x80, 0x00}
	mk := func(h []byte, alg asn1.ObjectIdentifier) entry {
		ind := must(asn1.Marshal(struct {
			Data struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue
			}
			Digest struct {
				Alg    algID
				Digest []byte
			}
		}{
			Data: struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue
			}{asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 15}, asn1.RawValue{FullBytes: peImage}},
			Digest: struct {
				Alg    algID
				Digest []byte
			}{algID{alg, null}, h},
		}))
		var tag []byte
		for _, c := range utf16.Encode([]rune(strings.ToUpper(hex.EncodeToString(h)) + "\x00")) {
			tag = append(tag, byte(c), byte(c>>8))
		}
		return entry{ID: tag, Attrs: []attr{
			{Type: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 12, 2, 2}, Values: []asn1.RawValue{{FullBytes: memberInfo}}},
			{Type: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}, Values: []asn1.RawValue{{FullBytes: ind}}},
		}}
	}
	s1, s256 := sha1.Sum(b), sha256.Sum256(b)
	list := must(asn1.Marshal(ctl{
		Usage:      []asn1.ObjectIdentifier{{1, 3, 6, 1, 4, 1, 311, 12, 1, 1}},
		ListID:     []byte("farmwatch-wine-test"),
		ThisUpdate: time.Now().UTC().Truncate(time.Second),
		SubjectAlg: algID{asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 12, 1, 2}, null},
		Entries:    []entry{mk(s1[:], asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}), mk(s256[:], asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1})},
	}))
	sd := must(asn1.Marshal(struct {
		Version int
		Algs    []algID `asn1:"set"`
		Inner   contentInfo
		Signers []asn1.RawValue `asn1:"set"`
	}{1, []algID{}, contentInfo{asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 1}, explicit0(list)}, []asn1.RawValue{}}))
	der := must(asn1.Marshal(contentInfo{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, explicit0(sd)}))
	if err := os.WriteFile(out, der, 0o644); err != nil {
		t.Fatal(err)
	}
}
