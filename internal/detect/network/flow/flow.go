// Package flow keeps per-flow state for the traffic engine with bounded
// memory: a table keyed by a fixed-size canonical 5-tuple, least-recently
// used lists for idle timeouts, a cap on live flows with counted eviction,
// per-direction size and inter-arrival statistics, OFF→ON activity
// transitions, and a small capture of the first payload bytes each way.
package flow

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
)

// Key is the canonical (direction-free) identity of a flow.
type Key struct {
	A, B         [16]byte
	APort, BPort uint16
	Proto        uint8
	V6           bool
}

// Direction indexes Flow.Dir.
const (
	C2S = 0 // client (initiator) to server
	S2C = 1
)

// Endpoint is one side of a flow.
type Endpoint struct {
	Addr netip.Addr
	Port uint16
}

// String renders addr:port.
func (e Endpoint) String() string {
	return netip.AddrPortFrom(e.Addr, e.Port).String()
}

// Buffer sizes: how much of each direction's payload is kept for the
// protocol parsers. The server side is larger because TLS certificates
// arrive there.
const (
	ClientBytes  = 4096
	ServerBytes  = 4096
	MaxDatagrams = 4   // UDP datagrams kept per direction
	DgramBytes   = 512 // bytes kept per UDP datagram
	MaxSamples   = 64  // response-delay samples (each kind)
	MaxOnsets    = 128 // OFF→ON transitions per direction
	SmallPayload = 150 // "small" (human input sized) payload threshold
	OffGap       = 500 * time.Millisecond
)

// Datagram locates one kept UDP datagram inside Dir.Buf.
type Datagram struct {
	Off, N uint16
	Len    int // original payload length
}

// Dir is the state of one direction.
type Dir struct {
	Packets, Bytes               uint64
	PayloadPackets, PayloadBytes uint64
	Small                        uint64 // payload packets ≤ SmallPayload bytes
	BareACKs                     uint64
	FirstPayload, LastPayload    int64
	IATCount                     uint64
	IATSum                       int64
	IATHist                      [16]uint32 // log2(ms) buckets of payload inter-arrival
	MaxPayload                   int
	// Sizes are the most frequent payload sizes (Misra–Gries summary:
	// every size on more than 1/(MaxSizes+1) of the payload packets is
	// here, its count low by at most that share): a tunnel's constant-size
	// inner ACKs and MTU-bound full packets.
	Sizes       [MaxSizes]SizeCount
	Buf         []byte // first payload bytes (TCP stream order) or datagrams
	Dgrams      [MaxDatagrams]Datagram
	NDgrams     int
	nextSeq     uint32
	seqSet, gap bool
	Onsets      []int64 // OFF→ON transition times (ns), the first MaxOnsets
	// OnsetCount counts every OFF→ON transition (gap ≥ OffGap). Bursts
	// counts payloads after a gap of BurstGap or more; Triggered those
	// that followed payload from the other side sent during the gap (at
	// most TriggerWindow + handshake RTT before): an update answering input.
	OnsetCount, Bursts, Triggered uint32
	lastIAT                       int64
	fin                           bool
}

// Full reports whether the direction's capture buffer holds all it will.
func (d *Dir) Full(limit int) bool {
	return d.gap || len(d.Buf) >= limit || d.NDgrams >= MaxDatagrams
}

// Datagram returns the i-th kept datagram.
func (d *Dir) Datagram(i int) []byte {
	g := d.Dgrams[i]
	return d.Buf[g.Off : int(g.Off)+int(g.N)]
}

// MedianIATms approximates the median payload inter-arrival time in ms
// from the log2 histogram (bucket lower bound; 0 for bucket 0).
func (d *Dir) MedianIATms() float64 {
	if d.IATCount == 0 {
		return 0
	}
	half := (d.IATCount + 1) / 2
	var acc uint64
	for i, c := range d.IATHist {
		acc += uint64(c)
		if acc >= half {
			if i == 0 {
				return 0.5
			}
			return float64(uint64(1)<<(i-1)) * 1.5
		}
	}
	return 0
}

