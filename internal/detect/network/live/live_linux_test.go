//go:build linux

package live

import (
	"context"
	"net"
	"os"
	"testing"
	"time"
)

// TestLoopback captures real packets on lo (needs CAP_NET_RAW; skipped
// otherwise).
func TestLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("AF_PACKET capture needs root / CAP_NET_RAW")
	}
	c, err := New(Config{Interface: "lo", PollTimeout: 20 * time.Millisecond, RingBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	time.Sleep(300 * time.Millisecond)
	conn, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		conn.Write([]byte("farmwatch live capture test"))
	}
	conn.Close()
	time.Sleep(300 * time.Millisecond)
	c.Stop()
	if err := <-done; err != nil {
		t.Skipf("AF_PACKET not available here: %v", err)
	}
	if st := c.Stats(); st.Decoded < 20 {
		t.Errorf("captured %+v, want ≥ 20 decoded packets", st)
	}
}
