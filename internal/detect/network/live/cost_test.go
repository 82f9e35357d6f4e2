package live

import (
	"testing"
	"time"

	"golang.org/x/net/bpf"
)

func TestCapProgram(t *testing.T) {
	if p := capProgram(nil, 4352); len(p) != 1 || p[0].Op != 0x06 || p[0].K != 4352 {
		t.Errorf("no filter: %+v, want one ret #4352", p)
	}
	prog := []bpf.RawInstruction{{Op: 0x28, K: 12}, {Op: 0x15, Jt: 0, Jf: 1, K: 0x800}, {Op: 0x06, K: 1 << 18}, {Op: 0x06, K: 0}, {Op: 0x06, K: 100}}
	got := capProgram(prog, 4352)
	if got[2].K != 4352 || got[3].K != 0 || got[4].K != 100 || got[0] != prog[0] || got[1] != prog[1] {
		t.Errorf("capped %+v", got)
	}
	if prog[2].K != 1<<18 {
		t.Error("the caller's program was modified")
	}
	if p := capProgram(prog, -1); p[2].K != 1<<18 {
		t.Errorf("negative snap capped: %+v", p)
	}
}

// TestThrottleHoldsShare drives the budget with a fake thread clock that
// runs whenever the loop is not paused: the thread gets its share of wall
// time, and no pause is longer than the slice.
func TestThrottleHoldsShare(t *testing.T) {
	var cpu time.Duration
	tr := newThrottle(0.05, 2*time.Millisecond, func() (time.Duration, bool) { return cpu, true })
	var longest time.Duration
	wall := time.Duration(0)
	tr.sleep = func(d time.Duration) {
		longest = max(longest, d)
		wall += d
		tr.wall0 = tr.wall0.Add(-d) // the fake wall clock moves by the pause
	}
	for i := 0; i < 100000; i++ {
		step := 50 * time.Microsecond // 64 packets of work between checks
		cpu += step
		wall += step
		tr.wall0 = tr.wall0.Add(-step)
		tr.check()
	}
	share := float64(cpu) / float64(wall)
	if share > 0.06 || share < 0.04 {
		t.Errorf("thread used %.3f of wall time, want ~0.05", share)
	}
	if longest > 2*time.Millisecond || tr.pauses == 0 {
		t.Errorf("longest pause %v (%d pauses), want ≤ 2 ms", longest, tr.pauses)
	}
}

func TestThrottleOff(t *testing.T) {
	for _, f := range []float64{0, 1} {
		tr := newThrottle(f, time.Millisecond, func() (time.Duration, bool) { return time.Hour, true })
		tr.sleep = func(time.Duration) { t.Fatal("paused with budget", f) }
		tr.check()
	}
	tr := newThrottle(0.05, time.Millisecond, func() (time.Duration, bool) { return 0, false })
	tr.sleep = func(time.Duration) { t.Fatal("paused without a thread clock") }
	tr.check()
}

func TestPauseSlice(t *testing.T) {
	for ring, want := range map[int]time.Duration{2 << 20: 1747626 * time.Nanosecond, 64 << 10: time.Millisecond, 64 << 20: 10 * time.Millisecond} {
		if got := pauseSlice(ring); got < want-time.Microsecond || got > want+time.Microsecond {
			t.Errorf("ring %d: slice %v, want %v", ring, got, want)
		}
	}
}
