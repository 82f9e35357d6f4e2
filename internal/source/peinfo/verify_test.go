package peinfo

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/allowlist"
	"github.com/farmwatch/farmwatch/internal/source/codesign"
)

// needTool returns the path of a program the test runs, skipping when it
// is missing unless FARMWATCH_E2E=1 (then the test fails naming it).
func needTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("FARMWATCH_E2E") == "1" {
			t.Fatalf("FARMWATCH_E2E=1 but %s is missing (Debian package %s)", name, pkg)
		}
		t.Skipf("%s not installed (Debian package %s; FARMWATCH_E2E=1 requires it)", name, pkg)
	}
	return p
}

// testPKI is a throw-away PKI made for one test: a root, a code-signing
// leaf, an expired code-signing leaf, a timestamping certificate, and a
// second root (never trusted) with its own code-signing leaf.
type testPKI struct {
	dir                                        string
	root, other                                *x509.Certificate
	leafPEM, leafKey, expiredPEM, expiredKey   string
	tsaPEM, tsaKey, otherLeafPEM, otherLeafKey string
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	p := &testPKI{dir: dir}
	serial := int64(1)
	mk := func(name string, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, string, string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
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
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certPath, keyPath := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
		writeFile(t, certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		writeFile(t, keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
		return c, key, certPath, keyPath
	}
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"Farmwatch Test"}},
			NotBefore: now.Add(-2 * 365 * 24 * time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	}
	leaf := func(cn string, nb, na time.Time, eku x509.ExtKeyUsage) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"Farmwatch Test"}},
			NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku}}
	}
	var rootKey, otherKey *ecdsa.PrivateKey
	p.root, rootKey, _, _ = mk("root", ca("Farmwatch Test Root"), nil, nil)
	p.other, otherKey, _, _ = mk("other-root", ca("Untrusted Test Root"), nil, nil)
	_, _, p.leafPEM, p.leafKey = mk("leaf", leaf("Farmwatch Test Publisher", now.Add(-time.Hour), now.Add(365*24*time.Hour), x509.ExtKeyUsageCodeSigning), p.root, rootKey)
	// Valid for ten days, a month ago.
	_, _, p.expiredPEM, p.expiredKey = mk("expired", leaf("Farmwatch Test Publisher", now.Add(-30*24*time.Hour), now.Add(-20*24*time.Hour), x509.ExtKeyUsageCodeSigning), p.root, rootKey)
	// RFC 3161 wants the TSA's extended key usage critical, and only
	// timeStamping.
	tsa := leaf("Farmwatch Test TSA", now.Add(-365*24*time.Hour), now.Add(5*365*24*time.Hour), x509.ExtKeyUsageTimeStamping)
	tsa.ExtKeyUsage = nil
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		t.Fatal(err)
	}
	tsa.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}
	_, _, p.tsaPEM, p.tsaKey = mk("tsa", tsa, p.root, rootKey)
	_, _, p.otherLeafPEM, p.otherLeafKey = mk("other-leaf", leaf("Farmwatch Test Publisher", now.Add(-time.Hour), now.Add(365*24*time.Hour), x509.ExtKeyUsageCodeSigning), p.other, otherKey)
	return p
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// crossBuild builds a tiny Windows program with the Go toolchain, printing
// msg, and returns the .exe path.
var buildMu sync.Mutex

func crossBuild(t *testing.T, dir, name, msg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	src := filepath.Join(dir, name)
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(src, "go.mod"), []byte("module example.com/"+name+"\n\ngo 1.21\n"))
	writeFile(t, filepath.Join(src, "main.go"), []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString("+strconv.Quote(msg)+") }\n"))
	out := filepath.Join(dir, name+".exe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cross-build %s: %v\n%s", name, err, b)
	}
	return out
}

