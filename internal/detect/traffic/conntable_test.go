package traffic

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

// changingSource is a live-like source whose tables the test edits
// between reads, counting process listings.
type changingSource struct {
	mu       sync.Mutex
	conns    []source.Connection
	procs    []source.Process
	listings int
}

func (s *changingSource) Host() source.HostInfo { return source.HostInfo{} }
func (s *changingSource) Snapshot() bool        { return false }
func (s *changingSource) Root() string          { return "/" }
func (s *changingSource) Processes(context.Context) ([]source.Process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listings++
	return append([]source.Process(nil), s.procs...), nil
}
func (s *changingSource) Connections(context.Context) ([]source.Connection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]source.Connection(nil), s.conns...), nil
}
func (s *changingSource) Services(context.Context) ([]source.Service, error) { return nil, nil }
func (s *changingSource) OpenExe(source.Process) (io.ReadCloser, error) {
	return nil, source.ErrNotRecorded
}

// TestConnTableNamesForkedProcess: a process forked after the first
// listing (socat fork, one sshd per session) is named on the very poll
// that first sees its connection, however soon after the last listing,
// and a pid the listing cannot show does not force a listing every poll.
func TestConnTableNamesForkedProcess(t *testing.T) {
	src := &changingSource{
		conns: []source.Connection{{PID: 10, Proto: "tcp", LAddr: "0.0.0.0", LPort: 5900, State: "LISTEN"}},
		procs: []source.Process{{PID: 10, Name: "socat", Exe: "/usr/bin/socat"}},
	}
	tbl := newConnTable(src, 0)
	ctx := context.Background()
	if _, err := tbl.rows(ctx); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	src.conns = append(src.conns,
		source.Connection{PID: 11, Proto: "tcp", LAddr: "10.0.0.1", LPort: 5900, RAddr: "10.0.0.2", RPort: 40000, State: "ESTABLISHED"},
		source.Connection{PID: 99, Proto: "tcp", LAddr: "10.0.0.1", LPort: 41000, RAddr: "10.0.0.3", RPort: 22, State: "ESTABLISHED"})
	src.procs = append(src.procs, source.Process{PID: 11, Name: "socat", Exe: "/usr/bin/socat"})
	src.mu.Unlock()
	rows, err := tbl.rows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	named := false
	for _, r := range rows {
		if r.Owner.PID == 11 {
			named = r.Owner.Process == "socat" && r.Owner.Exe == "/usr/bin/socat"
		}
	}
	if !named {
		t.Fatalf("forked pid 11 not named: %+v", rows)
	}
	before := src.listings
	if _, err := tbl.rows(ctx); err != nil {
		t.Fatal(err)
	}
	if src.listings != before {
		t.Errorf("pid 99 (absent from the process list) forced %d more listings", src.listings-before)
	}
}

// TestConnTableUnconnectedUDP: a VPN daemon's unconnected UDP socket (IKE
// on 4500 talking to peers with sendto) owns the flows on its address and
// port; a remote peer that happens to use a port bound here does not.
func TestConnTableUnconnectedUDP(t *testing.T) {
	src := &changingSource{
		conns: []source.Connection{
			{PID: 20, Proto: "udp", LAddr: "0.0.0.0", LPort: 4500},
			{PID: 30, Proto: "udp", LAddr: "127.0.0.53", LPort: 53},
		},
		procs: []source.Process{{PID: 20, Name: "charon", Exe: "/usr/lib/ipsec/charon"}, {PID: 30, Name: "systemd-resolved"}},
	}
	tbl := newConnTable(src, 0)
	ctx := context.Background()
	o, ok := tbl.owner(ctx, "udp", netip.MustParseAddrPort("10.0.0.1:4500"), netip.MustParseAddrPort("198.51.100.1:4500"), false)
	if !ok || o.PID != 20 || o.Process != "charon" {
		t.Errorf("IKE flow owner = %+v, %v; want charon", o, ok)
	}
	if o, ok := tbl.owner(ctx, "udp", netip.MustParseAddrPort("10.0.0.1:41000"), netip.MustParseAddrPort("198.51.100.2:53"), false); ok {
		t.Errorf("a remote DNS server's port attributed to a local socket: %+v", o)
	}
}

// countingLive is the real live source, counting whole-table reads.
type countingLive struct {
	*source.LiveSource
	mu                 sync.Mutex
	listings, tableRds int
}

func (s *countingLive) Processes(ctx context.Context) ([]source.Process, error) {
	s.mu.Lock()
	s.listings++
	s.mu.Unlock()
	return s.LiveSource.Processes(ctx)
}

func (s *countingLive) Connections(ctx context.Context) ([]source.Connection, error) {
	s.mu.Lock()
	s.tableRds++
	s.mu.Unlock()
	return s.LiveSource.Connections(ctx)
}

// TestOwnerOneConnectionLive attributes a real connection to a real socat
// server on loopback by its endpoints alone: the server end first (socat:
// pid, exe, hash, kernel RTT), without reading the connection table or
// listing processes; once closed, nothing is attributed.
func TestOwnerOneConnectionLive(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("one-connection lookup is Linux's")
	}
	socat, err := exec.LookPath("socat")
	if err != nil {
		testenv.Missing(t, "socat (Debian package socat)")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // socat takes the port
	cmd := exec.CommandContext(ctx, socat, fmt.Sprintf("TCP4-LISTEN:%d,bind=127.0.0.1,reuseaddr", port), "EXEC:cat")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var cl net.Conn
	for cl == nil {
		if cl, err = net.Dial("tcp4", ln.Addr().String()); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("socat never listened: %v", err)
			}
			runtime.Gosched()
		}
	}
	defer cl.Close()
	if _, err := cl.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(cl, make([]byte, 6)); err != nil {
		t.Fatal(err)
	}
	live, err := source.NewLive(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	src := &countingLive{LiveSource: live}
	tbl := newConnTable(src, 5*time.Second)
	client := netip.MustParseAddrPort(cl.LocalAddr().String())
	server := netip.MustParseAddrPort(cl.RemoteAddr().String())
	o, ok := tbl.owner(ctx, "tcp", client, server, true)
	if !ok {
		t.Fatal("no owner")
	}
	real, _ := filepath.EvalSymlinks(socat)
	if o.PID != int32(cmd.Process.Pid) || o.Process != "socat" || (o.Exe != real && o.Exe != socat) || o.SHA256 == "" || o.RTTms <= 0 {
		t.Errorf("owner = %+v, want socat (pid %d) with hash and kernel RTT", o, cmd.Process.Pid)
	}
	if src.listings != 0 || src.tableRds != 0 {
		t.Errorf("%d process listings and %d table reads for one attribution", src.listings, src.tableRds)
	}
	cl.Close()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if o, ok := tbl.owner(ctx, "tcp", client, server, true); ok {
		t.Errorf("closed connection attributed to %+v", o)
	}
}
