package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The Bom ("bill of materials") of a component package: Apple's BOMStore
// file, the format mkbom(8) writes and lsbom(8) reads. Apple does not publish
// it; this writer follows the structure documented by the bomutils project
// (github.com/hogliux/bomutils, src/bom.h: field-by-field layout, and its
// README/tutorial) and by Joseph Coffland's original reverse-engineering
// notes it builds on, written here from that description:
//
//	header (512 bytes, big-endian): "BOMStore", u32 version 1, u32 number of
//	  non-null blocks, u32 index offset, u32 index length, u32 vars offset,
//	  u32 vars length
//	vars: u32 count, then {u32 block index, u8 name length, name} —
//	  BomInfo, Paths, HLIndex, VIndex, Size64
//	blocks: addressed through the index: u32 count, {u32 address, u32 length}
//	  (entry 0 is null), followed by the free list (u32 count, pointers)
//	Paths: a "tree" block (u32 version 1, u32 child, u32 block size 4096,
//	  u32 path count, u8 0) whose child is a BOMPaths node (u16 isLeaf, u16
//	  count, u32 forward, u32 backward, count × {u32 index0, u32 index1}); a
//	  leaf's index0 is a PathInfo1 {u32 id, u32 PathInfo2 block} and index1 a
//	  BOMFile {u32 parent id, NUL-terminated name}; a branch's index0 is a
//	  child node. PathInfo2: u8 type (1 file, 2 dir, 3 link), u8 1, u16
//	  architecture (3), u16 mode, u32 uid, u32 gid, u32 mtime, u32 size, u8 1,
//	  u32 checksum (POSIX cksum CRC of the contents), u32 link name length,
//	  link name.
//	The root "." has id 1 and parent 0; ids follow breadth-first order with
//	children sorted by name, so leaves are sorted by (parent id, name).

const (
	bomHeaderSize = 512
	bomLeafMax    = 256
	bomTypeFile   = 1
	bomTypeDir    = 2
	bomTypeLink   = 3
)

type bomWriter struct{ blocks [][]byte }

func (b *bomWriter) add(data []byte) uint32 {
	b.blocks = append(b.blocks, data)
	return uint32(len(b.blocks)) // block 0 is the null block
}

type be struct{ bytes.Buffer }

func (b *be) u8(v uint8)   { b.WriteByte(v) }
func (b *be) u16(v uint16) { b.Write(binary.BigEndian.AppendUint16(nil, v)) }
func (b *be) u32(v uint32) { b.Write(binary.BigEndian.AppendUint32(nil, v)) }

func bomTree(child, blockSize, count uint32) []byte {
	var b be
	b.WriteString("tree")
	b.u32(1)
	b.u32(child)
	b.u32(blockSize)
	b.u32(count)
	b.u8(0)
	return b.Bytes()
}

func bomPaths(leaf bool, forward, backward uint32, idx [][2]uint32) []byte {
	var b be
	if leaf {
		b.u16(1)
	} else {
		b.u16(0)
	}
	b.u16(uint16(len(idx)))
	b.u32(forward)
	b.u32(backward)
	for _, i := range idx {
		b.u32(i[0])
		b.u32(i[1])
	}
	return b.Bytes()
}