// SmallFrac is the fraction of payload packets that are small.
func (d *Dir) SmallFrac() float64 {
	if d.PayloadPackets == 0 {
		return 0
	}
	return float64(d.Small) / float64(d.PayloadPackets)
}

// Flow is one bidirectional conversation.
type Flow struct {
	Key            Key
	Proto          uint8
	Client, Server Endpoint
	Start, Last    int64 // unix ns
	Dir            [2]Dir
	// TCP handshake timing: SYN, SYN-ACK and first ACK from the client.
	SynTS, SynAckTS, HandshakeAckTS int64
	SawSYN                          bool
	Closed                          bool
	// Inspected is set once the payload was parsed (buffers released).
	Inspected bool
	// Meta holds whatever the engine's inspectors derived; opaque here.
	Meta any
	// ServerName is a DNS name the capture resolved to the server address.
	ServerName string
	// Response-delay samples, per input side d: a small payload from d →
	// the next payload from the other side (Delays.Get gives ns). Seen from
	// the side that answers, this is its own processing time; from a
	// capture point between the ends it includes that part of the path.
	pendingInput [2]int64
	Resp         [2]Delays
	// Application round-trip samples, per update side d: the first payload
	// of a turn of d → the first later payload of the other side that
	// acknowledges it (TCP: its ACK covers that payload's first byte, so it
	// was sent after the other side received it). Seen from the side that
	// streams updates (a remote-control server, whichever side opened the
	// connection), this is the round trip to whatever produces the other
	// side's next message (VNC update → FramebufferUpdateRequest, protocol
	// handshakes), which a relay in between does not shorten, unlike the
	// TCP handshake. The first MaxSamples of the flow are kept, so that the
	// protocol's opening request/response exchanges are always among them.
	pendingUpdate    [2]int64
	pendingUpdateSeq [2]uint32
	lastPayloadDir   int8 // 0 none, 1 client, 2 server
	App              [2]Delays

	// Opening is the flow's first MaxOpening payload packets in either
	// direction, in arrival order: the size and direction sequence of its
	// opening exchanges (a tunnelled handshake's shape inside an outer
	// session).
	Opening  [MaxOpening]Seg
	NOpening int

	// Bypassed is set while a kernel program drops the flow's packets
	// and counts them instead (Engine.Bypass); Kern holds the counts
	// credited so far, per direction.
	Bypassed bool
	Kern     [2]Counts

	prev, next *Flow
	list       *lru
}

// MaxSizes is how many frequent payload sizes Dir.Sizes tracks.
const MaxSizes = 6

// SizeCount is one entry of Dir.Sizes.
type SizeCount struct {
	Size  uint16
	Count uint32
}

// countSize adds a payload of n bytes to the Misra–Gries summary.
func (d *Dir) countSize(n int) {
	sz := uint16(min(n, 65535))
	free := -1
	for i := range d.Sizes {
		e := &d.Sizes[i]
		if e.Count > 0 && e.Size == sz {
			e.Count++
			return
		}
		if e.Count == 0 && free < 0 {
			free = i
		}
	}
	if free >= 0 {
		d.Sizes[free] = SizeCount{Size: sz, Count: 1}
		return
	}
	for i := range d.Sizes {
		d.Sizes[i].Count--
	}
}

// FrequentSize returns the most frequent tracked payload size within
// [lo, hi] and its (lower-bound) count.
func (d *Dir) FrequentSize(lo, hi int) (size int, count uint32) {
	for _, e := range d.Sizes {
		if e.Count > count && int(e.Size) >= lo && int(e.Size) <= hi {
			size, count = int(e.Size), e.Count
		}
	}
	return size, count
}

// MaxOpening is how many payload packets Flow.Opening keeps.
const MaxOpening = 24

// Seg is one payload packet of Flow.Opening.
type Seg struct {
	US  int32  // µs since the flow's start (saturates at about 35 minutes)
	Len uint16 // payload length (saturates at 65535)
	Dir uint8  // C2S or S2C
}

// SegTime returns the time of s, a packet of f.Opening, in unix ns.
func (f *Flow) SegTime(s Seg) int64 { return f.Start + int64(s.US)*1000 }

// Delays holds up to MaxSamples delays in µs (int32 keeps the flow small;
// every delay kept is below MaxAppDelay).
type Delays struct {
	us [MaxSamples]int32
	N  int
}

