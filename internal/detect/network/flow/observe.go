package flow

import (
	"net/netip"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
)

// Telemetry input: where no packets can be captured (Windows) the engine is
// fed from the OS connection table instead. A connection is "observed" at a
// poll with its kernel byte and segment counters; the table keeps the same
// per-flow state as for packets, at poll resolution: sizes and counts per
// direction, but no payload bytes, handshake timing or inter-arrival times.

// Observe finds or creates the flow between client and server (IP
// protocol proto) at time ts (unix ns) without a packet, marks it alive and
// returns it with whether it was created now. Flows created here are
// already Inspected: there are no payload bytes to parse.
func (t *Table) Observe(proto uint8, client, server netip.AddrPort, ts int64) (*Flow, bool) {
	if ts >= t.nextSweep {
		t.sweep(ts)
		t.nextSweep = ts + int64(t.cfg.SweepEvery)
	}
	var p decode.Packet
	ca, sa := client.Addr().Unmap(), server.Addr().Unmap()
	p.V6 = ca.Is6() || sa.Is6()
	if p.V6 {
		p.Src, p.Dst = ca.As16(), sa.As16()
	} else {
		a, b := ca.As4(), sa.As4()
		copy(p.Src[:], a[:])
		copy(p.Dst[:], b[:])
	}
	p.Proto, p.SrcPort, p.DstPort = proto, client.Port(), server.Port()
	p.Flags = decode.FlagSYN // orientation: the client opened it
	k, _ := makeKey(&p)
	f := t.m[k]
	created := false
	if f == nil {
		f = t.newFlow(k, &p, ts)
		f.Inspected = true
		created = true
	} else {
		f.list.remove(f)
	}
	if f.Proto == decode.ProtoTCP {
		t.tcp.pushFront(f)
	} else {
		t.udp.pushFront(f)
	}
	if ts > f.Last {
		f.Last = ts
	}
	return f, created
}

// Account adds a poll interval's counter deltas of one direction to f:
// bytes and data segments (segs 0 = unknown, counted as one). No OFF→ON
// transitions or inter-arrival times are recorded: at poll resolution they
// would make unrelated flows look synchronised (the engine correlates
// telemetry flows by their byte counters instead).
func (t *Table) Account(f *Flow, dir int, bytes, segs uint64, ts int64) {
	if bytes == 0 {
		return
	}
	if segs == 0 {
		segs = 1
	}
	d := &f.Dir[dir]
	d.Packets += segs
	d.Bytes += bytes
	d.PayloadPackets += segs
	d.PayloadBytes += bytes
	if bytes/segs <= SmallPayload {
		d.Small += segs
	}
	if avg := int(bytes / segs); avg > d.MaxPayload {
		d.MaxPayload = avg
	}
	if d.FirstPayload == 0 {
		d.FirstPayload = ts
	}
	d.LastPayload = ts
	if ts > f.Last {
		f.Last = ts
	}
}

// End finishes f now (the connection left the OS table) and hands it to
// Done. f must not be used afterwards.
func (t *Table) End(f *Flow) {
	if _, ok := t.m[f.Key]; !ok {
		return
	}
	f.Closed = true
	t.stats.Closed++
	t.finish(f)
}