// writeBom builds the Bom of a payload. entries must include "." and every
// parent directory of every path.
func writeBom(entries []Entry) ([]byte, error) {
	byPath := map[string]Entry{}
	children := map[string][]string{}
	for _, e := range entries {
		p := strings.TrimSuffix(e.Path, "/")
		if p != "." && !strings.HasPrefix(p, "./") {
			return nil, fmt.Errorf("bom: path %q does not start with ./", e.Path)
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("bom: duplicate path %q", p)
		}
		byPath[p] = e
		if p != "." {
			parent := p[:strings.LastIndexByte(p, '/')]
			children[parent] = append(children[parent], p)
		}
	}
	if _, ok := byPath["."]; !ok {
		return nil, errors.New(`bom: no "." entry`)
	}
	for parent := range children {
		if _, ok := byPath[parent]; !ok {
			return nil, fmt.Errorf("bom: parent %q not listed", parent)
		}
		sort.Strings(children[parent])
	}
	var w bomWriter
	type node struct {
		path   string
		parent uint32
	}
	queue := []node{{".", 0}}
	var leafIdx [][2]uint32
	for id := uint32(1); len(queue) > 0; id++ {
		n := queue[0]
		queue = queue[1:]
		e := byPath[n.path]
		var info be
		typ, size, sum := uint8(bomTypeFile), uint32(len(e.Data)), cksum(e.Data)
		var link []byte
		switch e.Mode & modeType {
		case modeDir:
			typ, size, sum = bomTypeDir, 0, 0
		case modeLink:
			typ = bomTypeLink
			link = append(append([]byte(nil), e.Data...), 0)
		case modeFile:
		default:
			return nil, fmt.Errorf("bom: %s: unsupported file type %o", n.path, e.Mode)
		}
		info.u8(typ)
		info.u8(1)
		info.u16(3)
		info.u16(uint16(e.Mode))
		info.u32(e.UID)
		info.u32(e.GID)
		info.u32(uint32(e.Mtime))
		info.u32(size)
		info.u8(1)
		info.u32(sum)
		info.u32(uint32(len(link)))
		info.Write(link)
		var info1 be
		info1.u32(id)
		info1.u32(w.add(info.Bytes()))
		var file be
		file.u32(n.parent)
		file.WriteString(n.path[strings.LastIndexByte(n.path, '/')+1:])
		file.u8(0)
		leafIdx = append(leafIdx, [2]uint32{w.add(info1.Bytes()), w.add(file.Bytes())})
		for _, c := range children[n.path] {
			queue = append(queue, node{c, id})
		}
	}
	count := uint32(len(leafIdx))
	// Leaves of at most 256 entries, linked forward/backward; more than one
	// leaf gets a branch node above them.
	var leaves [][2]uint32 // {leaf block, last BOMFile of the leaf}
	for start := 0; start < len(leafIdx); start += bomLeafMax {
		end := min(start+bomLeafMax, len(leafIdx))
		back := uint32(0)
		if len(leaves) > 0 {
			back = leaves[len(leaves)-1][0]
		}
		blk := w.add(bomPaths(true, 0, back, leafIdx[start:end]))
		if len(leaves) > 0 { // link the previous leaf forward
			prev := w.blocks[leaves[len(leaves)-1][0]-1]
			binary.BigEndian.PutUint32(prev[4:], blk)
		}
		leaves = append(leaves, [2]uint32{blk, leafIdx[end-1][1]})
	}
	child := leaves[0][0]
	if len(leaves) > 1 {
		child = w.add(bomPaths(false, 0, 0, leaves))
	}

	var info be
	info.u32(1)
	info.u32(count + 1)
	info.u32(1)
	info.Write(make([]byte, 16))
	vars := []struct {
		name  string
		block uint32
	}{
		{"BomInfo", w.add(info.Bytes())},
		{"Paths", w.add(bomTree(child, 4096, count))},
		{"HLIndex", w.add(bomTree(w.add(bomPaths(true, 0, 0, nil)), 4096, 0))},
	}
	var vindex be
	vindex.u32(1)
	vindex.u32(w.add(bomTree(w.add(bomPaths(true, 0, 0, nil)), 128, 0)))
	vindex.u32(0)
	vindex.u8(0)
	vars = append(vars, struct {
		name  string
		block uint32
	}{"VIndex", w.add(vindex.Bytes())})
	vars = append(vars, struct {
		name  string
		block uint32
	}{"Size64", w.add(bomTree(w.add(bomPaths(true, 0, 0, nil)), 4096, 0))})

	var varsBuf be
	varsBuf.u32(uint32(len(vars)))
	for _, v := range vars {
		varsBuf.u32(v.block)
		varsBuf.u8(uint8(len(v.name)))
		varsBuf.WriteString(v.name)
	}
	// Layout: header | vars | blocks | block table | free list.
	addr := uint32(bomHeaderSize + varsBuf.Len())
	var data, table be
	table.u32(uint32(len(w.blocks) + 1))
	table.u32(0)
	table.u32(0)
	for _, blk := range w.blocks {
		table.u32(addr)
		table.u32(uint32(len(blk)))
		data.Write(blk)
		addr += uint32(len(blk))
	}
	table.u32(0) // free list: no entries, two null pointers of room
	table.Write(make([]byte, 16))

	var out be
	out.WriteString("BOMStore")
	out.u32(1)
	out.u32(uint32(len(w.blocks)))
	out.u32(addr)
	out.u32(uint32(table.Len()))
	out.u32(bomHeaderSize)
	out.u32(uint32(varsBuf.Len()))
	out.Write(make([]byte, bomHeaderSize-out.Len()))
	out.Write(varsBuf.Bytes())
	out.Write(data.Bytes())
	out.Write(table.Bytes())
	return out.Bytes(), nil
}

