// Package rfc5424 is farmwatch's one syslog implementation, shared by the
// agent's syslog output and the collector's syslog alert sink: RFC 5424
// messages (facility 13, "log audit") carrying an ArcSight CEF event, framed
// by octet counting (RFC 6587 §3.4.1) over TCP or TLS (RFC 5425).
//
// Structured data uses only SD-IDs registered with IANA (RFC 5424 §7):
// origin (software, swVersion, and enterpriseId when configured) and meta
// (sequenceId). farmwatch has no private enterprise number of its own, so a
// private SD element `farmwatch@<PEN>` is written only when the operator
// configures the number their organisation registered with IANA
// (enterprise_id); RFC 5612's documentation-only 32473 is refused. Whatever
// the private element would carry is in the CEF body as well.
package rfc5424

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Facility is the syslog facility of every farmwatch message: 13, log audit.
const Facility = 13

// DocumentationPEN is RFC 5612's enterprise number for documentation only.
const DocumentationPEN = "32473"

// Param is one SD-PARAM.
type Param struct{ Name, Value string }

// Message is one RFC 5424 message.
type Message struct {
	Severity int // 0 (emergency) … 7 (debug)
	Time     time.Time
	Hostname string
	AppName  string
	ProcID   string
	MsgID    string
	// Software and Version fill the origin element (software, swVersion).
	Software, Version string
	// Sequence, 1 … 2147483647, is written as meta sequenceId (0: none).
	Sequence uint64
	// EnterpriseID is the operator's IANA private enterprise number; with
	// it, Private is written as the element farmwatch@<EnterpriseID> and
	// origin gets enterpriseId.
	EnterpriseID string
	Private      []Param
	// Body is the MSG part (a CEF event).
	Body string
}

var penRE = regexp.MustCompile(`^[1-9][0-9]*(\.[0-9]+)*$`)

// ValidateEnterpriseID checks a configured private enterprise number.
func ValidateEnterpriseID(pen string) error {
	if pen == "" {
		return nil
	}
	if !penRE.MatchString(pen) {
		return fmt.Errorf("enterprise_id %q: want an IANA private enterprise number (digits, optionally dotted)", pen)
	}
	if pen == DocumentationPEN || strings.HasPrefix(pen, DocumentationPEN+".") {
		return fmt.Errorf("enterprise_id %s is RFC 5612's documentation-only number: use your organisation's registered one, or none", pen)
	}
	return nil
}

// String renders the message (without framing).
func (m Message) String() string {
	var b strings.Builder
	sev := max(0, min(m.Severity, 7))
	t := m.Time
	if t.IsZero() {
		t = time.Now()
	}
	fmt.Fprintf(&b, "<%d>1 %s %s %s %s %s ", Facility*8+sev, t.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		headerField(m.Hostname, 255), headerField(m.AppName, 48), headerField(m.ProcID, 128), headerField(m.MsgID, 32))
	sd := 0
	elem := func(id string, ps ...Param) {
		var parts []string
		for _, p := range ps {
			if p.Value != "" {
				parts = append(parts, sdName(p.Name)+`="`+sdValue(p.Value)+`"`)
			}
		}
		if len(parts) == 0 {
			return
		}
		b.WriteString("[" + id + " " + strings.Join(parts, " ") + "]")
		sd++
	}
	pen := ""
	if ValidateEnterpriseID(m.EnterpriseID) == nil {
		pen = m.EnterpriseID
	}
	elem("origin", Param{"software", m.Software}, Param{"swVersion", m.Version}, Param{"enterpriseId", pen})
	if m.Sequence >= 1 && m.Sequence <= 2147483647 {
		elem("meta", Param{"sequenceId", strconv.FormatUint(m.Sequence, 10)})
	}
	if pen != "" {
		elem("farmwatch@"+pen, m.Private...)
	}
	if sd == 0 {
		b.WriteString("-")
	}
	if m.Body != "" {
		b.WriteString(" " + m.Body)
	}
	return b.String()
}

// headerField makes an RFC 5424 header field: printable US-ASCII without
// spaces, at most n bytes, "-" when empty.
func headerField(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r <= 32 || r >= 127 {
			return '_'
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n]
	}
	if s == "" {
		return "-"
	}
	return s
}

// sdName makes an SD-NAME: printable US-ASCII except '=', ' ', ']', '"',
// at most 32 bytes.
func sdName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r <= 32 || r >= 127 || r == '=' || r == ']' || r == '"' {
			return '_'
		}
		return r
	}, s)
	if len(s) > 32 {
		s = s[:32]
	}
	if s == "" {
		return "_"
	}
	return s
}

var sdEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)

func sdValue(s string) string { return sdEscaper.Replace(s) }

// Frame writes msgs octet-counted ("LEN SP MSG") to w.
func Frame(w io.Writer, msgs ...string) error {
	for _, m := range msgs {
		if _, err := fmt.Fprintf(w, "%d %s", len(m), m); err != nil {
			return err
		}
	}
	return nil
}

// TLSConfig returns the client TLS configuration for a syslog receiver,
// trusting caFile's PEM certificates when set (else the system roots).
func TLSConfig(caFile string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("syslog: read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("syslog: CA file %s holds no PEM certificate", caFile)
	}
	c.RootCAs = pool
	return c, nil
}

// Dial connects to a syslog receiver over TCP, or TLS when tlsCfg is set
// (server name from the address), within 10 s or ctx.
func Dial(ctx context.Context, address string, tlsCfg *tls.Config) (net.Conn, error) {
	if _, _, err := net.SplitHostPort(address); err != nil {
		return nil, fmt.Errorf("syslog: address %q: %w", address, err)
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	var c net.Conn
	var err error
	if tlsCfg != nil {
		c, err = (&tls.Dialer{NetDialer: d, Config: tlsCfg}).DialContext(ctx, "tcp", address)
	} else {
		c, err = d.DialContext(ctx, "tcp", address)
	}
	if err != nil {
		return nil, fmt.Errorf("syslog: dial %s: %w", address, err)
	}
	return c, nil
}
