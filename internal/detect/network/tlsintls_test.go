package network

import (
	"testing"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
)

// FuzzTLSInTLS feeds arbitrary client stream prefixes and opening
// sequences to the record walker and the shape test: no panic, records
// stay inside the input.
func FuzzTLSInTLS(f *testing.F) {
	f.Add([]byte{22, 3, 1, 0, 2, 1, 0, 23, 3, 3, 0, 1, 0}, []byte{0, 10, 1, 20})
	f.Add(clientHello("example.org"), []byte{0, 200, 1, 100, 0, 80, 0, 90})
	f.Add([]byte{23, 3, 3, 0xff, 0xff}, []byte{})
	f.Fuzz(func(t *testing.T, c, opening []byte) {
		for _, r := range tlsRecords(c) {
			if r.off < 0 || r.off+5+r.n > len(c) {
				t.Fatalf("record %+v outside %d bytes", r, len(c))
			}
		}
		fl := &flow.Flow{Start: 1e9}
		for i := 0; i+1 < len(opening) && fl.NOpening < flow.MaxOpening; i += 2 {
			fl.Opening[fl.NOpening] = flow.Seg{US: int32(i) * 1000, Len: uint16(opening[i+1]) * 8, Dir: opening[i] & 1}
			fl.NOpening++
		}
		_, _, _ = tlsInTLS(fl, c, len(c)%2 == 0)
		fullyEncrypted(c)
		quicLong(c)
		tlsImitation(c, opening, uint16(len(c)))
	})
}
