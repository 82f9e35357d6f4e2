package source

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestLiveTCPStats opens a real loopback connection, moves known byte
// counts each way and expects sock_diag's counters on both ends of it in
// the live connection list, attributed to this process.
func TestLiveTCPStats(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	srv := <-accepted
	if srv == nil {
		t.Fatal("accept failed")
	}
	defer srv.Close()
	const up, down = 70000, 5000
	go func() { _, _ = cl.Write(make([]byte, up)) }()
	if _, err := io.ReadFull(srv, make([]byte, up)); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = srv.Write(make([]byte, down)) }()
	if _, err := io.ReadFull(cl, make([]byte, down)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the last ACKs land

	src, err := NewLive(context.Background(), "/")
	if err != nil {
		t.Fatal(err)
	}
	conns, err := src.Connections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := src.TCPStatsErr(); err != nil {
		t.Fatalf("sock_diag: %v", err)
	}
	local := cl.LocalAddr().(*net.TCPAddr)
	var client *Connection
	for i := range conns {
		c := &conns[i]
		if c.Proto == "tcp" && int(c.LPort) == local.Port && c.Established() {
			client = c
		}
	}
	if client == nil {
		t.Fatalf("client end %v not listed", local)
	}
	if client.PID != int32(os.Getpid()) {
		t.Errorf("pid %d, want %d", client.PID, os.Getpid())
	}
	st := client.TCP
	if st == nil {
		t.Fatal("no TCP counters on an established connection")
	}
	if st.BytesSent != up || st.BytesReceived != down {
		t.Errorf("bytes sent/received %d/%d, want %d/%d", st.BytesSent, st.BytesReceived, up, down)
	}
	if st.RTTms <= 0 || st.RTTms > 1000 || st.SegsSent == 0 || st.SegsReceived == 0 {
		t.Errorf("implausible counters %+v", st)
	}
}