func (d *Delays) add(ns int64) {
	if d.N < MaxSamples {
		d.us[d.N] = int32(ns / 1000)
		d.N++
	}
}

// Get returns the i-th delay in ns.
func (d *Delays) Get(i int) int64 { return int64(d.us[i]) * 1000 }

// All returns the delays in ns.
func (d *Delays) All() []int64 {
	out := make([]int64, d.N)
	for i := range out {
		out[i] = d.Get(i)
	}
	return out
}

// HandshakeRTT returns SYN→ACK time (the round trip seen from the capture
// point through both ends), or 0 when the handshake was not seen.
func (f *Flow) HandshakeRTT() time.Duration {
	if !f.SawSYN || f.HandshakeAckTS == 0 || f.HandshakeAckTS < f.SynTS {
		return 0
	}
	return time.Duration(f.HandshakeAckTS - f.SynTS)
}

// Duration of the flow so far.
func (f *Flow) Duration() time.Duration { return time.Duration(f.Last - f.Start) }

type lru struct{ head, tail *Flow }

func (l *lru) pushFront(f *Flow) {
	f.list, f.prev, f.next = l, nil, l.head
	if l.head != nil {
		l.head.prev = f
	}
	l.head = f
	if l.tail == nil {
		l.tail = f
	}
}

func (l *lru) remove(f *Flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next, f.list = nil, nil, nil
}

// Config bounds the table.
type Config struct {
	MaxFlows   int           // live flows; the least recently active is evicted beyond it
	TCPIdle    time.Duration // idle timeout for TCP flows
	UDPIdle    time.Duration // idle timeout for UDP and other flows
	SweepEvery time.Duration // how often (capture time) idle flows are swept
}

// DefaultConfig is used for zero fields.
var DefaultConfig = Config{MaxFlows: 65536, TCPIdle: 5 * time.Minute, UDPIdle: 2 * time.Minute, SweepEvery: time.Second}

// Stats counts what the table did.
type Stats struct {
	Created, Expired, Evicted, Closed, Ignored uint64
	Active                                     int
}

// Table is the flow table. It is not safe for concurrent use.
type Table struct {
	cfg       Config
	m         map[Key]*Flow
	tcp, udp  lru
	nextSweep int64
	stats     Stats
	free      []*Flow
	bufPool   [][]byte
	// Done is called for each flow leaving the table (closed, idle,
	// evicted or flushed); the flow must not be retained after it returns.
	Done func(*Flow)
}

// NewTable makes a table; done receives finished flows.
func NewTable(cfg Config, done func(*Flow)) *Table {
	d := DefaultConfig
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = d.MaxFlows
	}
	if cfg.TCPIdle <= 0 {
		cfg.TCPIdle = d.TCPIdle
	}
	if cfg.UDPIdle <= 0 {
		cfg.UDPIdle = d.UDPIdle
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = d.SweepEvery
	}
	return &Table{cfg: cfg, m: make(map[Key]*Flow, 1024), Done: done}
}

// Stats returns counters.
func (t *Table) Stats() Stats {
	s := t.stats
	s.Active = len(t.m)
	return s
}

func addrOf(b *[16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(*b)
	}
	return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
}

func makeKey(p *decode.Packet) (Key, bool) {
	// ESP carries no ports and its SPIs differ per direction: key ESP on
	// the address pair only (ports are zero in the decoded packet).
	sp, dp := p.SrcPort, p.DstPort
	c := bytes.Compare(p.Src[:], p.Dst[:])
	if c < 0 || (c == 0 && sp <= dp) {
		return Key{A: p.Src, B: p.Dst, APort: sp, BPort: dp, Proto: p.Proto, V6: p.V6}, true
	}
	return Key{A: p.Dst, B: p.Src, APort: dp, BPort: sp, Proto: p.Proto, V6: p.V6}, false
}

