package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Snapshot file names (docs/snapshot.md).
const (
	HostFile        = "host.json"
	ProcessesFile   = "processes.json"
	ConnectionsFile = "connections.json"
	ServicesFile    = "services.json"
)

// SnapshotSource reads a host recorded by `farmwatch-agent collect` or by
// hand (an incident responder's export). Missing files mean "nothing of that
// kind was recorded"; malformed files are errors naming file and field.
type SnapshotSource struct {
	dir  string
	host HostInfo
}

var _ Source = (*SnapshotSource)(nil)

// OpenSnapshot opens a snapshot directory. host.json is optional; without
// it the OS defaults to the one farmwatch runs on and the host is named
// after the directory.
func OpenSnapshot(dir string) (*SnapshotSource, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open snapshot: %s is not a directory", dir)
	}
	s := &SnapshotSource{dir: dir}
	err = DecodeJSONFile(filepath.Join(dir, HostFile), &s.host)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	if s.host.OS == "" {
		s.host.OS = runtime.GOOS
	}
	switch s.host.OS {
	case "linux", "darwin", "windows":
	default:
		return nil, fmt.Errorf("open snapshot: %s: field \"os\": unsupported OS %q (want linux, darwin or windows)", filepath.Join(dir, HostFile), s.host.OS)
	}
	if s.host.Hostname == "" {
		abs, _ := filepath.Abs(dir)
		s.host.Hostname = filepath.Base(abs)
	}
	if s.host.HostID == "" {
		s.host.HostID = "snapshot:" + s.host.Hostname
	}
	return s, nil
}

// Host implements Source.
func (s *SnapshotSource) Host() HostInfo { return s.host }

// Snapshot implements Source.
func (s *SnapshotSource) Snapshot() bool { return true }

// Root implements Source.
func (s *SnapshotSource) Root() string { return s.dir }

// Processes implements Source.
func (s *SnapshotSource) Processes(context.Context) ([]Process, error) {
	var ps []Process
	err := s.load(ProcessesFile, &ps)
	markUnverified(ps)
	return ps, err
}

// Connections implements Source.
func (s *SnapshotSource) Connections(context.Context) ([]Connection, error) {
	var cs []Connection
	return cs, s.load(ConnectionsFile, &cs)
}

// Services implements Source.
func (s *SnapshotSource) Services(context.Context) ([]Service, error) {
	var ss []Service
	err := s.load(ServicesFile, &ss)
	markServicesUnverified(ss)
	return ss, err
}

// OpenExe implements Source: snapshots hold no executables.
func (s *SnapshotSource) OpenExe(Process) (io.ReadCloser, error) { return nil, ErrNotRecorded }

// load decodes an array file. PowerShell's ConvertTo-Json writes a single
// object instead of a one-element array; that is accepted too.
func (s *SnapshotSource) load(name string, v any) error {
	p := filepath.Join(s.dir, name)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(trimmed) > 0 && trimmed[0] == '{' {
		data = append(append([]byte("["), trimmed...), ']')
	}
	return DecodeJSON(p, data, v)
}
