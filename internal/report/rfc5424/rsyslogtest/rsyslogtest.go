// Package rsyslogtest runs a real rsyslogd (Debian's rsyslog and
// rsyslog-gnutls) on loopback for tests: one plain TCP and one TLS listener
// (its own throw-away CA), writing every message it parses as RFC 5424 to a
// file through a template that prints the fields rsyslog extracted, so tests
// assert what a real receiver makes of farmwatch's syslog output.
package rsyslogtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/testenv"
)

// Server is a running rsyslogd.
type Server struct {
	// TCP and TLS are the listeners' host:port on 127.0.0.1.
	TCP, TLS string
	// CAFile is the PEM CA that signed the TLS listener's certificate.
	CAFile string
	out    string
	stderr *os.File
}

// Line is one message as rsyslog parsed it.
type Line struct {
	Facility, Severity, Time, Hostname, AppName, ProcID, MsgID, StructuredData, Msg string
}

// Start starts rsyslogd for the test's lifetime. Without rsyslogd (or its
// TLS driver) the test skips, and under FARMWATCH_E2E=1 fails, naming the
// Debian packages.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err == nil {
		_, err = os.Stat("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so")
		if err != nil {
			matches, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so")
			if len(matches) > 0 {
				err = nil
			}
		}
	}
	if err != nil {
		testenv.Missing(t, "rsyslog test needs rsyslogd with its TLS driver: apt-get install rsyslog rsyslog-gnutls (`make deps`): %v", err)
	}
	dir := t.TempDir()
	s := &Server{out: filepath.Join(dir, "out.log"), CAFile: filepath.Join(dir, "ca.pem")}
	writeCerts(t, dir)
	tcpPort, tlsPort := freePort(t), freePort(t)
	s.TCP, s.TLS = fmt.Sprintf("127.0.0.1:%d", tcpPort), fmt.Sprintf("127.0.0.1:%d", tlsPort)
	conf := fmt.Sprintf(`global(workDirectory="%[1]s" maxMessageSize="64k"
  defaultNetstreamDriverCAFile="%[1]s/ca.pem" defaultNetstreamDriverCertFile="%[1]s/cert.pem" defaultNetstreamDriverKeyFile="%[1]s/key.pem")
module(load="imtcp" maxSessions="20")
template(name="fields" type="string" string="%%syslogfacility%%\t%%syslogseverity%%\t%%timereported:::date-rfc3339%%\t%%hostname%%\t%%app-name%%\t%%procid%%\t%%msgid%%\t%%structured-data%%\t%%msg%%\n")
ruleset(name="out") { action(type="omfile" file="%[2]s" template="fields") }
input(type="imtcp" address="127.0.0.1" port="%[3]d" ruleset="out")
input(type="imtcp" address="127.0.0.1" port="%[4]d" ruleset="out" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
`, dir, s.out, tcpPort, tlsPort)
	cfg := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-N1", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("rsyslogd rejects its test config: %v\n%s", err, out)
	}
	stderr, err := os.Create(filepath.Join(dir, "rsyslogd.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	s.stderr = stderr
	cmd := exec.Command(bin, "-n", "-f", cfg, "-i", filepath.Join(dir, "rsyslogd.pid"))
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start rsyslogd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		_ = stderr.Close()
	})
	for _, addr := range []string{s.TCP, s.TLS} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				_ = c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("rsyslogd not listening on %s after 10 s: %v\n%s", addr, err, s.log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return s
}

func (s *Server) log() string {
	b, _ := os.ReadFile(s.stderr.Name())
	return string(b)
}

// Lines waits (up to 15 s) until rsyslog wrote at least n messages and
// returns them.
func (s *Server) Lines(t testing.TB, n int) []Line {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(s.out)
		var out []Line
		for _, l := range strings.Split(string(b), "\n") {
			if l == "" {
				continue
			}
			f := strings.SplitN(l, "\t", 9)
			if len(f) != 9 {
				t.Fatalf("rsyslog output line with %d fields: %q", len(f), l)
			}
			out = append(out, Line{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]})
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslog wrote %d of %d messages within 15 s:\n%s\nrsyslogd:\n%s", len(out), n, b, s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeCerts writes ca.pem, cert.pem and key.pem (server certificate for
// 127.0.0.1 and localhost, signed by the CA) into dir.
func writeCerts(t testing.TB, dir string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "farmwatch test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, blk := range map[string]*pem.Block{
		"ca.pem": {Type: "CERTIFICATE", Bytes: caDER}, "cert.pem": {Type: "CERTIFICATE", Bytes: der},
		"key.pem": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(blk), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