// Lookup finds or creates the flow of p at time ts (unix ns) and returns it
// with the packet's direction. It returns nil for TCP packets that carry no
// payload and do not open a connection (late ACKs, FINs and RSTs of flows
// the table no longer holds).
func (t *Table) Lookup(p *decode.Packet, ts int64) (*Flow, int) {
	if ts >= t.nextSweep {
		t.sweep(ts)
		t.nextSweep = ts + int64(t.cfg.SweepEvery)
	}
	k, _ := makeKey(p)
	f := t.m[k]
	if f == nil {
		if p.Proto == decode.ProtoTCP && wireLen(p) == 0 && p.Flags&decode.FlagSYN == 0 {
			t.stats.Ignored++
			return nil, 0
		}
		f = t.newFlow(k, p, ts)
	} else {
		f.list.remove(f)
	}
	if f.Proto == decode.ProtoTCP {
		t.tcp.pushFront(f)
	} else {
		t.udp.pushFront(f)
	}
	dir := C2S
	if p.SrcPort != f.Client.Port || !sameAddr(f.Client.Addr, &p.Src, p.V6) {
		dir = S2C
	}
	if p.Proto == decode.ProtoESP && !sameAddr(f.Client.Addr, &p.Src, p.V6) {
		dir = S2C
	}
	return f, dir
}

func sameAddr(a netip.Addr, b *[16]byte, v6 bool) bool {
	if v6 {
		return a.As16() == *b
	}
	a4 := a.As4()
	return a4[0] == b[0] && a4[1] == b[1] && a4[2] == b[2] && a4[3] == b[3]
}

func (t *Table) newFlow(k Key, p *decode.Packet, ts int64) *Flow {
	for len(t.m) >= t.cfg.MaxFlows {
		victim := t.tcp.tail
		if victim == nil || (t.udp.tail != nil && t.udp.tail.Last < victim.Last) {
			victim = t.udp.tail
		}
		if victim == nil {
			break
		}
		t.stats.Evicted++
		t.finish(victim)
	}
	var f *Flow
	if n := len(t.free); n > 0 {
		f, t.free = t.free[n-1], t.free[:n-1]
		*f = Flow{}
	} else {
		f = new(Flow)
	}
	f.Key, f.Proto, f.Start, f.Last = k, p.Proto, ts, ts
	src := Endpoint{addrOf(&p.Src, p.V6), p.SrcPort}
	dst := Endpoint{addrOf(&p.Dst, p.V6), p.DstPort}
	swap := false
	switch {
	case p.Proto == decode.ProtoTCP && p.Flags&decode.FlagSYN != 0:
		swap = p.Flags&decode.FlagACK != 0 // first seen is the SYN-ACK
	case p.Proto == decode.ProtoTCP || p.Proto == decode.ProtoUDP:
		// No handshake seen (the capture started mid-flow, or UDP): the
		// server is the side on a well-known port, else the side that is
		// not on an ephemeral one.
		if wellKnown(p.SrcPort) != wellKnown(p.DstPort) {
			swap = wellKnown(p.SrcPort)
		} else {
			swap = !ephemeral(p.SrcPort) && ephemeral(p.DstPort)
		}
	}
	if swap {
		src, dst = dst, src
	}
	f.Client, f.Server = src, dst
	t.m[k] = f
	t.stats.Created++
	return f
}

// wellKnown marks ports that are servers' rather than ephemeral clients'.
func wellKnown(p uint16) bool {
	return p < 1024 || serverPorts[p]
}

// ephemeral marks ports in the range operating systems assign to client
// sockets (Linux 32768–60999, Windows and macOS 49152–65535).
func ephemeral(p uint16) bool { return p >= 32768 }

var serverPorts = map[uint16]bool{1080: true, 1194: true, 1494: true, 3389: true, 4000: true, 4500: true, 4899: true,
	5900: true, 5901: true, 5938: true, 7070: true, 8080: true, 8443: true, 9418: true, 3478: true, 2408: true}

