// Package text turns protocol fields read off the wire into safe,
// bounded, printable strings for findings and logs.
package text

// Printable returns b (at most max bytes when max > 0) with every byte
// outside printable ASCII replaced by '?', so a hostile peer cannot put
// control characters or invalid UTF-8 into evidence.
func Printable(b []byte, max int) string {
	if max > 0 && len(b) > max {
		b = b[:max]
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c >= 0x7f {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}
