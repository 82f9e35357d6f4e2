package source

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// ErrLookupUnsupported is returned by LookupConnection where the OS gives
// no way to ask about one connection (callers read the connection table).
var ErrLookupUnsupported = errors.New("one-connection lookup not supported on this OS")

// ConnLookup is implemented by sources that can ask the OS about one
// connection and one process instead of listing them all (the live
// source). Attribution of a captured flow uses it.
type ConnLookup interface {
	// LookupConnection returns the socket whose own end is local and whose
	// peer is remote, with its owning pid and, for TCP where the OS gives
	// them, its kernel counters. ErrConnNotFound (wrapped) when the OS has
	// no such socket or no process holds it; ErrLookupUnsupported where
	// the OS cannot be asked.
	LookupConnection(ctx context.Context, proto string, local, remote netip.AddrPort) (Connection, error)
	// Process reads one process: pid, parent, name, executable, start
	// time and the executable's identity (no command line or user).
	Process(ctx context.Context, pid int32) (Process, error)
}

var _ ConnLookup = (*LiveSource)(nil)

// lookupTimeout bounds one LookupConnection (the /proc search included).
const lookupTimeout = 2 * time.Second

// LookupConnection implements ConnLookup (Linux: one sock_diag request and
// a /proc search for the socket's inode).
func (s *LiveSource) LookupConnection(ctx context.Context, proto string, local, remote netip.AddrPort) (Connection, error) {
	if !oneConnLookup {
		return Connection{}, ErrLookupUnsupported
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	c, _, err := lookupConnection(ctx, s.root, proto, local, remote)
	if err != nil {
		return c, fmt.Errorf("look up %s %v -> %v: %w", proto, local, remote, err)
	}
	return c, nil
}

// Process implements ConnLookup: one process, by pid (gopsutil reads just
// that pid: /proc/<pid> on Linux, OpenProcess + QueryFullProcessImageName
// on Windows, sysctl on macOS).
func (s *LiveSource) Process(ctx context.Context, pid int32) (Process, error) {
	pr, err := process.NewProcessWithContext(ctx, pid)
	if err != nil {
		return Process{}, fmt.Errorf("read process %d: %w", pid, err)
	}
	p := Process{PID: pid}
	p.PPID, _ = pr.PpidWithContext(ctx)
	p.Name, _ = pr.NameWithContext(ctx)
	p.Exe, _ = pr.ExeWithContext(ctx)
	if ms, err := pr.CreateTimeWithContext(ctx); err == nil && ms > 0 {
		p.CreateTime = time.UnixMilli(ms).UTC()
	}
	if p.Name == "" && p.Exe == "" {
		return Process{}, fmt.Errorf("read process %d: exited or not readable", pid)
	}
	s.fillIdentity(&p)
	return p, nil
}

// fillIdentity copies the executable's cached identity into p.
func (s *LiveSource) fillIdentity(p *Process) {
	if p.Exe == "" {
		return
	}
	id := s.exeIdentity(p.Exe)
	p.Signer, p.Company, p.Product, p.OriginalFilename = id.Signer, id.Company, id.Product, id.OriginalFilename
	p.BundleID, p.TeamID, p.Package = id.BundleID, id.TeamID, id.Package
	p.Signature, p.SignatureReason, p.SHA256 = id.Signature, id.SignatureReason, id.SHA256
}
