package source

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/farmwatch/farmwatch/internal/source/hostpath"
)

var diagSeq atomic.Uint32

// lookupSocket asks the kernel (NETLINK_SOCK_DIAG) about the one socket of
// proto whose own end is local and whose peer is remote: one request, one
// answer; no table is dumped.
//
// For UDP the kernel looks the socket up as if a packet from the request's
// source to its destination arrived (udp_dump_one calls the receive-path
// lookup), so the peer goes in the source field; that lookup also finds an
// unconnected socket bound to local (a VPN daemon's, which uses sendto).
// The answer names the socket's own end; one that is not local (a kernel
// reading the fields the other way round) is asked again the other way.
func lookupSocket(ctx context.Context, proto string, local, remote netip.AddrPort) (SocketInfo, error) {
	if proto != "udp" {
		return askSocket(ctx, proto, local, remote)
	}
	si, err := askSocket(ctx, proto, remote, local)
	if err == nil && si.Local.Port() == local.Port() {
		return si, nil
	}
	si2, err2 := askSocket(ctx, proto, local, remote)
	if err2 == nil && si2.Local.Port() == local.Port() {
		return si2, nil
	}
	if err == nil && err2 == nil {
		return SocketInfo{}, ErrConnNotFound
	}
	if err != nil {
		return SocketInfo{}, err
	}
	return SocketInfo{}, err2
}

// askSocket sends one request with these fields and reads the answer.
func askSocket(ctx context.Context, proto string, local, remote netip.AddrPort) (SocketInfo, error) {
	seq := diagSeq.Add(1)
	req, err := diagRequest(proto, local, remote, seq)
	if err != nil {
		return SocketInfo{}, err
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return SocketInfo{}, fmt.Errorf("sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(time.Second))
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 && d < time.Second {
			tv = unix.NsecToTimeval(int64(d))
		}
	}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return SocketInfo{}, fmt.Errorf("sock_diag request: %w", err)
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return SocketInfo{}, fmt.Errorf("sock_diag reply: %w", err)
		}
		if n >= nlmsgHdrLen && binary.NativeEndian.Uint32(buf[8:12]) != seq {
			continue // a stale answer on a fresh socket cannot happen; be safe
		}
		return parseDiagReply(buf[:n], proto)
	}
}

// maxFDLinks bounds one owner search: how many /proc/<pid>/fd entries may
// be read before giving up (a laptop has a few thousand).
const maxFDLinks = 200000

// pidOfInode finds the process holding socket inode: the /proc/<pid>/fd
// symlinks are read until one says socket:[inode]. Processes of the
// socket's uid are searched first (the owner almost always runs as the
// socket's uid); the search stops at the first hit, at ctx's end or after
// maxFDLinks links. 0 with ErrConnNotFound when no process holds it (the
// socket was closed, or belongs to the kernel or another pid namespace).
func pidOfInode(ctx context.Context, root string, inode, uid uint32) (int32, error) {
	if inode == 0 {
		return 0, fmt.Errorf("socket without inode (time-wait or kernel socket): %w", ErrConnNotFound)
	}
	proc := hostpath.Root(root).Proc()
	d, err := os.Open(proc)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", proc, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", proc, err)
	}
	var mine, others []int32
	for _, n := range names {
		pid, err := strconv.ParseInt(n, 10, 32)
		if err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(proc+"/"+n, &st) == nil && st.Uid == uid {
			mine = append(mine, int32(pid))
		} else {
			others = append(others, int32(pid))
		}
	}
	want := "socket:[" + strconv.FormatUint(uint64(inode), 10) + "]"
	link := make([]byte, 64)
	budget := maxFDLinks
	for _, list := range [][]int32{mine, others} {
		for _, pid := range list {
			if err := ctx.Err(); err != nil {
				return 0, fmt.Errorf("search socket owner: %w", err)
			}
			dir := proc + "/" + strconv.Itoa(int(pid)) + "/fd"
			f, err := os.Open(dir)
			if err != nil {
				continue // exited, or not ours to read
			}
			for {
				fds, err := f.Readdirnames(256)
				for _, fdn := range fds {
					budget--
					n, err := unix.Readlink(dir+"/"+fdn, link)
					if err == nil && n == len(want) && string(link[:n]) == want {
						f.Close()
						return pid, nil
					}
				}
				if err != nil || len(fds) == 0 || budget <= 0 {
					break
				}
			}
			f.Close()
			if budget <= 0 {
				return 0, fmt.Errorf("search socket owner: gave up after %d descriptors", maxFDLinks)
			}
		}
	}
	return 0, fmt.Errorf("no process holds socket inode %d: %w", inode, ErrConnNotFound)
}

// oneConnLookup: Linux asks sock_diag about the one socket.
const oneConnLookup = true

// lookupConnection on Linux: sock_diag for the socket, /proc for its owner.
func lookupConnection(ctx context.Context, root, proto string, local, remote netip.AddrPort) (Connection, SocketInfo, error) {
	si, err := lookupSocket(ctx, proto, local, remote)
	if err != nil {
		return Connection{}, si, err
	}
	pid, err := pidOfInode(ctx, root, si.Inode, si.UID)
	c := Connection{PID: pid, Proto: proto, LAddr: si.Local.Addr().String(), LPort: uint32(si.Local.Port()),
		RAddr: si.Remote.Addr().String(), RPort: uint32(si.Remote.Port()), State: tcpStateName(proto, si.State), TCP: si.TCP}
	if err != nil {
		return c, si, err
	}
	return c, si, nil
}

// tcpStateName names a TCP state as gopsutil does; "" for UDP.
func tcpStateName(proto string, st uint8) string {
	if proto != "tcp" {
		return ""
	}
	names := [...]string{1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
		7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "NEW_SYN_RECV"}
	if int(st) < len(names) {
		return names[st]
	}
	return ""
}