// startTSA runs an RFC 3161 timestamping authority on loopback: each
// request is answered by `openssl ts -reply` with the test TSA key.
func startTSA(t *testing.T, p *testPKI) string {
	t.Helper()
	openssl := needTool(t, "openssl", "openssl")
	dir := filepath.Join(p.dir, "tsa")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cnf := filepath.Join(dir, "tsa.cnf")
	writeFile(t, cnf, []byte(fmt.Sprintf(`[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = %s/serial
crypto_device = builtin
signer_cert = %s
signer_key = %s
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha1, sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_alg = sha256
`, dir, p.tsaPEM, p.tsaKey)))
	writeFile(t, filepath.Join(dir, "serial"), []byte("01\n"))
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		q, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		qf, rf := filepath.Join(dir, "req.tsq"), filepath.Join(dir, "resp.tsr")
		if err := os.WriteFile(qf, q, 0o600); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out, err := exec.Command(openssl, "ts", "-reply", "-config", cnf, "-queryfile", qf, "-out", rf).CombinedOutput()
		if err != nil {
			t.Errorf("openssl ts -reply: %v\n%s", err, out)
			http.Error(w, "tsa failed", http.StatusInternalServerError)
			return
		}
		resp, err := os.ReadFile(rf)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func osslsign(t *testing.T, args ...string) {
	t.Helper()
	tool := needTool(t, "osslsigncode", "osslsigncode")
	out, err := exec.Command(tool, append([]string{"sign"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("osslsigncode sign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestVerifyOsslsigncode signs real PEs (cross-built here) with
// osslsigncode and checks every verdict: a valid signature timestamped by a
// TSA on loopback, a copy changed after signing, a certificate table
// transplanted onto another binary, a certificate that expired after a
// timestamp vouched it was valid, the same without a timestamp, and a chain
// to a root that is not trusted.
func TestVerifyOsslsigncode(t *testing.T) {
	needTool(t, "osslsigncode", "osslsigncode")
	p := newPKI(t)
	dir := p.dir
	plain := crossBuild(t, dir, "hello", "hello from a signed binary\n")
	other := crossBuild(t, dir, "other", "an unrelated binary that wants a signature\n")
	tsaURL := startTSA(t, p)
	trust := &codesign.Trust{Roots: []*x509.Certificate{p.root}, NoSystemRoots: true}

	signed := filepath.Join(dir, "signed.exe")
	osslsign(t, "-certs", p.leafPEM, "-key", p.leafKey, "-h", "sha256", "-n", "farmwatch test", "-ts", tsaURL, "-in", plain, "-out", signed)

	// Tampered: one byte of the code changed after signing.
	b, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(dir, "tampered.exe")
	tb := bytes.Clone(b)
	tb[len(tb)/3] ^= 0x01
	writeFile(t, tampered, tb)

	// Transplanted: the signed file's certificate table, as osslsigncode
	// extracts it, attached to another binary.
	sig := filepath.Join(dir, "sig.p7")
	if out, err := exec.Command("osslsigncode", "extract-signature", "-in", signed, "-out", sig).CombinedOutput(); err != nil {
		t.Fatalf("osslsigncode extract-signature: %v\n%s", err, out)
	}
	transplanted := transplant(t, dir, other, sig)

	// Expired: the certificate was valid for ten days a month ago; a
	// timestamp from then (osslsigncode's built-in TSA, -TSA-time) says
	// the file was signed while it was valid.
	then := time.Now().Add(-25 * 24 * time.Hour).Unix()
	expiredTS := filepath.Join(dir, "expired-timestamped.exe")
	osslsign(t, "-certs", p.expiredPEM, "-key", p.expiredKey, "-h", "sha256", "-time", strconv.FormatInt(then, 10),
		"-TSA-certs", p.tsaPEM, "-TSA-key", p.tsaKey, "-TSA-time", strconv.FormatInt(then, 10), "-in", plain, "-out", expiredTS)
	expiredNoTS := filepath.Join(dir, "expired.exe")
	osslsign(t, "-certs", p.expiredPEM, "-key", p.expiredKey, "-h", "sha256", "-time", strconv.FormatInt(then, 10), "-in", plain, "-out", expiredNoTS)

	untrusted := filepath.Join(dir, "untrusted.exe")
	osslsign(t, "-certs", p.otherLeafPEM, "-key", p.otherLeafKey, "-h", "sha1", "-in", plain, "-out", untrusted)

	cases := []struct {
		name, path string
		want       codesign.Status
		reason     string
		timestamp  bool
	}{
		{"valid", signed, codesign.Valid, "chain to trusted root", true},
		{"tampered", tampered, codesign.Invalid, "changed after signing", false},
		{"transplanted", transplanted, codesign.Invalid, "changed after signing", false},
		{"expired-timestamped", expiredTS, codesign.Valid, "at the timestamp", true},
		{"expired", expiredNoTS, codesign.Invalid, "not valid at", false},
		{"untrusted-root", untrusted, codesign.Untrusted, "does not reach a trusted root", false},
		{"unsigned", plain, codesign.Unsigned, "no embedded", false},
	}
	entry := allowlist.Entry{Tool: "farmwatch-test", Signer: "Farmwatch Test Publisher", Owner: "it", Reason: "test", Expires: allowlist.Date{Time: time.Now().AddDate(1, 0, 0)}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := VerifyFile(c.path, trust)
			t.Logf("%s: %s (signer %q)", c.name, v, v.Signer)
			if v.Status != c.want || !strings.Contains(v.Reason, c.reason) {
				t.Fatalf("verdict %s, want %s with %q", v, c.want, c.reason)
			}
			if (v.Timestamp != nil) != c.timestamp {
				t.Errorf("timestamp %v, want one: %v", v.Timestamp, c.timestamp)
			}
			if c.want != codesign.Unsigned && v.Signer != "Farmwatch Test Publisher" {
				t.Errorf("signer %q", v.Signer)
			}
			// The allowlist entry scoped by this signer covers only the
			// valid signatures.
			subj := allowlist.Subject{Tool: "farmwatch-test", Signer: v.Signer, Signature: string(v.Status)}
			if got := entry.Matches(subj); got != (c.want == codesign.Valid) {
				t.Errorf("allowlist entry for the signer matches a %s signature: %v", v.Status, got)
			}
		})
	}
	// Without the test root trusted, the valid file is untrusted, never
	// valid: the system roots do not know the test CA.
	if v := VerifyFile(signed, &codesign.Trust{}); v.Status != codesign.Untrusted {
		t.Errorf("with system roots only: %s, want untrusted", v)
	}
	// osslsigncode agrees on the valid and tampered files.
	if out, err := exec.Command("osslsigncode", "verify", "-CAfile", filepath.Join(dir, "root.pem"), "-TSA-CAfile", filepath.Join(dir, "root.pem"), "-in", signed).CombinedOutput(); err != nil {
		t.Errorf("osslsigncode verify of the signed file failed: %v\n%s", err, out)
	}
	if out, err := exec.Command("osslsigncode", "verify", "-CAfile", filepath.Join(dir, "root.pem"), "-TSA-CAfile", filepath.Join(dir, "root.pem"), "-in", tampered).CombinedOutput(); err == nil {
		t.Errorf("osslsigncode verify accepted the tampered file:\n%s", out)
	}
}

// transplant appends the PKCS#7 signature in sigPath to a copy of the PE at
// path as its certificate table, as an attacker copying a signed file's
// certificate table would.
func transplant(t *testing.T, dir, path, sigPath string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	f := &file{r: bytes.NewReader(b), size: int64(len(b))}
	if err := f.parseHeaders(); err != nil || f.secDirOff == 0 {
		t.Fatalf("parse %s: %v", path, err)
	}
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	off := len(b)
	entry := make([]byte, 8, 8+len(sig)+8)
	length := 8 + len(sig)
	le.PutUint32(entry, uint32(length))
	le.PutUint16(entry[4:], 0x0200)
	le.PutUint16(entry[6:], winCertTypePKCSSignedData)
	entry = append(entry, sig...)
	for len(entry)%8 != 0 {
		entry = append(entry, 0)
	}
	b = append(b, entry...)
	le.PutUint32(b[f.secDirOff:], uint32(off))
	le.PutUint32(b[f.secDirOff+4:], uint32(len(entry)))
	out := filepath.Join(dir, "transplanted.exe")
	writeFile(t, out, b)
	return out
}

func FuzzVerify(f *testing.F) {
	seed, err := os.ReadFile(fixture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		v := Verify(bytes.NewReader(b), int64(len(b)), &codesign.Trust{NoSystemRoots: true})
		if v.Status == "" || v.Reason == "" {
			t.Fatalf("empty verdict %+v", v)
		}
		if v.Status == codesign.Valid {
			t.Fatalf("valid without a trusted root: %+v", v)
		}
	})
}

// TestVerifyVendorSigned checks real vendor signatures that
// scripts/zoo/identity-install.sh installs from npm: Microsoft's MSAL
// runtime DLL and MeshCentral Router (signed by its author). Without their
// roots trusted they verify but are untrusted, never valid; a changed byte
// makes them invalid.
func TestVerifyVendorSigned(t *testing.T) {
	cache := os.Getenv("ZOO_CACHE")
	if cache == "" {
		cache = "/var/cache/farmwatch-zoo"
	}
	for _, c := range []struct{ path, signer string }{
		{filepath.Join(cache, "codesign/node_modules/@azure/msal-node-runtime/dist/windows/x64/msalruntime.dll"), "Microsoft Corporation"},
		{filepath.Join(cache, "meshcentral/node_modules/meshcentral/agents/MeshCentralRouter.exe"), "Ylian Saint-Hilaire"},
	} {
		b, err := os.ReadFile(c.path)
		if err != nil {
			if os.Getenv("FARMWATCH_E2E") == "1" {
				t.Fatalf("FARMWATCH_E2E=1 but %s is missing: run scripts/zoo/identity-install.sh", c.path)
			}
			t.Skipf("%s missing (scripts/zoo/identity-install.sh installs it)", c.path)
		}
		// A fixed clock: a week after the MSAL DLL was signed (its
		// timestamp token holds a certificate Go cannot parse, so its
		// chain is checked at the clock's time).
		trust := &codesign.Trust{NoSystemRoots: true, Now: func() time.Time { return time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC) }}
		v := Verify(bytes.NewReader(b), int64(len(b)), trust)
		t.Logf("%s: %s", filepath.Base(c.path), v)
		if v.Status != codesign.Untrusted || v.Signer != c.signer {
			t.Errorf("%s: %+v, want untrusted by %q", c.path, v, c.signer)
		}
		b[len(b)/3] ^= 1
		if v := Verify(bytes.NewReader(b), int64(len(b)), trust); v.Status != codesign.Invalid {
			t.Errorf("%s changed: %s, want invalid", c.path, v)
		}
	}
}
