package main

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// xar, the archive format of flat installer packages. References: the xar
// project's documentation (xar/include/xar.h.in: the header; the TOC schema
// as in `xar --dump-toc` output) and Apple's open-source xar.
//
//	header (big-endian, 28 bytes): magic "xar!", uint16 header size (28),
//	  uint16 version (1), uint64 compressed TOC length, uint64 uncompressed
//	  TOC length, uint32 checksum algorithm (1 = SHA-1)
//	TOC: zlib-compressed XML <xar><toc>…</toc></xar>
//	heap: the TOC checksum (SHA-1 of the compressed TOC) at heap offset 0,
//	  then each file's archived data; <offset> values are heap-relative.
//
// A file's <encoding style="application/x-gzip"> means a zlib stream (that
// is what xar writes under that name); application/octet-stream is stored.

const (
	xarMagic      = 0x78617221 // "xar!"
	xarHeaderSize = 28
	xarCksumSHA1  = 1
	encStored     = "application/octet-stream"
	encZlib       = "application/x-gzip"
)

type xarChecksum struct {
	Style string `xml:"style,attr"`
	Value string `xml:",chardata"`
}

type xarEncoding struct {
	Style string `xml:"style,attr"`
}

type xarData struct {
	Length            int64       `xml:"length"`
	Offset            int64       `xml:"offset"`
	Size              int64       `xml:"size"`
	Encoding          xarEncoding `xml:"encoding"`
	ExtractedChecksum xarChecksum `xml:"extracted-checksum"`
	ArchivedChecksum  xarChecksum `xml:"archived-checksum"`
}

type xarFile struct {
	ID    int       `xml:"id,attr"`
	Name  string    `xml:"name"`
	Type  string    `xml:"type"`
	Mode  string    `xml:"mode"`
	UID   int       `xml:"uid"`
	GID   int       `xml:"gid"`
	User  string    `xml:"user"`
	Group string    `xml:"group"`
	Ctime string    `xml:"ctime,omitempty"`
	Mtime string    `xml:"mtime,omitempty"`
	Atime string    `xml:"atime,omitempty"`
	Data  *xarData  `xml:"data,omitempty"`
	Files []xarFile `xml:"file"`
}

type xarTOCChecksum struct {
	Style  string `xml:"style,attr"`
	Offset int64  `xml:"offset"`
	Size   int64  `xml:"size"`
}

type xarTOC struct {
	XMLName      xml.Name       `xml:"xar"`
	Checksum     xarTOCChecksum `xml:"toc>checksum"`
	CreationTime string         `xml:"toc>creation-time"`
	Files        []xarFile      `xml:"toc>file"`
}

// XarItem is a file or directory to put in a xar archive. Path uses "/"
// separators; parent directories must be listed before their contents.
type XarItem struct {
	Path     string
	Dir      bool
	Data     []byte
	Compress bool // store zlib-compressed (application/x-gzip)
}

