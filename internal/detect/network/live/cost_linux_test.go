//go:build linux

package live

import (
	"context"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/farmwatch/farmwatch/internal/detect/network"
	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/filter"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

// needRoot fails under FARMWATCH_E2E (make test runs as root) and skips
// otherwise.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "AF_PACKET capture needs root / CAP_NET_RAW")
	}
}

// measuring wraps the real AF_PACKET source and records the longest frame
// the kernel handed over and the longest wire length.
type measuring struct {
	afSource
	maxCap, maxWire *atomic.Int64
}

func (m measuring) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	d, ci, err := m.afSource.ZeroCopyReadPacketData()
	if err == nil {
		var p decode.Packet
		if decode.Decode(decode.LinkEthernet, d, &p) == nil && p.Proto == decode.ProtoUDP && p.DstPort == 9 {
			if int64(len(d)) > m.maxCap.Load() {
				m.maxCap.Store(int64(len(d)))
			}
			if int64(p.PayloadLen) > m.maxWire.Load() {
				m.maxWire.Store(int64(p.PayloadLen))
			}
		}
	}
	return d, ci, err
}

// TestSnapCapOnLoopback sends 9000-byte UDP datagrams over lo (MTU 64 KiB:
// one frame each), with and without a user filter: the kernel program
// copies at most SnapLen bytes of each, and the decoder still knows the
// full payload length from the headers.
func TestSnapCapOnLoopback(t *testing.T) {
	needRoot(t)
	for _, expr := range []string{"", "udp port 9"} {
		var cfg network.Config
		if expr != "" {
			f, err := filter.Compile(expr)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Filter = f
		}
		c, err := New(Config{Interface: "lo", PollTimeout: 20 * time.Millisecond, RingBytes: 2 << 20, Engine: cfg})
		if err != nil {
			t.Fatal(err)
		}
		var maxCap, maxWire atomic.Int64
		c.open = func(cfg Config) (source, error) {
			s, err := openAFPacket(cfg)
			if err != nil {
				return nil, err
			}
			return measuring{afSource: s.(afSource), maxCap: &maxCap, maxWire: &maxWire}, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		// Frames that reach the socket before the program is attached are
		// whole: send once it is.
		for !c.KernelSnap() && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		conn, err := net.Dial("udp", "127.0.0.1:9")
		if err != nil {
			t.Fatal(err)
		}
		big := make([]byte, 9000)
		for maxWire.Load() < 9000 && ctx.Err() == nil {
			conn.Write(big)
			time.Sleep(5 * time.Millisecond)
		}
		conn.Close()
		c.Stop()
		err = <-done
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if !c.KernelSnap() {
			t.Fatalf("filter %q: kernel snap not attached", expr)
		}
		if maxWire.Load() != 9000 || maxCap.Load() > int64(network.SnapLen) || maxCap.Load() < 1000 {
			t.Errorf("filter %q: captured at most %d bytes of frames carrying %d payload bytes; want ≤ %d captured, 9000 on the wire", expr, maxCap.Load(), maxWire.Load(), network.SnapLen)
		}
		if on, _ := c.KernelFilter(); on != (expr != "") {
			t.Errorf("filter %q: KernelFilter %v", expr, on)
		}
	}
}

// TestTinyRingDrops floods lo while the capture runs on the smallest ring
// with a budget so small it pauses after nearly every check: the kernel
// drops packets, the counters that go into heartbeats (Running) show them
// while the capture runs, and the log says when drops start.
func TestTinyRingDrops(t *testing.T) {
	needRoot(t)
	core, logs := observer.New(zap.InfoLevel)
	c, err := New(Config{Interface: "lo", PollTimeout: 20 * time.Millisecond, RingBytes: 1, CPUBudget: 0.0001, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	conn, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 1400)
	var seen bool
	for !seen && ctx.Err() == nil {
		for i := 0; i < 2000; i++ {
			conn.Write(buf)
		}
		for _, s := range Running() {
			if s.Interface == "lo" && s.KernelDrops > 0 && len(logs.FilterMessage("capture_drops_started").All()) > 0 {
				seen = true
			}
		}
	}
	c.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !seen {
		t.Fatalf("no drops in the running counters and log before the deadline: %+v", c.Counters())
	}
	st := c.Counters()
	if st.KernelDrops == 0 || st.KernelPackets < st.KernelDrops || st.Pauses == 0 {
		t.Errorf("counters %+v: want drops, kernel packets ≥ drops, budget pauses", st)
	}
	e := logs.FilterMessage("capture_drops_started").All()[0]
	if e.ContextMap()["interface"] != "lo" || e.ContextMap()["kernel_drops"].(uint64) == 0 {
		t.Errorf("log line %v", e.ContextMap())
	}
	if len(logs.FilterMessage("capture_stopped").All()) != 1 {
		t.Error("no capture_stopped log line")
	}
	for _, s := range Running() {
		if s.Interface == "lo" {
			t.Error("a stopped capture is still in Running")
		}
	}
}
