package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/gopacket/gopacket"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
)

// A read() on a macOS /dev/bpf device returns a buffer of records, each a
// struct bpf_hdr followed by the captured bytes (XNU bsd/net/bpf.h):
//
//	struct bpf_hdr {
//	        struct BPF_TIMEVAL bh_tstamp;  // timeval32 on LP64: int32 sec, int32 usec
//	        bpf_u_int32 bh_caplen;         // offset 8: bytes captured
//	        bpf_u_int32 bh_datalen;        // offset 12: bytes on the wire
//	        u_short     bh_hdrlen;         // offset 16: header + padding
//	};
//
// SIZEOF_BPF_HDR is 18; the packet starts bh_hdrlen bytes into the record
// and the next record BPF_WORDALIGN(bh_hdrlen + bh_caplen) bytes on, where
// BPF_ALIGNMENT is sizeof(int32_t) = 4 on Apple systems (the BSDs use
// sizeof(long), 8, which is why gopacket's bsdbpf mis-walks macOS buffers).
// Fields are in host byte order: little endian on every Mac Go supports.
const (
	bpfHdrMin    = 18
	bpfAlignment = 4
)

// bpfIter walks one read() buffer of BPF records without allocating.
type bpfIter struct {
	buf []byte
	off int
}

// errBPFRecord is wrapped by every corrupted-buffer error.
var errBPFRecord = errors.New("corrupt bpf record")

// reset points the iterator at a freshly read buffer.
func (it *bpfIter) reset(b []byte) { it.buf, it.off = b, 0 }

// next returns the next packet (a slice into the buffer) and its capture
// info; ok is false once the buffer is used up. A corrupted header yields an
// error wrapping errBPFRecord and abandons the rest of the buffer.
func (it *bpfIter) next() (data []byte, ci gopacket.CaptureInfo, ok bool, err error) {
	rest := len(it.buf) - it.off
	if rest <= 0 {
		return nil, ci, false, nil
	}
	off := it.off
	if rest < bpfHdrMin {
		it.off = len(it.buf)
		return nil, ci, false, fmt.Errorf("%w: %d trailing bytes at offset %d, shorter than a header", errBPFRecord, rest, off)
	}
	b := it.buf[off:]
	sec := int32(binary.LittleEndian.Uint32(b[0:]))
	usec := int32(binary.LittleEndian.Uint32(b[4:]))
	caplen := binary.LittleEndian.Uint32(b[8:])
	datalen := binary.LittleEndian.Uint32(b[12:])
	hdrlen := int(binary.LittleEndian.Uint16(b[16:]))
	switch {
	case hdrlen < bpfHdrMin || hdrlen > rest:
		it.off = len(it.buf)
		return nil, ci, false, fmt.Errorf("%w: header length %d at offset %d (%d bytes left)", errBPFRecord, hdrlen, off, rest)
	case uint64(caplen) > uint64(rest-hdrlen):
		it.off = len(it.buf)
		return nil, ci, false, fmt.Errorf("%w: capture length %d at offset %d runs past the buffer (%d bytes left)", errBPFRecord, caplen, off, rest-hdrlen)
	case datalen < caplen:
		it.off = len(it.buf)
		return nil, ci, false, fmt.Errorf("%w: capture length %d above wire length %d at offset %d", errBPFRecord, caplen, datalen, off)
	}
	end := hdrlen + int(caplen)
	data = b[hdrlen:end:end]
	// BPF_WORDALIGN; the kernel does not pad after the buffer's last record.
	it.off = min(off+((end+bpfAlignment-1)&^(bpfAlignment-1)), len(it.buf))
	ci = gopacket.CaptureInfo{
		Timestamp:     time.Unix(int64(sec), int64(usec)*1000),
		CaptureLength: int(caplen),
		Length:        int(datalen),
	}
	return data, ci, true, nil
}

// Data-link types BIOCGDLT reports on macOS (XNU bsd/net/bpf.h).
const (
	dltNull   = 0   // DLT_NULL: 4-byte host-order address family (utun, lo0)
	dltEN10MB = 1   // DLT_EN10MB: Ethernet (en0, Wi-Fi, bridges)
	dltRaw    = 12  // DLT_RAW: bare IP (12 on macOS, unlike OpenBSD's 14)
	dltLoop   = 108 // DLT_LOOP: 4-byte network-order address family
)

// linkForDLT maps a BPF data-link type to the decoder's link type.
func linkForDLT(dlt int) (int, error) {
	switch dlt {
	case dltNull:
		return decode.LinkNull, nil
	case dltEN10MB:
		return decode.LinkEthernet, nil
	case dltRaw:
		return decode.LinkRaw, nil
	case dltLoop:
		return decode.LinkLoop, nil
	}
	return 0, fmt.Errorf("interface data-link type %d (DLT) is not supported for capture", dlt)
}
