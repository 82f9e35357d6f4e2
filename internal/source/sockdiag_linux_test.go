package source

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/farmwatch/farmwatch/internal/testenv"
)

func addrPort(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// TestLookupConnectionSocat attributes both ends of a real connection to a
// real socat server on loopback by 5-tuple alone: the server end belongs to
// socat (pid, exe), the client end to this test, tcp_info comes with it
// and agrees with netlink's full tcp_info dump; once closed, the tuple is
// a clear "not found".
func TestLookupConnectionSocat(t *testing.T) {
	socat, err := exec.LookPath("socat")
	if err != nil {
		testenv.Missing(t, "socat (Debian package socat)")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// socat picks the port (0) and echoes what it reads.
	cmd := exec.CommandContext(ctx, socat, "-d", "-d", "TCP4-LISTEN:0,bind=127.0.0.1,reuseaddr", "EXEC:cat")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	port := ""
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		// "socat[N] N listening on AF=2 127.0.0.1:PORT"
		if line := sc.Text(); strings.Contains(line, "listening on") {
			port = line[strings.LastIndex(line, ":")+1:]
			break
		}
	}
	if port == "" {
		t.Fatal("socat did not say where it listens")
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	cl, err := net.Dial("tcp4", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	msg := strings.Repeat("x", 3000)
	if _, err := cl.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(cl, make([]byte, len(msg))); err != nil {
		t.Fatal(err)
	}
	local, remote := addrPort(t, cl.LocalAddr()), addrPort(t, cl.RemoteAddr())

	src, err := NewLive(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	// The server end: socat's accepted socket (a child socat handles
	// the connection with fork; here without fork, socat itself).
	c, err := src.LookupConnection(ctx, "tcp", remote, local)
	if err != nil {
		t.Fatalf("server end: %v", err)
	}
	if c.PID != int32(cmd.Process.Pid) {
		t.Errorf("server end pid %d, want socat's %d", c.PID, cmd.Process.Pid)
	}
	if c.State != "ESTABLISHED" || c.LPort != uint32(remote.Port()) || c.RPort != uint32(local.Port()) {
		t.Errorf("server end = %+v", c)
	}
	if c.TCP == nil || c.TCP.RTTms <= 0 || c.TCP.BytesReceived != uint64(len(msg)) || c.TCP.BytesSent != uint64(len(msg)) {
		t.Errorf("server end tcp_info = %+v, want rtt > 0 and %d bytes each way", c.TCP, len(msg))
	}
	p, err := src.Process(ctx, c.PID)
	if err != nil {
		t.Fatal(err)
	}
	if real, _ := filepath.EvalSymlinks(socat); p.Exe != real && p.Exe != socat {
		t.Errorf("owner exe %q, want %q", p.Exe, socat)
	}
	if p.Name != "socat" {
		t.Errorf("owner name %q", p.Name)
	}
	// The client end: this test process.
	c2, err := src.LookupConnection(ctx, "tcp", local, remote)
	if err != nil {
		t.Fatalf("client end: %v", err)
	}
	if c2.PID != int32(os.Getpid()) {
		t.Errorf("client end pid %d, want %d", c2.PID, os.Getpid())
	}
	if c2.TCP == nil || c2.TCP.BytesSent != uint64(len(msg)) || c2.TCP.BytesReceived != uint64(len(msg)) {
		t.Errorf("client end tcp_info = %+v, want %d bytes each way", c2.TCP, len(msg))
	}
	// Cross-check tcp_info against vishvananda/netlink's dump of every
	// socket (a different decoder of the same kernel structure).
	all, err := netlink.SocketDiagTCPInfo(unix.AF_INET)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		t.Fatal(err)
	}
	found := false
	for _, r := range all {
		if r.InetDiagMsg.ID.SourcePort == local.Port() && r.InetDiagMsg.ID.DestinationPort == remote.Port() && r.TCPInfo != nil {
			found = true
			want := linuxTCPStats(r.TCPInfo)
			if want.BytesReceived != c2.TCP.BytesReceived || want.BytesSent != c2.TCP.BytesSent || want.SegsSent != c2.TCP.SegsSent {
				t.Errorf("tcp_info %+v, netlink's dump %+v", *c2.TCP, want)
			}
			if r.InetDiagMsg.INode != 0 && c2.PID == 0 {
				t.Error("no pid for a socket with an inode")
			}
		}
	}
	if !found {
		t.Error("netlink's dump does not show the client socket")
	}

	cl.Close()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	// The client end lingers in TIME_WAIT (no inode, no owner): not found.
	_, err = src.LookupConnection(ctx, "tcp", remote, local)
	if !errors.Is(err, ErrConnNotFound) {
		t.Errorf("closed connection (server end): err = %v, want not found", err)
	}
	_, err = src.LookupConnection(ctx, "tcp", local, remote)
	if !errors.Is(err, ErrConnNotFound) {
		t.Errorf("closed connection (client end): err = %v, want not found", err)
	}
	if err != nil && !strings.Contains(err.Error(), fmt.Sprint(local.Port())) {
		t.Errorf("error %q does not name the connection", err)
	}
}

// TestLookupConnectionUDP: a connected UDP socket is found by its 5-tuple,
// an unconnected one (a VPN daemon's, sendto) by its bound end with any
// peer.
func TestLookupConnectionUDP(t *testing.T) {
	ctx := context.Background()
	src, err := NewLive(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cl, err := net.Dial("udp4", srv.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	local, remote := addrPort(t, cl.LocalAddr()), addrPort(t, srv.LocalAddr())
	c, err := src.LookupConnection(ctx, "udp", local, remote)
	if err != nil {
		t.Fatalf("connected udp: %v", err)
	}
	if c.PID != int32(os.Getpid()) || c.LPort != uint32(local.Port()) {
		t.Errorf("connected udp = %+v", c)
	}
	c, err = src.LookupConnection(ctx, "udp", remote, local)
	if err != nil {
		t.Fatalf("unconnected udp: %v", err)
	}
	if c.PID != int32(os.Getpid()) || c.LPort != uint32(remote.Port()) {
		t.Errorf("unconnected udp = %+v", c)
	}
}

// BenchmarkLookupConnection: one attribution of a live loopback TCP
// connection (one sock_diag request, the /proc search for its inode, the
// owning process read alone), against a full connection listing with
// tcp_info and a process listing, which attribution used to do.
func BenchmarkLookupConnection(b *testing.B) {
	ctx := context.Background()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	cl, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	src, err := NewLive(ctx, "/")
	if err != nil {
		b.Fatal(err)
	}
	local, _ := netip.ParseAddrPort(cl.LocalAddr().String())
	remote, _ := netip.ParseAddrPort(cl.RemoteAddr().String())
	b.Run("one-connection", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := src.LookupConnection(ctx, "tcp", local, remote)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := src.Process(ctx, c.PID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tables", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := src.Connections(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := src.Processes(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
