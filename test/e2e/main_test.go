//go:build linux

package e2e

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMain guards the machine's System V shared memory around the package.
//
// x11vnc keeps its frame buffer and tile rows in 27 segments that it removes
// only when it exits on a signal it can catch; SIGKILLed, it leaves them.
// The table holds kernel.shmmni (4096) segments, so about 150 such kills
// fill it, and from then on every X client that asks for MIT-SHM fails:
// x11vnc opens the display and never listens, MeshAgent shows no desktop.
// That once failed every X test of a run at once, with nothing pointing at
// the cause. So:
//   - before the tests, a table that is nearly full fails the package with
//     the count and how to free it;
//   - every stop (stopGroup, the zoo's zoo_down) stops programs with SIGTERM
//     first and then removes the segments its own programs left behind
//     anyway (xpra's server, stopped properly, still leaves 2 in about one
//     stop in six);
//   - after the tests, segments that nobody has attached, whose creator is
//     gone and that were created during the run fail the package: a program
//     was started outside those two paths, or killed outright. They are
//     removed so that the next run does not inherit them.
func TestMain(m *testing.M) {
	start := time.Now()
	if msg := shmPreflight(); msg != "" {
		fmt.Fprintln(os.Stderr, "FAIL: "+msg)
		os.Exit(1)
	}
	code := m.Run()
	if leaked := shmOrphans(start); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the tests leaked System V shared memory segments (a program was started outside startProc and the zoo, or SIGKILLed instead of stopped): %s\n",
			strings.Join(leaked, "; "))
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// shmSegment is one row of /proc/sysvipc/shm.
type shmSegment struct {
	id, size, cpid, nattch int64
	ctime                  time.Time
}

func readSHM() ([]shmSegment, error) {
	f, err := os.Open("/proc/sysvipc/shm")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return nil, fmt.Errorf("/proc/sysvipc/shm: no header")
	}
	col := map[string]int{}
	for i, h := range strings.Fields(sc.Text()) {
		col[h] = i
	}
	for _, h := range []string{"shmid", "size", "cpid", "nattch", "ctime"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("/proc/sysvipc/shm: no %s column", h)
		}
	}
	var segs []shmSegment
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		num := func(h string) int64 {
			if col[h] >= len(fs) {
				return -1
			}
			v, err := strconv.ParseInt(fs[col[h]], 10, 64)
			if err != nil {
				return -1
			}
			return v
		}
		segs = append(segs, shmSegment{id: num("shmid"), size: num("size"), cpid: num("cpid"), nattch: num("nattch"), ctime: time.Unix(num("ctime"), 0)})
	}
	return segs, sc.Err()
}

// shmPreflight says what is wrong when fewer than 500 segments are free.
func shmPreflight() string {
	segs, err := readSHM()
	if err != nil {
		return "read System V shared memory table: " + err.Error()
	}
	b, err := os.ReadFile("/proc/sys/kernel/shmmni")
	if err != nil {
		return "read kernel.shmmni: " + err.Error()
	}
	max, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return "kernel.shmmni: " + err.Error()
	}
	if max-len(segs) >= 500 {
		return ""
	}
	orphans := 0
	for _, s := range segs {
		if s.nattch == 0 && !alive(s.cpid) {
			orphans++
		}
	}
	return fmt.Sprintf("System V shared memory is nearly full (%d of kernel.shmmni=%d segments in use, %d attached by nobody and made by a process that is gone): X clients using MIT-SHM (x11vnc, viewers) would fail. `ipcs -mp` lists them; `ipcrm -m ID` frees one.",
		len(segs), max, orphans)
}

// shmOrphans lists, and removes, the segments created since start that
// nobody has attached and whose creator is gone.
func shmOrphans(start time.Time) []string {
	segs, err := readSHM()
	if err != nil {
		return []string{"read System V shared memory table: " + err.Error()}
	}
	var out []string
	n := 0
	for _, s := range segs {
		// ctime has a resolution of one second.
		if s.nattch == 0 && !s.ctime.Before(start.Truncate(time.Second)) && !alive(s.cpid) {
			rm := ""
			if _, err := unix.SysvShmCtl(int(s.id), unix.IPC_RMID, nil); err != nil {
				rm = ", not removed: " + err.Error()
			}
			if n++; n <= 10 {
				out = append(out, fmt.Sprintf("shmid %d (%d bytes, creator pid %d%s)", s.id, s.size, s.cpid, rm))
			}
		}
	}
	if n > 10 {
		out = append(out, fmt.Sprintf("and %d more", n-10))
	}
	return out
}

// sweepSHM removes the segments that one of creators made, that nobody has
// attached and whose creator is gone: what a stopped program left behind.
func sweepSHM(creators map[int64]bool) {
	segs, err := readSHM()
	if err != nil {
		return
	}
	for _, s := range segs {
		if creators[s.cpid] && s.nattch == 0 && !alive(s.cpid) {
			_, _ = unix.SysvShmCtl(int(s.id), unix.IPC_RMID, nil)
		}
	}
}

func alive(pid int64) bool {
	return pid > 0 && syscall.Kill(int(pid), 0) != syscall.ESRCH
}
