// Command kvmlab runs the IP-KVM lab by hand (lab/kvm-gadget/run.sh): it
// builds the agent and the guest /init statically, boots Debian's kernel
// under QEMU once through the scenarios and prints what the guest's host
// side enumerated and the agent's findings for each.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	kvmgadget "github.com/farmwatch/farmwatch/lab/kvm-gadget"
)

func main() {
	scenarios := flag.String("scenarios", "", "comma-separated scenarios (default all: "+names()+")")
	accel := flag.String("accel", envOr("FARMWATCH_LAB_ACCEL", "tcg"), "QEMU accelerator: tcg or kvm")
	workdir := flag.String("workdir", "", "keep the initramfs and logs here (default: a temporary directory, removed)")
	verbose := flag.Bool("v", false, "print the guest console log")
	flag.Parse()
	if err := run(*scenarios, *accel, *workdir, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "kvmlab:", err)
		os.Exit(1)
	}
}

func names() string {
	var n []string
	for _, s := range kvmgadget.Scenarios {
		n = append(n, s.Name)
	}
	return strings.Join(n, ",")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(scenarios, accel, workdir string, verbose bool) error {
	ctx := context.Background()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return fmt.Errorf("run from inside the farmwatch module: %w", err)
	}
	repo := strings.TrimSpace(string(root))
	shared := envOr("FARMWATCH_SHARED", filepath.Join(repo, "..", "shared"))
	k, err := kvmgadget.FindKernel()
	if err != nil {
		return err
	}
	if workdir == "" {
		if workdir, err = os.MkdirTemp("", "kvmlab-"); err != nil {
			return err
		}
		defer os.RemoveAll(workdir)
	} else if err := os.MkdirAll(workdir, 0o755); err != nil {
		return err
	}
	o := kvmgadget.Options{
		Kernel: k, Accel: accel, WorkDir: workdir,
		Agent: filepath.Join(workdir, "farmwatch-agent"), Init: filepath.Join(workdir, "init"),
		EDIDDir: filepath.Join(shared, "data", "kvm", "edid"),
	}
	if scenarios != "" {
		o.Scenarios = strings.Split(scenarios, ",")
	}
	t := time.Now()
	for pkg, out := range map[string]string{"./cmd/agent": o.Agent, "./lab/kvm-gadget/guest": o.Init} {
		if err := kvmgadget.BuildGo(ctx, filepath.Join(repo, pkg), out); err != nil {
			return err
		}
	}
	fmt.Printf("kernel %s (%s), accel %s; built agent and /init in %.1fs\n", k.Version, k.Image, accel, time.Since(t).Seconds())
	t = time.Now()
	res, console, err := kvmgadget.Boot(ctx, o)
	if verbose || err != nil {
		fmt.Println("----- guest console -----")
		fmt.Println(console)
		fmt.Println("-------------------------")
	}
	fmt.Printf("boot through %d scenarios: %.1fs\n", len(res), time.Since(t).Seconds())
	for _, r := range res {
		desc := ""
		if s, ok := kvmgadget.ScenarioByName(r.Scenario); ok {
			desc = s.Description
		}
		fmt.Printf("\n== %s: %s (agent exit %d)\n", r.Scenario, desc, r.Exit)
		for _, l := range r.Info {
			fmt.Println("   ", l)
		}
		for _, l := range r.Stderr {
			fmt.Println("    agent stderr:", l)
		}
		n := 0
		for _, f := range r.Findings {
			if f.Detector != "" && f.Detector != "hardware" {
				continue
			}
			n++
			fmt.Printf("    finding %-8s %-34s tool=%-14s %s\n", f.Severity, f.Rule, f.Tool, f.Summary)
			if tr, ok := f.Evidence["traits"]; ok {
				fmt.Printf("             traits %v\n", tr)
			}
		}
		if n == 0 {
			fmt.Println("    no hardware findings")
		}
	}
	return err
}
