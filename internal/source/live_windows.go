package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/farmwatch/farmwatch/internal/source/fileid"
)

// winHostPath maps a host path to the configured root: unchanged for the
// live system root, joined under it otherwise (as LiveSource.hostPath).
func winHostPath(root, p string) string {
	switch root {
	case "", "/", `\`, `C:\`, `c:\`:
		return p
	}
	return filepath.Join(root, p)
}

// openExe opens the executable file of a process.
func openExe(root string, p Process) (io.ReadCloser, error) {
	if p.Exe == "" {
		return nil, fmt.Errorf("open executable of pid %d: path unknown", p.PID)
	}
	f, err := os.Open(winHostPath(root, p.Exe))
	if err != nil {
		return nil, fmt.Errorf("open executable of pid %d: %w", p.PID, err)
	}
	return f, nil
}

// identify reads the version information, Authenticode signer and the
// verdict on the signature of an executable (fileid). Whatever could be
// read is kept even when part of the file is malformed.
func identify(root, exe string) exeIdentity {
	id, err := fileid.Read(winHostPath(root, exe), CodeSigningTrust())
	if err != nil || id == nil {
		return exeIdentity{}
	}
	return exeIdentity{
		Signer:           id.Signer,
		Company:          id.Company,
		Product:          id.Product,
		OriginalFilename: id.OriginalFilename,
		Signature:        string(id.Signature.Status),
		SignatureReason:  id.Signature.Reason,
		SHA256:           id.SHA256,
	}
}

// listServices enumerates Win32 services through the service control
// manager, asking only for the rights to enumerate and query, so it works
// without administrator rights for the services a user may see. Only the
// name comes from the enumeration; a service whose configuration or status
// cannot be read is still listed, with those fields empty or unknown (an
// optional query failing must not hide a service). Enumerating nothing at
// all, or failing every service, is an error.
func listServices(ctx context.Context, root string) ([]Service, error) {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT|windows.SC_MANAGER_ENUMERATE_SERVICE)
	if err != nil {
		return nil, fmt.Errorf("connect to the service control manager: %w", err)
	}
	m := &mgr.Mgr{Handle: h}
	defer m.Disconnect()
	names, err := m.ListServices()
	if err != nil {
		return nil, fmt.Errorf("enumerate services: %w", err)
	}
	out := make([]Service, 0, len(names))
	var failed int
	var firstErr error
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		s, err := readService(m, name)
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
		if s.Path != "" {
			id := serviceBinaryIdentity(winHostPath(root, s.Path))
			s.Signer, s.Company, s.Signature, s.SignatureReason = id.signer, id.company, id.signature, id.reason
		}
		out = append(out, s)
	}
	if len(names) > 0 && failed == len(names) {
		return out, fmt.Errorf("read the configuration of all %d services: %w", len(names), firstErr)
	}
	return out, nil
}

// readService reads one service's configuration and state. It always
// returns the service with what could be read; the error says what could
// not (the configuration: path, start type, display name).
func readService(m *mgr.Mgr, name string) (Service, error) {
	out := Service{Name: name, State: StateUnknown, StartType: "unknown", Kind: "windows-service"}
	namePtr, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return out, fmt.Errorf("service %q: %w", name, err)
	}
	h, err := windows.OpenService(m.Handle, namePtr, windows.SERVICE_QUERY_CONFIG|windows.SERVICE_QUERY_STATUS)
	if err != nil {
		return out, fmt.Errorf("open service %q: %w", name, err)
	}
	s := &mgr.Service{Name: name, Handle: h}
	defer s.Close()
	if st, err := s.Query(); err == nil {
		out.State = serviceState(st.State)
	}
	// Only QueryServiceConfig: mgr.Service.Config also asks
	// QueryServiceConfig2 for the description, delayed start and SID type,
	// and fails the whole service when any of those is unsupported (Wine).
	cfg, err := queryServiceConfig(h)
	if err != nil {
		return out, fmt.Errorf("query service %q configuration: %w", name, err)
	}
	path, args := splitServiceCommand(windows.UTF16PtrToString(cfg.BinaryPathName))
	out.DisplayName = windows.UTF16PtrToString(cfg.DisplayName)
	out.Path = expandWindowsEnv(path, os.LookupEnv)
	out.Args = args
	out.StartType = serviceStartType(cfg.StartType)
	return out, nil
}

// queryServiceConfig calls QueryServiceConfig with a growing buffer. The
// returned struct points into that buffer, kept alive by the pointer.
func queryServiceConfig(h windows.Handle) (*windows.QUERY_SERVICE_CONFIG, error) {
	n := uint32(1024)
	for range 4 {
		b := make([]byte, n)
		p := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&b[0]))
		err := windows.QueryServiceConfig(h, p, n, &n)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || n <= uint32(len(b)) {
			return nil, err
		}
	}
	return nil, errors.New("configuration keeps growing")
}

// serviceStartType maps a service start type; delayed auto-start is auto.
func serviceStartType(t uint32) string {
	switch t {
	case mgr.StartAutomatic, windows.SERVICE_BOOT_START, windows.SERVICE_SYSTEM_START:
		return "auto"
	case mgr.StartManual:
		return "manual"
	case mgr.StartDisabled:
		return "disabled"
	}
	return "unknown"
}

func serviceState(s svc.State) string {
	switch s {
	case svc.Running:
		return StateRunning
	case svc.Stopped:
		return StateStopped
	}
	return StateUnknown
}

// serviceIdentities caches the signer and company of service binaries by
// path, revalidated by size and modification time: many services share a
// binary (svchost.exe) and every scan lists them all again.
var serviceIdentities struct {
	sync.Mutex
	byPath map[string]serviceIdentity
}

type serviceIdentity struct {
	size                               int64
	modTime                            time.Time
	signer, company, signature, reason string
}

func serviceBinaryIdentity(path string) serviceIdentity {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return serviceIdentity{}
	}
	serviceIdentities.Lock()
	id, ok := serviceIdentities.byPath[path]
	serviceIdentities.Unlock()
	if ok && id.size == st.Size() && id.modTime.Equal(st.ModTime()) {
		return id
	}
	fid, err := fileid.Read(path, CodeSigningTrust())
	if err != nil {
		return serviceIdentity{} // unreadable now; try again next scan
	}
	id = serviceIdentity{size: st.Size(), modTime: st.ModTime(), signer: fid.Signer, company: fid.Company,
		signature: string(fid.Signature.Status), reason: fid.Signature.Reason}
	serviceIdentities.Lock()
	if serviceIdentities.byPath == nil || len(serviceIdentities.byPath) > 4096 {
		serviceIdentities.byPath = map[string]serviceIdentity{}
	}
	serviceIdentities.byPath[path] = id
	serviceIdentities.Unlock()
	return id
}
