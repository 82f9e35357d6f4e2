//go:build linux

// Command netdelay is a two-port Ethernet bridge that delays every frame by
// a fixed time: the stand-in for `tc qdisc … netem delay` on kernels built
// without sch_netem (this project's test machines). scripts/record-pcaps.sh
// runs it in a middle network namespace between the "controller" and the
// "laptop" so recorded captures carry a real round-trip time.
//
// Usage: netdelay -a IFACE -b IFACE -delay 90ms [-jitter 5ms]
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

type frame struct {
	due  time.Time
	data []byte
}

func main() {
	a := flag.String("a", "", "first interface")
	b := flag.String("b", "", "second interface")
	delay := flag.Duration("delay", 90*time.Millisecond, "one-way delay added to every frame")
	jitter := flag.Duration("jitter", 0, "uniform random jitter added on top (kept in order)")
	flag.Parse()
	if *a == "" || *b == "" {
		fmt.Fprintln(os.Stderr, "usage: netdelay -a IFACE -b IFACE -delay 90ms")
		os.Exit(2)
	}
	fa, ia, err := open(*a)
	if err != nil {
		fmt.Fprintln(os.Stderr, "netdelay:", err)
		os.Exit(1)
	}
	fb, ib, err := open(*b)
	if err != nil {
		fmt.Fprintln(os.Stderr, "netdelay:", err)
		os.Exit(1)
	}
	go pump(fa, fb, ib, *delay, *jitter)
	go pump(fb, fa, ia, *delay, *jitter)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}

func htons(v uint16) uint16 { return binary.BigEndian.Uint16([]byte{byte(v), byte(v >> 8)}) }

// open binds a raw AF_PACKET socket to an interface.
func open(name string) (int, int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, 0, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return 0, 0, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		return 0, 0, fmt.Errorf("bind %s: %w", name, err)
	}
	mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		return 0, 0, fmt.Errorf("promisc %s: %w", name, err)
	}
	return fd, ifi.Index, nil
}

// pump reads frames arriving on in and writes them to out after the delay,
// in arrival order.
func pump(in, out, outIndex int, delay, jitter time.Duration) {
	q := make(chan frame, 65536)
	go func() {
		var last time.Time
		for f := range q {
			if f.due.Before(last) {
				f.due = last
			}
			last = f.due
			time.Sleep(time.Until(f.due))
			_ = unix.Sendto(out, f.data, 0, &unix.SockaddrLinklayer{Ifindex: outIndex})
		}
	}()
	buf := make([]byte, 65536)
	for {
		n, from, err := unix.Recvfrom(in, buf, 0)
		if err != nil {
			continue
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue // our own writes
		}
		d := delay
		if jitter > 0 {
			d += time.Duration(rand.Int64N(int64(jitter)))
		}
		q <- frame{due: time.Now().Add(d), data: append([]byte(nil), buf[:n]...)}
	}
}
