//go:build linux

package e2e

import (
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/testenv"
	kvmgadget "github.com/farmwatch/farmwatch/lab/kvm-gadget"
)

// labExpect is what one lab scenario must (and must not) produce.
type labExpect struct {
	want []labWant // findings that must be present
	// maxOther is the highest severity allowed for any other
	// remote-access-hardware finding ("" = anything).
	maxOther string
}

type labWant struct {
	rule, tool, minSeverity, trait string
}

var labExpectations = map[string]labExpect{
	"pikvm": {want: []labWant{
		{rule: "hardware.usb.kvm_identity", tool: "pikvm", minSeverity: "high", trait: "known_kvm_identity"},
		{rule: "hardware.display.kvm_edid", tool: "pikvm", minSeverity: "high", trait: "kvm_edid"},
	}},
	"tinypilot": {want: []labWant{
		{rule: "hardware.usb.kvm_identity", tool: "tinypilot", minSeverity: "high", trait: "known_kvm_identity"},
	}},
	"hotplug-tinypilot": {want: []labWant{
		{rule: "hardware.usb.kvm_identity", tool: "tinypilot", minSeverity: "high", trait: "known_kvm_identity"},
	}},
	"jetkvm-logitech": {want: []labWant{
		{rule: "hardware.usb.spoofed_identity", tool: "jetkvm", minSeverity: "medium", trait: "jetkvm_preset_serial_pattern"},
	}},
	"gadget-keyboard": {want: []labWant{
		{rule: "hardware.usb.kvm_structure", tool: "ip-kvm", minSeverity: "high", trait: "gadget_hid_interface_string"},
	}, maxOther: "low"},
	"plain-keyboard": {maxOther: "low"},
}

// TestLabKVMGadgets boots Debian's kernel under QEMU once with the lab's
// /init (lab/kvm-gadget): for each scenario it plugs a USB gadget into
// dummy_hcd (PiKVM with the PiKVM V3 EDID on the display, TinyPilot,
// JetKVM with the spoofed Logitech preset, a gadget keyboard, and a plain
// keyboard as the negative control), runs the real agent inside the guest
// and asserts its JSON findings.
func TestLabKVMGadgets(t *testing.T) {
	requireE2E(t, "qemu-system-x86_64")
	shared := os.Getenv("FARMWATCH_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "shared")
	}
	edidDir, _ := filepath.Abs(filepath.Join(shared, "data", "kvm", "edid"))
	if _, err := os.Stat(edidDir); err != nil {
		testenv.Missing(t, "needs the shared research data's KVM EDIDs (%s): %v", edidDir, err)
	}
	k, err := kvmgadget.FindKernel()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	o := kvmgadget.Options{
		Kernel: k, WorkDir: dir, EDIDDir: edidDir, Init: filepath.Join(dir, "init"),
		Accel: os.Getenv("FARMWATCH_LAB_ACCEL"), Timeout: 150 * time.Second,
	}
	// The agent runs as a static binary in a bare initramfs.
	if a := agent(t); isStatic(a) {
		o.Agent = a
	} else {
		o.Agent = filepath.Join(dir, "farmwatch-agent")
		if err := kvmgadget.BuildGo(ctx, "github.com/farmwatch/farmwatch/cmd/agent", o.Agent); err != nil {
			t.Fatal(err)
		}
	}
	if err := kvmgadget.BuildGo(ctx, "github.com/farmwatch/farmwatch/lab/kvm-gadget/guest", o.Init); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	results, console, err := kvmgadget.Boot(ctx, o)
	t.Logf("kernel %s, %d scenarios in one boot: %.1fs", k.Version, len(results), time.Since(start).Seconds())
	if err != nil {
		t.Fatalf("lab boot: %v\nguest console:\n%s", err, console)
	}
	seen := map[string]bool{}
	for _, r := range results {
		seen[r.Scenario] = true
		exp, ok := labExpectations[r.Scenario]
		if !ok {
			t.Errorf("scenario %s has no expectations", r.Scenario)
			continue
		}
		t.Run(r.Scenario, func(t *testing.T) {
			if r.Scenario == "hotplug-tinypilot" {
				ms := -1
				for _, l := range r.Info {
					if v, ok := strings.CutPrefix(l, "hotplug_latency_ms="); ok {
						ms, _ = strconv.Atoi(v)
					}
				}
				// Plug to report, including the emulated host's enumeration.
				if ms < 0 || ms > 2000 {
					t.Errorf("running agent reported the plugged device after %d ms, want <= 2000", ms)
				}
				t.Logf("hot-plug to finding: %d ms", ms)
			}
			for _, l := range r.Info {
				t.Log(l)
				if strings.Contains(l, "did not enumerate") || strings.Contains(l, "failed") || strings.HasPrefix(l, "EDID:") {
					t.Errorf("lab setup: %s", l)
				}
			}
			if r.Exit != 0 && r.Exit != 3 {
				t.Errorf("agent exit %d; stderr:\n%s", r.Exit, strings.Join(r.Stderr, "\n"))
			}
			var hw []kvmgadget.Finding
			for _, f := range r.Findings {
				if f.Category == "remote-access-hardware" {
					hw = append(hw, f)
					t.Logf("finding %s %s tool=%s traits=%v", f.Severity, f.Rule, f.Tool, f.Evidence["traits"])
				}
			}
			matched := map[int]bool{}
			for _, w := range exp.want {
				found := false
				for i, f := range hw {
					if f.Rule == w.rule && f.Tool == w.tool && severityRank[f.Severity] >= severityRank[w.minSeverity] && hasTrait(f, w.trait) {
						found, matched[i] = true, true
					}
				}
				if !found {
					t.Errorf("no %s finding with tool %s at >= %s and trait %s", w.rule, w.tool, w.minSeverity, w.trait)
				}
			}
			if exp.maxOther != "" {
				for i, f := range hw {
					if !matched[i] && severityRank[f.Severity] > severityRank[exp.maxOther] {
						t.Errorf("unexpected %s finding %s (tool %s): %s", f.Severity, f.Rule, f.Tool, f.Summary)
					}
				}
			}
			if r.Scenario != "pikvm" {
				for _, f := range hw {
					if strings.HasPrefix(f.Rule, "hardware.display.") {
						t.Errorf("display finding without an EDID override (QEMU's monitor): %s", f.Summary)
					}
				}
			}
		})
	}
	for name := range labExpectations {
		if !seen[name] {
			t.Errorf("scenario %s produced no output\nguest console:\n%s", name, console)
		}
	}
}

func hasTrait(f kvmgadget.Finding, trait string) bool {
	ts, _ := f.Evidence["traits"].([]any)
	for _, x := range ts {
		if x == trait {
			return true
		}
	}
	return false
}

// isStatic reports whether an ELF binary has no program interpreter.
func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}
