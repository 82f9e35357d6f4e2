package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/host"
	psnet "github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/farmwatch/farmwatch/internal/source/hostpath"
)

// LiveSource reads the machine farmwatch runs on. Root is "/" unless
// configured otherwise (tests point it at fixture trees).
type LiveSource struct {
	root string
	host HostInfo

	mu       sync.Mutex
	identity map[string]exeIdentity // by exe path; per-OS enrichment cache
	// tcpStatsErr is the last per-connection counter failure.
	tcpStatsErr error
}

var _ Source = (*LiveSource)(nil)

// exeIdentity is what per-OS code learns about an executable file once.
type exeIdentity struct {
	modTime          time.Time
	size             int64
	Signer           string
	Company          string
	Product          string
	OriginalFilename string
	BundleID         string
	TeamID           string
	Package          string
	Signature        string
	SignatureReason  string
	SHA256           string
}

// NewLive returns a source for this machine with OS trees under root
// ("" means "/").
func NewLive(ctx context.Context, root string) (*LiveSource, error) {
	if root == "" {
		root = "/"
	}
	s := &LiveSource{root: root, identity: map[string]exeIdentity{}}
	s.host.OS = runtime.GOOS
	s.host.Arch = runtime.GOARCH
	name, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("hostname: %w", err)
	}
	s.host.Hostname = name
	id, err := host.HostIDWithContext(ctx)
	if err != nil || id == "" {
		id = "hostname:" + name
	}
	s.host.HostID = id
	// The serial is optional: unreadable (not root, no DMI) leaves it "".
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	s.host.Serial, _ = machineSerial(sctx, root)
	cancel()
	return s, nil
}

// Host implements Source.
func (s *LiveSource) Host() HostInfo { return s.host }

// Snapshot implements Source.
func (s *LiveSource) Snapshot() bool { return false }

// Root implements Source.
func (s *LiveSource) Root() string { return s.root }

// Processes implements Source. Processes that vanish or deny access while
// being read keep whatever fields could be read.
func (s *LiveSource) Processes(ctx context.Context) ([]Process, error) {
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	out := make([]Process, 0, len(procs))
	for _, pr := range procs {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if st, err := pr.StatusWithContext(ctx); err == nil && len(st) > 0 && st[0] == process.Zombie {
			continue // exited, waiting to be reaped: not running anything
		}
		p := Process{PID: pr.Pid}
		p.PPID, _ = pr.PpidWithContext(ctx)
		p.Name, _ = pr.NameWithContext(ctx)
		p.Exe, _ = pr.ExeWithContext(ctx)
		p.Cmdline, _ = pr.CmdlineSliceWithContext(ctx)
		p.Username, _ = pr.UsernameWithContext(ctx)
		if ms, err := pr.CreateTimeWithContext(ctx); err == nil && ms > 0 {
			p.CreateTime = time.UnixMilli(ms).UTC()
		}
		if p.Name == "" && p.Exe == "" && len(p.Cmdline) == 0 {
			continue // exited while we looked
		}
		s.fillIdentity(&p)
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// exeIdentity returns the cached identity of an executable, recomputing it
// when the file changed.
func (s *LiveSource) exeIdentity(exe string) exeIdentity {
	st, err := os.Stat(s.hostPath(exe))
	if err != nil {
		return exeIdentity{}
	}
	s.mu.Lock()
	id, ok := s.identity[exe]
	s.mu.Unlock()
	if ok && id.size == st.Size() && id.modTime.Equal(st.ModTime()) {
		return id
	}
	id = identify(s.root, exe)
	id.size, id.modTime = st.Size(), st.ModTime()
	s.mu.Lock()
	if len(s.identity) > 4096 {
		s.identity = map[string]exeIdentity{}
	}
	s.identity[exe] = id
	s.mu.Unlock()
	return id
}

// hostPath maps an absolute path on the host to the configured root.
func (s *LiveSource) hostPath(p string) string { return hostpath.Root(s.root).Path(p) }

// Connections implements Source.
func (s *LiveSource) Connections(ctx context.Context) ([]Connection, error) {
	if nativeConnections != nil {
		// The counters come from the same kernel table as the sockets:
		// a failure to read it is both a listing and a counter failure.
		out, err := nativeConnections(ctx)
		s.mu.Lock()
		s.tcpStatsErr = err
		s.mu.Unlock()
		if err != nil {
			return out, fmt.Errorf("list connections: %w", err)
		}
		return out, nil
	}
	var out []Connection
	for _, kind := range []string{"tcp", "udp"} {
		cs, err := psnet.ConnectionsWithContext(ctx, kind)
		if err != nil {
			return out, fmt.Errorf("list %s connections: %w", kind, err)
		}
		for _, c := range cs {
			state := c.Status
			if kind == "udp" && (state == "" || state == "NONE") {
				state = ""
			}
			out = append(out, Connection{
				PID: c.Pid, Proto: kind,
				LAddr: c.Laddr.IP, LPort: c.Laddr.Port,
				RAddr: c.Raddr.IP, RPort: c.Raddr.Port,
				State: strings.ToUpper(state),
			})
		}
	}
	stats, err := tcpStats(ctx, out)
	attachTCPStats(out, stats)
	s.mu.Lock()
	s.tcpStatsErr = err
	s.mu.Unlock()
	return out, nil
}

// nativeConnections, when a per-OS file sets it, lists connections with
// their owners and TCP counters in one pass instead of gopsutil (macOS:
// gopsutil runs lsof, which costs seconds of CPU per call).
var nativeConnections func(ctx context.Context) ([]Connection, error)

// TCPStatsErr is why the last Connections call could not read per-
// connection TCP counters (nil when it could, or the OS has none). Missing
// counters do not fail Connections: attribution still works without them.
func (s *LiveSource) TCPStatsErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpStatsErr
}

// Services implements Source through the per-OS seam.
func (s *LiveSource) Services(ctx context.Context) ([]Service, error) {
	ss, err := listServices(ctx, s.root)
	if err != nil {
		return ss, fmt.Errorf("list services: %w", err)
	}
	sort.Slice(ss, func(i, j int) bool { return ss[i].Name < ss[j].Name })
	return ss, nil
}

// OpenExe implements Source through the per-OS seam.
func (s *LiveSource) OpenExe(p Process) (io.ReadCloser, error) {
	return openExe(s.root, p)
}
