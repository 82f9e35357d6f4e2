package traffic

import (
	"context"
	"errors"
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
	at        time.Time // when read (one-process reads)
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
	return procName{name: p.Name, exe: p.Exe, identity: id}
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
	if lk, ok := t.src.(source.ConnLookup); ok && !t.src.Snapshot() {
		// Only the new pids, one process each (Windows: OpenProcess and
		// QueryFullProcessImageName), never the whole process list.
		if t.names == nil || len(t.names) > 4096 {
			t.names = map[int32]procName{}
		}
		for _, c := range conns {
			if !missing {
				break
			}
			if _, ok := t.names[c.PID]; !ok && c.PID != 0 {
				var n procName
				if p, err := lk.Process(ctx, c.PID); err == nil {
					n = nameOf(p)
				}
				t.names[c.PID] = n
			}
		}
	} else if missing || t.names == nil {
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
//
// Where the source can ask the OS about one connection (Linux: one
// sock_diag request and a /proc search for the socket's inode), that is
// all a lookup does: no connection table, no process listing.
func (t *connTable) owner(ctx context.Context, proto string, client, server netip.AddrPort, urgent bool) (network.Owner, bool) {
	if lk, ok := t.src.(source.ConnLookup); ok && !t.src.Snapshot() {
		if o, found, handled := t.ownerByLookup(ctx, lk, proto, client, server, urgent); handled {
			return o, found
		}
	}
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

// nameTTL is how long a pid's name is trusted by the one-connection
// path before it is read again (pids are reused).
const nameTTL = time.Minute

// ownerByLookup asks the OS about the server end first (an inbound
// session belongs to the service; for an outbound flow the server end is
// not here and the kernel says so at once), then the client end, and
// reads only the owning process. handled is false where the OS cannot be
// asked about one connection (the caller reads the table).
func (t *connTable) ownerByLookup(ctx context.Context, lk source.ConnLookup, proto string, client, server netip.AddrPort, urgent bool) (o network.Owner, found, handled bool) {
	for _, end := range [][2]netip.AddrPort{{server, client}, {client, server}} {
		c, err := lk.LookupConnection(ctx, proto, end[0], end[1])
		if errors.Is(err, source.ErrLookupUnsupported) {
			return network.Owner{}, false, false
		}
		if err != nil || c.PID == 0 {
			continue
		}
		t.mu.Lock()
		n := t.nameOfPID(ctx, lk, c.PID)
		o = network.Owner{PID: c.PID, Process: n.name, Exe: n.exe, Identity: n.identity}
		if c.TCP != nil {
			o.RTTms = c.TCP.RTTms
		}
		if urgent {
			o.SHA256 = t.hashes.sum(t.src.Root(), o.Exe)
		}
		t.mu.Unlock()
		return o, true, true
	}
	return network.Owner{}, false, true
}

// nameOfPID reads one process's name (cached for nameTTL; the cache is
// bounded). Called with mu held.
func (t *connTable) nameOfPID(ctx context.Context, lk source.ConnLookup, pid int32) procName {
	if n, ok := t.names[pid]; ok && time.Since(n.at) < nameTTL {
		return n
	}
	if t.names == nil || len(t.names) > 1024 {
		t.names = map[int32]procName{}
	}
	var n procName
	if p, err := lk.Process(ctx, pid); err == nil {
		n = nameOf(p)
	}
	n.at = time.Now()
	t.names[pid] = n
	return n
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