// writeXar writes items as a xar archive with SHA-1 checksums.
func writeXar(w io.Writer, items []XarItem, mtime time.Time) error {
	ts := mtime.UTC().Format("2006-01-02T15:04:05Z")
	var heap bytes.Buffer
	heap.Write(make([]byte, sha1.Size)) // the TOC checksum, filled in below
	toc := xarTOC{
		Checksum:     xarTOCChecksum{Style: "sha1", Offset: 0, Size: sha1.Size},
		CreationTime: ts,
	}
	dirs := map[string]*[]xarFile{"": &toc.Files}
	// Build the nodes first, then the heap in listing order, then the tree.
	id := 0
	var order []string
	nodes := map[string]*xarFile{}
	for _, it := range items {
		p := strings.Trim(it.Path, "/")
		if p == "" || nodes[p] != nil {
			return fmt.Errorf("xar: bad or duplicate path %q", it.Path)
		}
		parent, name := "", p
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			parent, name = p[:i], p[i+1:]
		}
		if _, ok := dirs[parent]; !ok {
			return fmt.Errorf("xar: %q listed before its directory", it.Path)
		}
		id++
		f := xarFile{ID: id, Name: name, Type: "file", Mode: "0644", User: "root", Group: "wheel", Ctime: ts, Mtime: ts, Atime: ts}
		if it.Dir {
			f.Type, f.Mode = "directory", "0755"
		}
		nodes[p] = &f
		order = append(order, p)
		if it.Dir {
			dirs[p] = &f.Files
		}
	}
	// Data in listing order.
	for i, p := range order {
		it := items[i]
		f := nodes[p]
		if it.Dir {
			continue
		}
		archived := it.Data
		enc := encStored
		if it.Compress {
			var z bytes.Buffer
			zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
			zw.Write(it.Data)
			zw.Close()
			archived, enc = z.Bytes(), encZlib
		}
		es, as := sha1.Sum(it.Data), sha1.Sum(archived)
		f.Data = &xarData{
			Length: int64(len(archived)), Offset: int64(heap.Len()), Size: int64(len(it.Data)),
			Encoding:          xarEncoding{Style: enc},
			ExtractedChecksum: xarChecksum{Style: "sha1", Value: hex.EncodeToString(es[:])},
			ArchivedChecksum:  xarChecksum{Style: "sha1", Value: hex.EncodeToString(as[:])},
		}
		heap.Write(archived)
	}
	// Assemble the tree bottom-up (children copied into parents by value).
	for i := len(order) - 1; i >= 0; i-- {
		p := order[i]
		parent := ""
		if j := strings.LastIndexByte(p, '/'); j >= 0 {
			parent = p[:j]
		}
		list := dirs[parent]
		*list = append([]xarFile{*nodes[p]}, *list...)
	}
	xmlBody, err := xml.MarshalIndent(toc, "", " ")
	if err != nil {
		return err
	}
	tocXML := append([]byte(xml.Header), xmlBody...)
	var ztoc bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&ztoc, zlib.BestCompression)
	zw.Write(tocXML)
	zw.Close()
	sum := sha1.Sum(ztoc.Bytes())
	copy(heap.Bytes(), sum[:])

	var hdr [xarHeaderSize]byte
	binary.BigEndian.PutUint32(hdr[0:], xarMagic)
	binary.BigEndian.PutUint16(hdr[4:], xarHeaderSize)
	binary.BigEndian.PutUint16(hdr[6:], 1)
	binary.BigEndian.PutUint64(hdr[8:], uint64(ztoc.Len()))
	binary.BigEndian.PutUint64(hdr[16:], uint64(len(tocXML)))
	binary.BigEndian.PutUint32(hdr[24:], xarCksumSHA1)
	for _, b := range [][]byte{hdr[:], ztoc.Bytes(), heap.Bytes()} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// XarFile is a file read back from an archive.
type XarFile struct {
	Path string
	Dir  bool
	Mode string
	Data []byte
}

const maxXarTOC = 16 << 20

