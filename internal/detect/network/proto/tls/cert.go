package tls

import "errors"

var errDER = errors.New("malformed DER")

// der reads one DER element: tag, content and the rest. A content cut off
// by the end of b is returned short with ok=true when partial is allowed.
func der(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errDER
	}
	tag = b[0]
	n := int(b[1])
	hdr := 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return 0, nil, nil, errDER
		}
		n = 0
		for i := 0; i < k; i++ {
			n = n<<8 | int(b[2+i])
		}
		hdr = 2 + k
	}
	if len(b)-hdr < n {
		return tag, b[hdr:], nil, nil // truncated by capture: partial content
	}
	return tag, b[hdr : hdr+n], b[hdr+n:], nil
}

// ParseCertNames extracts subject and issuer CN and O from a DER
// certificate, which may be truncated after the subject.
func ParseCertNames(b []byte) (*Certificate, error) {
	_, cert, _, err := der(b) // Certificate SEQUENCE
	if err != nil {
		return nil, err
	}
	_, tbs, _, err := der(cert) // TBSCertificate SEQUENCE
	if err != nil {
		return nil, err
	}
	fields := make([][]byte, 0, 6)
	for len(tbs) > 0 && len(fields) < 6 {
		tag, c, rest, err := der(tbs)
		if err != nil {
			break
		}
		if len(fields) == 0 && tag == 0xa0 { // [0] version
			tbs = rest
			continue
		}
		fields = append(fields, c)
		tbs = rest
	}
	// serial, signature, issuer, validity, subject
	if len(fields) < 3 {
		return nil, errors.New("certificate truncated before issuer")
	}
	c := &Certificate{}
	c.IssuerCN, c.IssuerO = names(fields[2])
	if len(fields) >= 5 {
		c.SubjectCN, c.SubjectO = names(fields[4])
	}
	return c, nil
}

var (
	oidCN = []byte{0x55, 0x04, 0x03}
	oidO  = []byte{0x55, 0x04, 0x0a}
)

func names(name []byte) (cn, o string) {
	for len(name) > 0 {
		_, set, rest, err := der(name)
		if err != nil {
			return
		}
		name = rest
		for len(set) > 0 {
			_, atv, r2, err := der(set)
			if err != nil {
				break
			}
			set = r2
			tag, oid, val, err := der(atv)
			if err != nil || tag != 0x06 {
				continue
			}
			_, v, _, err := der(val)
			if err != nil {
				continue
			}
			switch string(oid) {
			case string(oidCN):
				if cn == "" {
					cn = printable(v)
				}
			case string(oidO):
				if o == "" {
					o = printable(v)
				}
			}
		}
	}
	return
}