// BomEntry is one path read back from a Bom (as lsbom prints it).
type BomEntry struct {
	Path     string
	Type     uint8
	Mode     uint16
	UID, GID uint32
	Mtime    uint32
	Size     uint32
	Checksum uint32
	Link     string
}

// bomFile is a parsed BOMStore: its blocks and named variables.
type bomFile struct {
	data   []byte
	blocks [][2]uint32
	vars   map[string]uint32
}

func parseBomStore(data []byte) (*bomFile, error) {
	if len(data) < 32 || string(data[:8]) != "BOMStore" {
		return nil, errors.New("bom: bad magic")
	}
	u32 := binary.BigEndian.Uint32
	if u32(data[8:]) != 1 {
		return nil, errors.New("bom: unsupported version")
	}
	idxOff, idxLen, varsOff, varsLen := u32(data[16:]), u32(data[20:]), u32(data[24:]), u32(data[28:])
	if uint64(idxOff)+uint64(idxLen) > uint64(len(data)) || uint64(varsOff)+uint64(varsLen) > uint64(len(data)) || idxLen < 4 || varsLen < 4 {
		return nil, errors.New("bom: index or vars outside the file")
	}
	b := &bomFile{data: data, vars: map[string]uint32{}}
	idx := data[idxOff : idxOff+idxLen]
	n := u32(idx)
	if uint64(n)*8 > uint64(len(idx)-4) {
		return nil, errors.New("bom: block table too long")
	}
	for i := uint32(0); i < n; i++ {
		addr, ln := u32(idx[4+8*i:]), u32(idx[8+8*i:])
		if uint64(addr)+uint64(ln) > uint64(len(data)) {
			return nil, fmt.Errorf("bom: block %d outside the file", i)
		}
		b.blocks = append(b.blocks, [2]uint32{addr, ln})
	}
	vars := data[varsOff : varsOff+varsLen]
	count, p := u32(vars), 4
	for i := uint32(0); i < count; i++ {
		if p+5 > len(vars) {
			return nil, errors.New("bom: truncated vars")
		}
		blk, ln := u32(vars[p:]), int(vars[p+4])
		p += 5
		if p+ln > len(vars) {
			return nil, errors.New("bom: truncated var name")
		}
		b.vars[string(vars[p:p+ln])] = blk
		p += ln
	}
	return b, nil
}

func (b *bomFile) block(i uint32, minLen int) ([]byte, error) {
	if i == 0 || int(i) >= len(b.blocks) {
		return nil, fmt.Errorf("bom: no block %d", i)
	}
	p := b.blocks[i]
	blk := b.data[p[0] : p[0]+p[1]]
	if len(blk) < minLen {
		return nil, fmt.Errorf("bom: block %d is %d bytes, want ≥ %d", i, len(blk), minLen)
	}
	return blk, nil
}