// readXar parses a xar archive, verifying the TOC checksum and every file's
// archived and extracted SHA-1 checksums.
func readXar(data []byte) ([]XarFile, *xarTOC, error) {
	if len(data) < xarHeaderSize {
		return nil, nil, errors.New("xar: short header")
	}
	if binary.BigEndian.Uint32(data) != xarMagic {
		return nil, nil, errors.New("xar: bad magic")
	}
	hsize := int(binary.BigEndian.Uint16(data[4:]))
	clen := binary.BigEndian.Uint64(data[8:])
	ulen := binary.BigEndian.Uint64(data[16:])
	alg := binary.BigEndian.Uint32(data[24:])
	if hsize < xarHeaderSize || hsize > len(data) {
		return nil, nil, errors.New("xar: bad header size")
	}
	if alg != xarCksumSHA1 {
		return nil, nil, fmt.Errorf("xar: checksum algorithm %d not supported", alg)
	}
	if clen > uint64(len(data)-hsize) || ulen > maxXarTOC {
		return nil, nil, errors.New("xar: bad TOC length")
	}
	ztoc := data[hsize : hsize+int(clen)]
	heap := data[hsize+int(clen):]
	zr, err := zlib.NewReader(bytes.NewReader(ztoc))
	if err != nil {
		return nil, nil, fmt.Errorf("xar: TOC: %w", err)
	}
	tocXML, err := io.ReadAll(io.LimitReader(zr, maxXarTOC+1))
	if err != nil {
		return nil, nil, fmt.Errorf("xar: TOC: %w", err)
	}
	if uint64(len(tocXML)) != ulen {
		return nil, nil, fmt.Errorf("xar: TOC is %d bytes, header says %d", len(tocXML), ulen)
	}
	var toc xarTOC
	if err := xml.Unmarshal(tocXML, &toc); err != nil {
		return nil, nil, fmt.Errorf("xar: TOC: %w", err)
	}
	if toc.Checksum.Style != "sha1" || toc.Checksum.Size != sha1.Size || toc.Checksum.Offset < 0 ||
		toc.Checksum.Offset > int64(len(heap))-sha1.Size {
		return nil, nil, errors.New("xar: bad TOC checksum entry")
	}
	want := sha1.Sum(ztoc)
	if !bytes.Equal(heap[toc.Checksum.Offset:toc.Checksum.Offset+sha1.Size], want[:]) {
		return nil, nil, errors.New("xar: TOC checksum mismatch")
	}
	var out []XarFile
	var walk func(prefix string, fs []xarFile, depth int) error
	walk = func(prefix string, fs []xarFile, depth int) error {
		if depth > 64 {
			return errors.New("xar: directories nested too deep")
		}
		for _, f := range fs {
			if f.Name == "" || strings.Contains(f.Name, "/") || f.Name == "." || f.Name == ".." {
				return fmt.Errorf("xar: bad name %q", f.Name)
			}
			p := prefix + f.Name
			xf := XarFile{Path: p, Dir: f.Type == "directory", Mode: f.Mode}
			if f.Data != nil {
				d := f.Data
				if d.Offset < 0 || d.Length < 0 || d.Offset > int64(len(heap)) || d.Length > int64(len(heap))-d.Offset {
					return fmt.Errorf("xar: %s: data outside the heap", p)
				}
				archived := heap[d.Offset : d.Offset+d.Length]
				if err := checkSum(d.ArchivedChecksum, archived); err != nil {
					return fmt.Errorf("xar: %s: archived %w", p, err)
				}
				var content []byte
				switch d.Encoding.Style {
				case encStored, "":
					content = archived
				case encZlib:
					zr, err := zlib.NewReader(bytes.NewReader(archived))
					if err != nil {
						return fmt.Errorf("xar: %s: %w", p, err)
					}
					if d.Size < 0 || d.Size > 1<<30 {
						return fmt.Errorf("xar: %s: bad size", p)
					}
					if content, err = io.ReadAll(io.LimitReader(zr, d.Size+1)); err != nil {
						return fmt.Errorf("xar: %s: %w", p, err)
					}
				default:
					return fmt.Errorf("xar: %s: encoding %q not supported", p, d.Encoding.Style)
				}
				if int64(len(content)) != d.Size {
					return fmt.Errorf("xar: %s: size %d, TOC says %d", p, len(content), d.Size)
				}
				if err := checkSum(d.ExtractedChecksum, content); err != nil {
					return fmt.Errorf("xar: %s: extracted %w", p, err)
				}
				xf.Data = content
			}
			out = append(out, xf)
			if err := walk(p+"/", f.Files, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("", toc.Files, 0); err != nil {
		return nil, nil, err
	}
	return out, &toc, nil
}

func checkSum(c xarChecksum, b []byte) error {
	if c.Style != "sha1" {
		return fmt.Errorf("checksum style %q not supported", c.Style)
	}
	sum := sha1.Sum(b)
	if !strings.EqualFold(strings.TrimSpace(c.Value), hex.EncodeToString(sum[:])) {
		return errors.New("checksum mismatch")
	}
	return nil
}
