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

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/farmwatch/farmwatch/internal/source/peinfo"
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

// identify reads the version information and Authenticode signer of an
// executable. Whatever peinfo could read is kept even when part of the file
// is malformed.
func identify(root, exe string) exeIdentity {
	info, _ := peinfo.ParseFile(winHostPath(root, exe))
	if info == nil {
		return exeIdentity{}
	}
	return exeIdentity{
		Signer:           signerName(info),
		Company:          info.CompanyName,
		Product:          info.ProductName,
		OriginalFilename: info.OriginalFilename,
	}
}

// signerName is the signer certificate's CN, or its O when it has no CN.
func signerName(info *peinfo.Info) string {
	if info.Signer == nil {
		return ""
	}
	if info.Signer.CommonName != "" {
		return info.Signer.CommonName
	}
	return info.Signer.Organization
}

// listServices enumerates Win32 services through the service control
// manager, asking only for the rights to enumerate and query, so it works
// without administrator rights for the services a user may see. A service
// that cannot be opened or queried is skipped.
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
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		s, err := readService(m, name)
		if err != nil {
			continue
		}
		if s.Path != "" {
			s.Signer, s.Company = serviceBinaryIdentity(winHostPath(root, s.Path))
		}
		out = append(out, s)
	}
	return out, nil
}

// readService reads one service's configuration and state.
func readService(m *mgr.Mgr, name string) (Service, error) {
	namePtr, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return Service{}, err
	}
	h, err := windows.OpenService(m.Handle, namePtr, windows.SERVICE_QUERY_CONFIG|windows.SERVICE_QUERY_STATUS)
	if err != nil {
		return Service{}, err
	}
	s := &mgr.Service{Name: name, Handle: h}
	defer s.Close()
	cfg, err := s.Config()
	if err != nil {
		return Service{}, err
	}
	path, args := splitServiceCommand(cfg.BinaryPathName)
	out := Service{
		Name:        name,
		DisplayName: cfg.DisplayName,
		Path:        expandWindowsEnv(path, os.LookupEnv),
		Args:        args,
		StartType:   serviceStartType(cfg.StartType),
		State:       StateUnknown,
		Kind:        "windows-service",
	}
	if st, err := s.Query(); err == nil {
		out.State = serviceState(st.State)
	}
	return out, nil
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
	size            int64
	modTime         time.Time
	signer, company string
}

func serviceBinaryIdentity(path string) (signer, company string) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return "", ""
	}
	serviceIdentities.Lock()
	id, ok := serviceIdentities.byPath[path]
	serviceIdentities.Unlock()
	if ok && id.size == st.Size() && id.modTime.Equal(st.ModTime()) {
		return id.signer, id.company
	}
	info, err := peinfo.ParseFile(path)
	if info == nil {
		if errors.Is(err, peinfo.ErrNotPE) {
			info = &peinfo.Info{}
		} else {
			return "", "" // unreadable now; try again next scan
		}
	}
	id = serviceIdentity{size: st.Size(), modTime: st.ModTime(), signer: signerName(info), company: info.CompanyName}
	serviceIdentities.Lock()
	if serviceIdentities.byPath == nil || len(serviceIdentities.byPath) > 4096 {
		serviceIdentities.byPath = map[string]serviceIdentity{}
	}
	serviceIdentities.byPath[path] = id
	serviceIdentities.Unlock()
	return id.signer, id.company
}