// Update accounts packet p (direction dir, time ts) to f
// and keeps payload bytes while the direction's buffer has room. It
// returns true when f finished (both FINs or a RST) and was handed to Done.
func (t *Table) Update(f *Flow, dir int, p *decode.Packet, ts int64) bool {
	d := &f.Dir[dir]
	d.Packets++
	d.Bytes += uint64(p.IPLen)
	if ts > f.Last {
		f.Last = ts
	}
	n := wireLen(p) // a capped capture holds fewer bytes
	if f.Proto == decode.ProtoTCP {
		fl := p.Flags
		switch {
		case fl&decode.FlagSYN != 0 && fl&decode.FlagACK == 0:
			f.SynTS, f.SawSYN = ts, true
		case fl&decode.FlagSYN != 0:
			f.SynAckTS = ts
		case dir == C2S && f.SynAckTS != 0 && f.HandshakeAckTS == 0:
			f.HandshakeAckTS = ts
		}
		if n == 0 && fl&(decode.FlagSYN|decode.FlagFIN|decode.FlagRST) == 0 && fl&decode.FlagACK != 0 {
			d.BareACKs++
		}
		if fl&decode.FlagSYN != 0 {
			d.nextSeq, d.seqSet = p.Seq+1, true
		}
		if n > 0 {
			t.payload(f, dir, d, p, ts)
			if !f.Inspected { // once parsed, no more payload is kept
				t.keepStream(d, p, limit(dir))
			}
		}
		if fl&decode.FlagFIN != 0 {
			d.fin = true
		}
		if fl&decode.FlagRST != 0 || (f.Dir[0].fin && f.Dir[1].fin) {
			f.Closed = true
			t.stats.Closed++
			t.finish(f)
			return true
		}
		return false
	}
	if n > 0 || f.Proto != decode.ProtoUDP {
		t.payload(f, dir, d, p, ts)
		if d.NDgrams < MaxDatagrams && n > 0 && !f.Inspected {
			keep := len(p.Payload)
			if keep > DgramBytes {
				keep = DgramBytes
			}
			if d.Buf == nil {
				d.Buf = t.getBuf()
			}
			d.Dgrams[d.NDgrams] = Datagram{Off: uint16(len(d.Buf)), N: uint16(keep), Len: n}
			d.Buf = append(d.Buf, p.Payload[:keep]...)
			d.NDgrams++
		}
	}
	return false
}

func limit(dir int) int {
	if dir == C2S {
		return ClientBytes
	}
	return ServerBytes
}

// wireLen is p's payload length on the wire (never below what was
// captured, for packets built without it).
func wireLen(p *decode.Packet) int {
	return max(p.PayloadLen, len(p.Payload))
}

func (t *Table) payload(f *Flow, dir int, d *Dir, p *decode.Packet, ts int64) {
	n := wireLen(p)
	if d.PayloadPackets > 0 {
		iat := ts - d.LastPayload
		if iat < 0 {
			iat = 0
		}
		d.lastIAT = iat
		d.IATCount++
		d.IATSum += iat
		ms := iat / int64(time.Millisecond)
		b := 0
		for ms > 0 && b < len(d.IATHist)-1 {
			ms >>= 1
			b++
		}
		d.IATHist[b]++
		if iat >= int64(OffGap) && len(d.Onsets) < MaxOnsets {
			if d.Onsets == nil {
				d.Onsets = make([]int64, 0, 16)
			}
			d.Onsets = append(d.Onsets, ts)
		}
	} else {
		d.FirstPayload = ts
		d.lastIAT = 0
	}
	d.LastPayload = ts
	d.PayloadPackets++
	d.PayloadBytes += uint64(n)
	if n <= SmallPayload {
		d.Small++
	}
	if n > d.MaxPayload {
		d.MaxPayload = n
	}
	d.countSize(n)
	// Response delay: a small payload one way followed by the next payload
	// the other way.
	if o := &f.pendingInput[1-dir]; *o != 0 {
		if d := ts - *o; d <= int64(MaxAppDelay) {
			f.Resp[1-dir].add(d)
		}
		*o = 0
	}
	if n <= SmallPayload && f.pendingInput[dir] == 0 {
		f.pendingInput[dir] = ts
	}
	if f.NOpening < MaxOpening {
		us := min((ts-f.Start)/1000, 1<<31-1)
		f.Opening[f.NOpening] = Seg{US: int32(max(us, 0)), Len: uint16(min(n, 65535)), Dir: uint8(dir)}
		f.NOpening++
	}
	f.appSample(dir, p, ts)
	f.onset(dir, d, ts)
}

