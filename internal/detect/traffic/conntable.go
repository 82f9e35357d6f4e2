package traffic

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/detect/network"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// connTable is a cached view of the OS connection table with process
// names: it attributes captured flows to processes and turns table rows
// into the engine's telemetry input. Safe for concurrent use (one capture
// per interface shares it).
type connTable struct {
	src    source.Source
	minAge time.Duration // refresh at most this often on a lookup miss

	mu    sync.Mutex
	at    time.Time
	byKey map[source.ConnKey]source.Connection
	// udpBound: unconnected UDP sockets by local port (a VPN daemon's
	// socket talks to its peers with sendto, no connected 5-tuple).
	udpBound map[uint16]source.Connection
	listen   map[listenKey]bool
	names    map[int32]procName
	lastErr  error
	hashes   exeHashes
}

type listenKey struct {
	proto string
	port  uint16
}

// procName is what the table knows of a pid's process.
type procName struct {
	name, exe string
	identity  map[string]string
}

func nameOf(p source.Process) procName {
	id := map[string]string{}
	for k, v := range map[string]string{"signer": p.Signer, "company": p.Company, "product": p.Product,
		"original_filename": p.OriginalFilename, "bundle_id": p.BundleID, "team_id": p.TeamID, "package": p.Package} {
		if v != "" {
			id[k] = v
		}
	}
	if len(id) == 0 {
		id = nil
	}
	return procName{p.Name, p.Exe, id}
}

func newConnTable(src source.Source, minAge time.Duration) *connTable {
	return &connTable{src: src, minAge: minAge}
}

// refresh re-reads the connection table, and lists processes when it holds
// a pid the table has never looked up (a process forked since the last
// listing: socat with fork, sshd per session), so every connection is named
// on the read that first shows it — no time window in which a finding goes
// out nameless. A pid the listing does not show is remembered as nameless,
// so listings happen at most once per read and only when new pids appear.
// Called with mu held.
func (t *connTable) refresh(ctx context.Context) ([]source.Connection, error) {
	conns, err := t.src.Connections(ctx)
	t.at = time.Now()
	if err != nil && len(conns) == 0 {
		t.lastErr = err
		return nil, fmt.Errorf("read connection table: %w", err)
	}
	t.byKey = make(map[source.ConnKey]source.Connection, len(conns))
	t.listen = make(map[listenKey]bool)
	missing := false
	t.udpBound = make(map[uint16]source.Connection)
	for _, c := range conns {
		if c.Listening() {
			t.listen[listenKey{c.Proto, uint16(c.LPort)}] = true
			if c.Proto == "udp" && c.PID != 0 {
				t.udpBound[uint16(c.LPort)] = c
			}
			continue
		}
		k, ok := c.Key()
		if !ok || k.Remote.Port() == 0 {
			continue
		}
		t.byKey[k] = c
		if _, ok := t.names[c.PID]; !ok && c.PID != 0 {
			missing = true
		}
	}
	if missing || t.names == nil {
		if ps, err := t.src.Processes(ctx); err == nil {
			t.names = make(map[int32]procName, len(ps))
			for _, p := range ps {
				t.names[p.PID] = nameOf(p)
			}
		} else if t.names == nil {
			t.names = map[int32]procName{}
		}
		// A pid the listing did not show (exited, or hidden from us) is
		// remembered as nameless so it does not force another listing.
		for _, c := range conns {
			if _, ok := t.names[c.PID]; !ok && c.PID != 0 {
				t.names[c.PID] = procName{}
			}
		}
	}
	return conns, nil
}

func (t *connTable) ownerOf(c source.Connection) network.Owner {
	o := network.Owner{PID: c.PID}
	if n, ok := t.names[c.PID]; ok {
		o.Process, o.Exe, o.Identity = n.name, n.exe, n.identity
	}
	if c.TCP != nil {
		o.RTTms = c.TCP.RTTms
	}
	return o
}

// lowPriorityAge is how stale the table may be before a lookup for a
// low-severity finding re-reads it (the read walks every process's file
// descriptors on Linux: not something to do every few seconds for noise).
const lowPriorityAge = time.Minute