// readBom lists the paths of a Bom's Paths tree.
func readBom(data []byte) ([]BomEntry, error) {
	b, err := parseBomStore(data)
	if err != nil {
		return nil, err
	}
	for _, v := range []string{"BomInfo", "Paths", "HLIndex", "VIndex", "Size64"} {
		if _, ok := b.vars[v]; !ok {
			return nil, fmt.Errorf("bom: no %s variable", v)
		}
	}
	tree, err := b.block(b.vars["Paths"], 21)
	if err != nil {
		return nil, err
	}
	if string(tree[:4]) != "tree" {
		return nil, errors.New("bom: Paths is not a tree")
	}
	u32 := binary.BigEndian.Uint32
	type rec struct {
		parent uint32
		name   string
		e      BomEntry
	}
	recs := map[uint32]*rec{}
	var order []uint32
	seen := map[uint32]bool{}
	var walk func(node uint32, depth int) error
	walk = func(node uint32, depth int) error {
		if depth > 16 || seen[node] {
			return errors.New("bom: Paths tree loops or is too deep")
		}
		seen[node] = true
		blk, err := b.block(node, 12)
		if err != nil {
			return err
		}
		leaf, n := binary.BigEndian.Uint16(blk), int(binary.BigEndian.Uint16(blk[2:]))
		if 12+8*n > len(blk) {
			return errors.New("bom: truncated paths node")
		}
		for i := 0; i < n; i++ {
			i0, i1 := u32(blk[12+8*i:]), u32(blk[16+8*i:])
			if leaf == 0 {
				if err := walk(i0, depth+1); err != nil {
					return err
				}
				continue
			}
			info1, err := b.block(i0, 8)
			if err != nil {
				return err
			}
			id := u32(info1)
			info2, err := b.block(u32(info1[4:]), 31)
			if err != nil {
				return err
			}
			file, err := b.block(i1, 5)
			if err != nil {
				return err
			}
			name, _, _ := bytes.Cut(file[4:], []byte{0})
			e := BomEntry{
				Type: info2[0], Mode: binary.BigEndian.Uint16(info2[4:]), UID: u32(info2[6:]), GID: u32(info2[10:]),
				Mtime: u32(info2[14:]), Size: u32(info2[18:]), Checksum: u32(info2[23:]),
			}
			if ln := u32(info2[27:]); ln > 0 {
				if uint64(ln) > uint64(len(info2)-31) {
					return errors.New("bom: truncated link name")
				}
				e.Link = strings.TrimRight(string(info2[31:31+ln]), "\x00")
			}
			if _, dup := recs[id]; dup || id == 0 {
				return fmt.Errorf("bom: bad or duplicate path id %d", id)
			}
			recs[id] = &rec{parent: u32(file), name: string(name), e: e}
			order = append(order, id)
		}
		return nil
	}
	if err := walk(u32(tree[8:]), 0); err != nil {
		return nil, err
	}
	if int(u32(tree[16:])) != len(order) {
		return nil, fmt.Errorf("bom: tree says %d paths, found %d", u32(tree[16:]), len(order))
	}
	var out []BomEntry
	for _, id := range order {
		r := recs[id]
		parts := []string{r.name}
		for p, hops := r.parent, 0; p != 0; hops++ {
			pr, ok := recs[p]
			if !ok || hops > len(recs) {
				return nil, fmt.Errorf("bom: %q has a bad parent %d", r.name, p)
			}
			parts = append(parts, pr.name)
			p = pr.parent
		}
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
		r.e.Path = strings.Join(parts, "/")
		out = append(out, r.e)
	}
	return out, nil
}

// cksum is the POSIX cksum(1) CRC (polynomial 0x04C11DB7, MSB first, the
// length appended, inverted) that BOMs record for files.
func cksum(data []byte) uint32 {
	var crc uint32
	step := func(c byte) { crc = cksumTable[byte(crc>>24)^c] ^ (crc << 8) }
	for _, c := range data {
		step(c)
	}
	for n := uint64(len(data)); n > 0; n >>= 8 {
		step(byte(n))
	}
	return ^crc
}

var cksumTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()