// MaxAppDelay bounds an application round-trip or response sample: a
// message later than this is not an answer (idle periods, unsolicited
// updates); the sample is dropped.
const MaxAppDelay = 2 * time.Second

// appSample keeps the application round-trip samples (see Flow.App).
func (f *Flow) appSample(dir int, p *decode.Packet, ts int64) {
	me := int8(dir + 1)
	if f.lastPayloadDir != me && f.pendingUpdate[dir] == 0 { // first of a turn
		f.pendingUpdate[dir], f.pendingUpdateSeq[dir] = ts, p.Seq
	}
	f.lastPayloadDir = me
	o := 1 - dir
	if f.pendingUpdate[o] == 0 {
		return
	}
	if p.Proto == decode.ProtoTCP && (p.Flags&decode.FlagACK == 0 || int32(p.Ack-f.pendingUpdateSeq[o]) <= 0) {
		return // sent before this side had the update: not an answer to it
	}
	if d := ts - f.pendingUpdate[o]; d >= 0 && d <= int64(MaxAppDelay) {
		f.App[o].add(d)
	}
	f.pendingUpdate[o] = 0
}

// BurstGap separates one burst of a direction's payload from the next
// (screen updates answering keys typed 150 ms or more apart are separate
// bursts; a stream's back-to-back segments are one).
const BurstGap = 150 * time.Millisecond

// TriggerWindow: a burst of one side counts as triggered by the other when
// the other side sent payload during the gap before it, at most this long
// (plus the handshake RTT, for capture points away from the answering side)
// before the burst.
const TriggerWindow = 300 * time.Millisecond

// onset counts the direction's bursts and OFF→ON transitions (the payload
// accounting already appended the time of the latter to Onsets) and the
// bursts the other side triggered.
func (f *Flow) onset(dir int, d *Dir, ts int64) {
	if d.PayloadPackets < 2 || d.lastIAT < int64(BurstGap) {
		return
	}
	if d.lastIAT >= int64(OffGap) {
		d.OnsetCount++
	}
	d.Bursts++
	o := &f.Dir[1-dir]
	if o.PayloadPackets == 0 {
		return
	}
	since := ts - o.LastPayload
	window := int64(TriggerWindow) + int64(f.HandshakeRTT())
	// The other side spoke during this side's gap, shortly before it
	// resumed: an input answered by an update.
	if since >= 0 && since <= window && o.LastPayload > ts-d.lastIAT {
		d.Triggered++
	}
}

// keepStream appends in-order TCP payload to the direction's buffer,
// skipping retransmitted bytes and stopping at the first gap.
func (t *Table) keepStream(d *Dir, p *decode.Packet, max int) {
	if d.gap || len(d.Buf) >= max {
		return
	}
	data, seq := p.Payload, p.Seq
	if !d.seqSet {
		d.nextSeq, d.seqSet = seq, true
	}
	diff := int32(seq - d.nextSeq)
	switch {
	case diff > 0:
		d.gap = true // lost or out-of-order segment: the stream prefix ends here
		return
	case diff < 0:
		skip := -int64(diff) // int64: -math.MinInt32 overflows int32
		if skip >= int64(len(data)) {
			return
		}
		data = data[skip:]
	}
	// The segment's wire bytes advance the stream; bytes the capture cut
	// off are a hole, so the kept prefix ends with what was captured.
	cut := wireLen(p) - len(p.Payload)
	d.nextSeq += uint32(len(data) + cut)
	if d.Buf == nil {
		d.Buf = t.getBuf()
	}
	room := max - len(d.Buf)
	if len(data) > room {
		data = data[:room]
	}
	d.Buf = append(d.Buf, data...)
	if cut > 0 && len(d.Buf) < max {
		d.gap = true
	}
}

// maxPooledBufs bounds the payload-buffer free list: enough for the flows a
// laptop opens in a burst (a page load), while a burst of thousands (a scan)
// leaves at most 1 MiB pinned instead of 16 MiB.
const maxPooledBufs = 256

func (t *Table) getBuf() []byte {
	if n := len(t.bufPool); n > 0 {
		b := t.bufPool[n-1]
		t.bufPool = t.bufPool[:n-1]
		return b[:0]
	}
	return make([]byte, 0, ServerBytes)
}

