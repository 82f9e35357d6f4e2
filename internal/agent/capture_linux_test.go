//go:build linux

package agent

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/live"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

// TestHeartbeatCarriesCaptureDrops runs a real capture on lo with the
// smallest ring and a budget that pauses it, floods lo, and builds
// heartbeats the way the agent does: one must carry that capture's kernel
// drops.
func TestHeartbeatCarriesCaptureDrops(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "AF_PACKET capture needs root / CAP_NET_RAW")
	}
	c, err := live.New(live.Config{Interface: "lo", PollTimeout: 20 * time.Millisecond, RingBytes: 1, CPUBudget: 0.0001})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		c.Stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	conn, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	a := &Agent{Version: "t", started: time.Now()}
	buf := make([]byte, 1400)
	for ctx.Err() == nil {
		for i := 0; i < 2000; i++ {
			conn.Write(buf)
		}
		hb := a.heartbeat("", 0, time.Minute)
		for _, s := range hb.Capture {
			if s.Interface == "lo" && s.KernelDrops > 0 && s.KernelPackets >= s.KernelDrops {
				return
			}
		}
	}
	t.Fatalf("no heartbeat carried drops of the capture on lo: last %+v", a.heartbeat("", 0, time.Minute).Capture)
}
