package wire

import "encoding/binary"

// WebSocketPayload returns the (unmasked) payload prefix of the first
// WebSocket frame in b, or nil.
func WebSocketPayload(b []byte) []byte {
	if len(b) < 2 {
		return nil
	}
	op := b[0] & 0x0f
	if op > 2 {
		return nil
	}
	masked := b[1]&0x80 != 0
	n := int(b[1] & 0x7f)
	off := 2
	switch n {
	case 126:
		if len(b) < 4 {
			return nil
		}
		n, off = int(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		if len(b) < 10 {
			return nil
		}
		v := binary.BigEndian.Uint64(b[2:10])
		if v > 1<<31 {
			return nil
		}
		n, off = int(v), 10
	}
	var key []byte
	if masked {
		if len(b) < off+4 {
			return nil
		}
		key = b[off : off+4]
		off += 4
	}
	p := b[off:]
	if len(p) > n {
		p = p[:n]
	}
	if len(p) > 64 {
		p = p[:64]
	}
	out := make([]byte, len(p))
	for i := range p {
		out[i] = p[i]
		if masked {
			out[i] ^= key[i%4]
		}
	}
	return out
}