// ReleaseBuffers returns f's payload buffers to the pool; the engine calls
// it once it has parsed them.
func (t *Table) ReleaseBuffers(f *Flow) {
	for i := range f.Dir {
		if b := f.Dir[i].Buf; b != nil && cap(b) >= ServerBytes && len(t.bufPool) < maxPooledBufs {
			t.bufPool = append(t.bufPool, b)
		}
		f.Dir[i].Buf = nil
	}
}

func (t *Table) sweep(now int64) {
	for _, l := range []*lru{&t.tcp, &t.udp} {
		idle := int64(t.cfg.UDPIdle)
		if l == &t.tcp {
			idle = int64(t.cfg.TCPIdle)
		}
		for l.tail != nil && now-l.tail.Last > idle {
			t.stats.Expired++
			t.finish(l.tail)
		}
	}
}

func (t *Table) finish(f *Flow) {
	if f.list != nil {
		f.list.remove(f)
	}
	delete(t.m, f.Key)
	if t.Done != nil {
		t.Done(f)
	}
	t.ReleaseBuffers(f)
	f.Meta = nil
	f.Dir[0].Onsets, f.Dir[1].Onsets = nil, nil
	if len(t.free) < 4096 {
		t.free = append(t.free, f)
	}
}

// Each calls fn for every live flow (most recently active first). fn must
// not add or remove flows.
func (t *Table) Each(fn func(*Flow)) {
	for _, l := range []*lru{&t.tcp, &t.udp} {
		for f := l.head; f != nil; f = f.next {
			fn(f)
		}
	}
}

// Flush finishes every live flow, oldest first (end of capture).
func (t *Table) Flush() {
	for t.tcp.tail != nil || t.udp.tail != nil {
		v := t.tcp.tail
		if v == nil || (t.udp.tail != nil && t.udp.tail.Start < v.Start) {
			v = t.udp.tail
		}
		t.finish(v)
	}
}

// Counts are one direction's packets that did not reach the table one by
// one (a kernel bypass counted them): cumulative totals, times in unix ns.
type Counts struct {
	Packets, Bytes               uint64
	PayloadPackets, PayloadBytes uint64
	Small                        uint64 // payload packets ≤ SmallPayload bytes
	Last, LastPayload            int64
	// GapPrev is the time of the last payload before the most recent
	// pause of BurstGap or more (whose first packet the bypass lets
	// through), 0 if none.
	GapPrev int64
	// PassAt is when the bypass last let a packet of this direction
	// through, and PeerAtPass the other direction's last payload time at
	// that moment (0: unknown): what that packet's burst followed, however
	// far the kernel has counted since.
	PassAt, PeerAtPass int64
	// What the counted payloads add to the direction's statistics (a
	// bypass that keeps them: zero otherwise): their inter-arrival times
	// in Dir.IATHist's buckets (a counted payload came less than BurstGap
	// after the previous one, so only the first IATBuckets are used) and
	// sum, the largest, and how many had each of Sizes (the direction's
	// frequent sizes when the bypass began; 0: none).
	IATHist    [IATBuckets]uint64
	IATSum     int64
	MaxPayload int
	Sizes      [BypassSizes]uint16
	SizeN      [BypassSizes]uint64
}

// IATBuckets is how many of Dir.IATHist's log2(ms) buckets a gap shorter
// than BurstGap can fall in (bucket 8: 128–255 ms).
const IATBuckets = 9

// BypassSizes is how many payload sizes a bypass counts per direction.
const BypassSizes = 2

// TopSizes returns the direction's BypassSizes most frequent payload sizes
// (0 where there are fewer) and the share of its payload packets they
// hold (Misra–Gries lower bounds).
func (d *Dir) TopSizes() (sizes [BypassSizes]uint16, share float64) {
	var counts [BypassSizes]uint32
	for _, e := range d.Sizes {
		for i := range sizes {
			if e.Count > counts[i] {
				copy(sizes[i+1:], sizes[i:])
				copy(counts[i+1:], counts[i:])
				sizes[i], counts[i] = e.Size, e.Count
				break
			}
		}
	}
	var n uint64
	for _, c := range counts {
		n += uint64(c)
	}
	if d.PayloadPackets > 0 {
		share = float64(n) / float64(d.PayloadPackets)
	}
	return sizes, share
}

