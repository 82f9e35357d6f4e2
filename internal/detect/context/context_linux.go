//go:build linux

package hostcontext

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// liveIdle is the Linux idle seam: like `w`, the idle time of a login
// session is the time since its terminal device was last read (atime of
// /dev/<line>); the least over the utmp sessions is returned. Nothing is
// read from the devices.
func liveIdle(_ context.Context, root string, f *Facts) *time.Duration {
	var best *time.Duration
	now := time.Now()
	for _, s := range f.Sessions {
		line := filepath.Clean("/" + s.Line)
		if s.Line == "" || strings.Contains(s.Line, "..") {
			continue
		}
		fi, err := os.Stat(filepath.Join(root, "dev", line))
		if err != nil {
			continue
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			continue
		}
		d := now.Sub(time.Unix(st.Atim.Sec, st.Atim.Nsec))
		if d < 0 {
			d = 0
		}
		if best == nil || d < *best {
			best = &d
		}
	}
	return best
}

func liveWindowsJSON(context.Context) ([]byte, error) {
	return nil, errors.New("context: a live windows host can only be read on windows; record a snapshot there")
}