// owner attributes a captured flow: the server end first when the server
// port is a local listener (an inbound session belongs to the service),
// else the client end. A miss re-reads the table if it is older than
// minAge (urgent: medium severity or above) or lowPriorityAge.
func (t *connTable) owner(ctx context.Context, proto string, client, server netip.AddrPort, urgent bool) (network.Owner, bool) {
	maxAge := t.minAge
	if !urgent && maxAge < lowPriorityAge {
		maxAge = lowPriorityAge
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		if t.byKey != nil {
			keys := []source.ConnKey{source.MakeConnKey(proto, client, server), source.MakeConnKey(proto, server, client)}
			if t.listen[listenKey{proto, server.Port()}] {
				keys[0], keys[1] = keys[1], keys[0]
			}
			cands := make([]source.Connection, 0, 2)
			for _, k := range keys {
				if c, ok := t.byKey[k]; ok {
					cands = append(cands, c)
				}
			}
			if proto == "udp" {
				// The bound socket must sit on that end's address (or
				// the wildcard): a peer's port alone names nothing.
				for _, end := range []netip.AddrPort{client, server} {
					if c, ok := t.udpBound[end.Port()]; ok {
						if la, err := netip.ParseAddr(c.LAddr); err == nil && (la.IsUnspecified() || la.Unmap() == end.Addr().Unmap()) {
							cands = append(cands, c)
						}
					}
				}
			}
			for _, c := range cands {
				if c.PID != 0 {
					o := t.ownerOf(c)
					if urgent {
						o.SHA256 = t.hashes.sum(t.src.Root(), o.Exe)
					}
					return o, true
				}
			}
		}
		if attempt == 1 || time.Since(t.at) < maxAge {
			break
		}
		if _, err := t.refresh(ctx); err != nil {
			return network.Owner{}, false
		}
	}
	return network.Owner{}, false
}

// rows reads the table now and converts it to the engine's input.
func (t *connTable) rows(ctx context.Context) ([]network.Conn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	conns, err := t.refresh(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]network.Conn, 0, len(conns))
	for _, c := range conns {
		if c.Listening() || (c.Proto == "tcp" && !c.Established()) {
			continue
		}
		k, ok := c.Key()
		if !ok || k.Remote.Port() == 0 || k.Remote.Addr().IsUnspecified() {
			continue
		}
		r := network.Conn{Proto: c.Proto, Local: k.Local, Remote: k.Remote, Owner: t.ownerOf(c),
			Inbound: t.listen[listenKey{c.Proto, k.Local.Port()}]}
		if c.TCP != nil {
			r.HasCounters = true
			r.BytesSent, r.BytesReceived = c.TCP.BytesSent, c.TCP.BytesReceived
			r.SegsSent, r.SegsReceived = c.TCP.SegsSent, c.TCP.SegsReceived
		}
		out = append(out, r)
	}
	return out, nil
}

// observe feeds the engine from the connection table every pollEvery
// until ctx ends (Windows, or mode "connections"): the same analysis as a
// capture at poll resolution, without packets.
func (d *Detector) observe(ctx context.Context, env detect.Env, cfg network.Config, emit func([]report.Finding)) error {
	e := network.New(cfg)
	tbl := newConnTable(env.Source, 0)
	tick := time.NewTicker(d.s.PollEvery)
	defer tick.Stop()
	lastReport := time.Now()
	warned := false
	env.Logger.Info("connection_telemetry_started", zap.Duration("poll_every", d.s.PollEvery))
	for {
		rows, err := tbl.rows(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			env.Logger.Warn("connection_table_failed", zap.Error(err))
		} else {
			if !warned {
				if ls, ok := env.Source.(interface{ TCPStatsErr() error }); ok && ls.TCPStatsErr() != nil {
					env.Logger.Warn("tcp_counters_unavailable", zap.Error(ls.TCPStatsErr()))
					warned = true
				}
			}
			e.Observe(time.Now(), rows)
		}
		if time.Since(lastReport) >= d.s.ReportEvery {
			lastReport = time.Now()
			emit(e.Snapshot(lastReport, d.s.ReportEvery))
		}
		select {
		case <-ctx.Done():
			emit(e.Close())
			return nil
		case <-tick.C:
		}
	}
	emit(e.Close())
	return nil
}
