package source

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/farmwatch/farmwatch/internal/source/hostpath"
)

// openExe opens /proc/PID/exe, which works even when the file on disk was
// deleted or replaced after the process started.
func openExe(root string, p Process) (io.ReadCloser, error) {
	f, err := os.Open(hostpath.Root(root).Proc(strconv.Itoa(int(p.PID)), "exe"))
	if err != nil {
		return nil, fmt.Errorf("open executable of pid %d: %w", p.PID, err)
	}
	return f, nil
}

// identify on Linux: the owning Debian package, from dpkg's file lists. RPM
// hosts get no package name (reading the rpmdb needs a library we avoid).
func identify(root, exe string) exeIdentity {
	return exeIdentity{Package: dpkgOwner(root, exe)}
}

var dpkgIndex struct {
	sync.Mutex
	root    string
	stamp   int64
	byPath  map[string]string
	loadErr error
}

// dpkgOwner looks exe up in an index of /var/lib/dpkg/info/*.list, rebuilt
// when that directory changes.
func dpkgOwner(root, exe string) string {
	dir := filepath.Join(root, "var/lib/dpkg/info")
	st, err := os.Stat(dir)
	if err != nil {
		return ""
	}
	dpkgIndex.Lock()
	defer dpkgIndex.Unlock()
	if dpkgIndex.byPath == nil || dpkgIndex.root != root || dpkgIndex.stamp != st.ModTime().UnixNano() {
		dpkgIndex.root, dpkgIndex.stamp = root, st.ModTime().UnixNano()
		dpkgIndex.byPath = map[string]string{}
		lists, _ := filepath.Glob(filepath.Join(dir, "*.list"))
		// The lists are streamed through one reader (reading each whole
		// was ~13 MiB of start-up garbage on a desktop install).
		var br *bufio.Reader
		for _, l := range lists {
			pkg := strings.TrimSuffix(filepath.Base(l), ".list")
			pkg, _, _ = strings.Cut(pkg, ":") // multiarch suffix
			f, err := os.Open(l)
			if err != nil {
				continue
			}
			if br == nil {
				br = bufio.NewReaderSize(f, 16<<10)
			} else {
				br.Reset(f)
			}
			for {
				line, err := br.ReadSlice('\n')
				if err == bufio.ErrBufferFull {
					// A path longer than the buffer: not indexed.
					for err == bufio.ErrBufferFull {
						_, err = br.ReadSlice('\n')
					}
					if err != nil {
						break
					}
					continue
				}
				line = bytes.TrimSuffix(line, []byte{'\n'})
				// Only executables matter; keep the index small.
				if bytes.Contains(line, []byte("/bin/")) || bytes.Contains(line, []byte("/sbin/")) || bytes.Contains(line, []byte("/libexec/")) || bytes.HasPrefix(line, []byte("/opt/")) {
					dpkgIndex.byPath[string(line)] = pkg
				}
				if err != nil {
					break
				}
			}
			f.Close()
		}
	}
	if pkg, ok := dpkgIndex.byPath[exe]; ok {
		return pkg
	}
	// /bin is a symlink to /usr/bin on merged-/usr systems.
	if strings.HasPrefix(exe, "/usr/") {
		return dpkgIndex.byPath[strings.TrimPrefix(exe, "/usr")]
	}
	return dpkgIndex.byPath["/usr"+exe]
}

// systemdUnitDirs are searched in systemd's precedence order.
var systemdUnitDirs = []string{"etc/systemd/system", "run/systemd/system", "usr/local/lib/systemd/system", "lib/systemd/system", "usr/lib/systemd/system"}

// listServices reads systemd service units and SysV init scripts. The state
// comes from whether a process runs the unit's ExecStart binary; the start
// type from the unit's .wants symlinks.
func listServices(ctx context.Context, root string) ([]Service, error) {
	seen := map[string]bool{}
	enabled := enabledUnits(root)
	running := runningExes(root)
	var out []Service
	for _, d := range systemdUnitDirs {
		files, _ := filepath.Glob(filepath.Join(root, d, "*.service"))
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			name := filepath.Base(f)
			if seen[name] {
				continue
			}
			seen[name] = true
			// An alias (sshd.service -> ssh.service) is the same unit.
			if fi, err := os.Lstat(f); err == nil && fi.Mode()&os.ModeSymlink != 0 {
				if t, _ := os.Readlink(f); strings.HasSuffix(t, ".service") && filepath.Base(t) != name {
					continue
				}
			}
			svc, ok := parseUnit(f)
			if !ok {
				continue
			}
			svc.Name = name
			svc.Kind = "systemd-unit"
			svc.StartType = "manual"
			if enabled[name] {
				svc.StartType = "auto"
			}
			if fi, err := os.Lstat(f); err == nil && fi.Mode()&os.ModeSymlink != 0 {
				if t, _ := os.Readlink(f); t == "/dev/null" {
					svc.StartType = "disabled"
				}
			}
			svc.State = StateStopped
			if running[svc.Path] {
				svc.State = StateRunning
			}
			out = append(out, svc)
		}
	}
	inits, _ := filepath.Glob(filepath.Join(root, "etc/init.d/*"))
	for _, f := range inits {
		name := filepath.Base(f)
		if seen[name+".service"] || name == "README" || strings.HasPrefix(name, ".") {
			continue
		}
		out = append(out, Service{Name: name, Path: "/etc/init.d/" + name, State: StateUnknown, StartType: "unknown", Kind: "sysv"})
	}
	return out, nil
}

// parseUnit reads ExecStart and Description from a unit file.
func parseUnit(path string) (Service, bool) {
	f, err := os.Open(path)
	if err != nil {
		return Service{}, false
	}
	defer f.Close()
	var svc Service
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "Description":
			svc.DisplayName = strings.TrimSpace(v)
		case "ExecStart":
			if svc.Path != "" {
				continue
			}
			fields := strings.Fields(strings.TrimLeft(strings.TrimSpace(v), "-@:+!"))
			if len(fields) > 0 {
				svc.Path, svc.Args = fields[0], fields[1:]
			}
		}
	}
	return svc, true
}

// enabledUnits lists units linked from *.wants directories.
func enabledUnits(root string) map[string]bool {
	out := map[string]bool{}
	wants, _ := filepath.Glob(filepath.Join(root, "etc/systemd/system/*.wants/*"))
	for _, w := range wants {
		out[filepath.Base(w)] = true
	}
	return out
}

// runningExes returns the executables of running processes.
func runningExes(root string) map[string]bool {
	out := map[string]bool{}
	entries, _ := os.ReadDir(hostpath.Root(root).Proc())
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if t, err := os.Readlink(hostpath.Root(root).Proc(e.Name(), "exe")); err == nil {
			out[strings.TrimSuffix(t, " (deleted)")] = true
		}
	}
	return out
}