// addSize adds n payloads of sz bytes to the Misra–Gries summary (the
// weighted form of countSize).
func (d *Dir) addSize(sz uint16, n uint32) {
	for n > 0 {
		free, low := -1, -1
		for i := range d.Sizes {
			e := &d.Sizes[i]
			if e.Count > 0 && e.Size == sz {
				e.Count += n
				return
			}
			if e.Count == 0 && free < 0 {
				free = i
			}
			if low < 0 || e.Count < d.Sizes[low].Count {
				low = i
			}
		}
		if free >= 0 {
			d.Sizes[free] = SizeCount{Size: sz, Count: n}
			return
		}
		m := min(n, d.Sizes[low].Count)
		for i := range d.Sizes {
			d.Sizes[i].Count -= m
		}
		n -= m
	}
}

// Credit adds to direction dir of f what a bypass counted since the last
// credit (c is cumulative; f.Kern[dir] holds what was already added) and
// marks f active. at is the time of a packet of f being accounted now (0:
// none): the direction's last payload time is then taken as of just
// before it, so the packet's gap is measured from the right payload.
// peer (when at is set, the packet is the other direction's and the
// bypass noted this direction's last payload as it let that packet
// through: Counts.PeerAtPass; 0 unknown) is this direction's last payload
// as of the packet, exact however far the kernel has counted beyond it.
func (t *Table) Credit(f *Flow, dir int, c Counts, at, peer int64) {
	o := &f.Kern[dir]
	d := &f.Dir[dir]
	if c.Packets < o.Packets || c.PayloadPackets < o.PayloadPackets {
		return // counters restarted (entry evicted and re-added): skip
	}
	d.Packets += c.Packets - o.Packets
	d.Bytes += c.Bytes - o.Bytes
	d.PayloadPackets += c.PayloadPackets - o.PayloadPackets
	d.PayloadBytes += c.PayloadBytes - o.PayloadBytes
	d.Small += c.Small - o.Small
	if f.Proto == decode.ProtoTCP {
		d.BareACKs += (c.Packets - c.PayloadPackets) - (o.Packets - o.PayloadPackets)
	}
	// The direction's last payload as of before the packet being accounted
	// (at), or, when a pause ended since the last credit, as of before
	// that pause: its first packet, which the bypass let through, may still
	// be queued for user space behind this credit (a periodic one while the
	// ring lags), and its gap must be measured from the payload before the
	// pause, not from packets the kernel counted after it.
	for b, n := range c.IATHist {
		if n > o.IATHist[b] {
			d.IATHist[b] += uint32(n - o.IATHist[b])
			d.IATCount += n - o.IATHist[b]
		}
	}
	d.IATSum += c.IATSum - o.IATSum
	d.MaxPayload = max(d.MaxPayload, c.MaxPayload)
	for i, sz := range c.Sizes {
		if sz != 0 && c.SizeN[i] > o.SizeN[i] && (o.Sizes[i] == sz || o.Sizes[i] == 0) {
			d.addSize(sz, uint32(c.SizeN[i]-o.SizeN[i]))
		}
	}
	lp := c.LastPayload
	switch {
	case at != 0 && peer != 0 && peer < at && lp >= at:
		lp = peer
	case c.GapPrev > o.GapPrev || (at != 0 && lp >= at):
		lp = c.GapPrev
	}
	if c.PayloadPackets > 0 && lp > d.LastPayload {
		if d.PayloadPackets == c.PayloadPackets-o.PayloadPackets {
			d.FirstPayload = lp
		}
		d.LastPayload = lp
	}
	if c.Last > f.Last && (at == 0 || c.Last <= at) {
		f.Last = c.Last
	}
	*o = c
	if f.list != nil {
		l := f.list
		l.remove(f)
		l.pushFront(f)
	}
}

// Packets is the number of packets accounted in both directions.
func (f *Flow) Packets() uint64 { return f.Dir[0].Packets + f.Dir[1].Packets }
