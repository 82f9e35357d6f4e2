package kvmgadget

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Modules the guest loads (with their modules.dep dependencies): the
// gadget side (configfs, dummy_hcd, libcomposite, HID and mass-storage
// functions), the host side's drivers (usbhid, usb-storage) and the QEMU
// VGA's DRM driver whose connector gets the EDID override.
var Modules = []string{
	"configfs", "dummy_hcd", "libcomposite", "usb_f_hid", "usb_f_mass_storage",
	"usbhid", "hid_generic", "usb_storage", "sd_mod", "sr_mod", "bochs",
}

// Kernel is a kernel image and its module tree.
type Kernel struct {
	Image, Version, ModulesDir string
}

var debianFlavour = regexp.MustCompile(`^\d+\.\d+\.\d+-\d+-amd64$`) // linux-image-amd64's flavour (not -rt, -cloud)

// FindKernel picks the kernel: $FARMWATCH_LAB_KERNEL (a vmlinuz path) if
// set, else the newest /boot/vmlinuz-* of Debian's generic amd64 flavour
// (what linux-image-amd64 installs) with /lib/modules/<version>, else the
// newest kernel whose module tree has dummy_hcd.
func FindKernel() (Kernel, error) {
	if img := os.Getenv("FARMWATCH_LAB_KERNEL"); img != "" {
		ver := strings.TrimPrefix(filepath.Base(img), "vmlinuz-")
		return Kernel{Image: img, Version: ver, ModulesDir: filepath.Join("/lib/modules", ver)}, nil
	}
	imgs, _ := filepath.Glob("/boot/vmlinuz-*")
	var generic, other []Kernel
	for _, img := range imgs {
		ver := strings.TrimPrefix(filepath.Base(img), "vmlinuz-")
		k := Kernel{Image: img, Version: ver, ModulesDir: filepath.Join("/lib/modules", ver)}
		if _, err := os.Stat(filepath.Join(k.ModulesDir, "modules.dep")); err != nil {
			continue
		}
		if debianFlavour.MatchString(ver) {
			generic = append(generic, k)
		} else {
			other = append(other, k)
		}
	}
	for _, ks := range [][]Kernel{generic, other} {
		sort.Slice(ks, func(i, j int) bool { return versionLess(ks[j].Version, ks[i].Version) })
		for _, k := range ks {
			if _, err := k.resolve(); err == nil {
				return k, nil
			}
		}
	}
	return Kernel{}, errors.New("no kernel in /boot with a module tree that has dummy_hcd: install Debian's linux-image-amd64 (see .ci/debian-packages.txt)")
}

// versionLess compares kernel versions numerically field by field.
func versionLess(a, b string) bool {
	split := func(s string) []string { return regexp.MustCompile(`[.\-+]`).Split(s, -1) }
	as, bs := split(a), split(b)
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, ex := strconv.Atoi(as[i])
		y, ey := strconv.Atoi(bs[i])
		if ex == nil && ey == nil && x != y {
			return x < y
		}
		if (ex != nil || ey != nil) && as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}

func modName(path string) string {
	n := filepath.Base(path)
	n = n[:strings.Index(n, ".ko")]
	return strings.ReplaceAll(n, "-", "_")
}

// resolve returns the module files (relative to ModulesDir) to load, in
// load order, for Modules; built-in modules are skipped.
func (k Kernel) resolve() ([]string, error) {
	dep, err := os.ReadFile(filepath.Join(k.ModulesDir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	deps := map[string][]string{} // name -> [own path, deps...]
	for _, line := range strings.Split(string(dep), "\n") {
		path, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		deps[modName(path)] = append([]string{path}, strings.Fields(rest)...)
	}
	builtin := map[string]bool{}
	if b, err := os.ReadFile(filepath.Join(k.ModulesDir, "modules.builtin")); err == nil {
		for _, l := range strings.Fields(string(b)) {
			builtin[modName(l)] = true
		}
	}
	var order []string
	seen := map[string]bool{}
	for _, m := range Modules {
		d, ok := deps[m]
		if !ok {
			if builtin[m] {
				continue
			}
			return nil, fmt.Errorf("kernel %s: module %s not found", k.Version, m)
		}
		// modules.dep lists dependencies so that loading them last-first works.
		for i := len(d) - 1; i >= 1; i-- {
			if !seen[d[i]] {
				seen[d[i]] = true
				order = append(order, d[i])
			}
		}
		if !seen[d[0]] {
			seen[d[0]] = true
			order = append(order, d[0])
		}
	}
	return order, nil
}

// Options configure one lab run.
type Options struct {
	Kernel    Kernel
	Agent     string // static farmwatch-agent binary
	Init      string // static guest /init binary (./guest)
	EDIDDir   string // shared data/kvm/edid directory
	WorkDir   string
	Scenarios []string // names; empty = all
	Accel     string   // "tcg" (default) or "kvm"
	Timeout   time.Duration
}

// Result is one scenario's outcome.
type Result struct {
	Scenario string
	Exit     int
	Findings []Finding
	Info     []string // what the guest's host side enumerated
	Stderr   []string
}

// Finding is the part of the agent's JSON finding the lab looks at.
type Finding struct {
	Detector string         `json:"detector"`
	Rule     string         `json:"rule"`
	Category string         `json:"category"`
	Tool     string         `json:"tool"`
	Severity string         `json:"severity"`
	Summary  string         `json:"summary"`
	Evidence map[string]any `json:"evidence"`
}

// BuildGo builds a static Linux/amd64 binary of pkg (an import path or
// ./relative package) into out.
func BuildGo(ctx context.Context, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// Initramfs writes the guest's uncompressed newc cpio archive: /init, the
// agent, the modules (decompressed, with /lab/modules listing load order)
// and the scenarios' EDIDs.
func Initramfs(o Options, out string) error {
	mods, err := o.Kernel.resolve()
	if err != nil {
		return err
	}
	w := newCpio()
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp", "lab", "lab/edid", "lab/modules.d"} {
		w.dir(d)
	}
	w.node("dev/console", 0o020600, 5, 1)
	for _, f := range []struct{ src, dst string }{{o.Init, "init"}, {o.Agent, "bin/farmwatch-agent"}} {
		b, err := os.ReadFile(f.src)
		if err != nil {
			return err
		}
		w.file(f.dst, 0o755, b)
	}
	var list []string
	for _, m := range mods {
		b, err := readModule(filepath.Join(o.Kernel.ModulesDir, m))
		if err != nil {
			return err
		}
		dst := "lab/modules.d/" + modName(m) + ".ko"
		w.file(dst, 0o644, b)
		list = append(list, "/"+dst)
	}
	w.file("lab/modules", 0o644, []byte(strings.Join(list, "\n")+"\n"))
	for name, rel := range EDIDFiles {
		b, err := readEDID(filepath.Join(o.EDIDDir, rel))
		if err != nil {
			return err
		}
		w.file("lab/edid/"+name+".bin", 0o644, b)
	}
	return os.WriteFile(out, w.close(), 0o644)
}

// readModule returns a module's ELF image, decompressing .ko.xz/.ko.zst/.ko.gz
// with the host's tools (the guest loads it with init_module).
func readModule(path string) ([]byte, error) {
	var tool string
	switch filepath.Ext(path) {
	case ".ko":
		return os.ReadFile(path)
	case ".xz":
		tool = "xz"
	case ".zst":
		tool = "zstd"
	case ".gz":
		tool = "gzip"
	default:
		return nil, fmt.Errorf("%s: unknown module compression", path)
	}
	b, err := exec.Command(tool, "-dc", path).Output()
	if err != nil {
		return nil, fmt.Errorf("%s -dc %s: %w", tool, path, err)
	}
	return b, nil
}

// readEDID reads an EDID file: binary, or a hex dump as kvmd publishes.
func readEDID(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) >= 8 && bytes.Equal(b[:8], []byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0}) {
		return b, nil
	}
	var h strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		h.WriteString(strings.Join(strings.Fields(line), ""))
	}
	e, err := hex.DecodeString(h.String())
	if err != nil || len(e) < 128 || len(e)%128 != 0 {
		return nil, fmt.Errorf("%s: not an EDID hex dump (%v)", path, err)
	}
	return e, nil
}

// Boot runs QEMU once through all scenarios and returns the parsed
// results and the guest console log.
func Boot(ctx context.Context, o Options) ([]Result, string, error) {
	if len(o.Scenarios) == 0 {
		for _, s := range Scenarios {
			o.Scenarios = append(o.Scenarios, s.Name)
		}
	}
	if o.Timeout == 0 {
		o.Timeout = 150 * time.Second
	}
	initrd := filepath.Join(o.WorkDir, "initramfs.cpio")
	if err := Initramfs(o, initrd); err != nil {
		return nil, "", err
	}
	console, results := filepath.Join(o.WorkDir, "console.log"), filepath.Join(o.WorkDir, "results.log")
	accel := []string{"-accel", "tcg"}
	if o.Accel == "kvm" {
		accel = []string{"-enable-kvm"} // "-cpu host" aborts under nested KVM
	}
	args := append(accel,
		"-m", "512", "-smp", "1", "-nodefaults", "-no-reboot", "-display", "none", "-monitor", "none",
		"-vga", "std", // QEMU's stdvga: the bochs DRM driver, connector Virtual-1
		"-serial", "file:"+console, "-serial", "file:"+results,
		"-kernel", o.Kernel.Image, "-initrd", initrd,
		"-append", "console=ttyS0 quiet loglevel=4 panic=-1 farmwatch.lab="+strings.Join(o.Scenarios, ","),
	)
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", args...)
	var qout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &qout, &qout
	err := cmd.Run()
	con, _ := os.ReadFile(console)
	log := string(con)
	if qout.Len() > 0 {
		log += "\n[qemu] " + qout.String()
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("QEMU did not finish within %s", o.Timeout)
	} else if err != nil {
		err = fmt.Errorf("qemu-system-x86_64: %w", err)
	}
	f, rerr := os.Open(results)
	if rerr != nil {
		return nil, log, errors.Join(err, rerr)
	}
	defer f.Close()
	res, perr := Parse(f)
	if err == nil {
		err = perr
	}
	return res, log, err
}

// Parse reads the results serial port's output.
func Parse(r io.Reader) ([]Result, error) {
	var order []*Result
	byName := map[string]*Result{}
	get := func(name string) *Result {
		if p, ok := byName[name]; ok {
			return p
		}
		p := &Result{Scenario: name, Exit: -1}
		byName[name] = p
		order = append(order, p)
		return p
	}
	collect := func() []Result {
		var out []Result
		for _, p := range order {
			out = append(out, *p)
		}
		return out
	}
	var cur *Result
	done := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, MarkBegin):
			cur = get(strings.TrimPrefix(line, MarkBegin))
		case strings.HasPrefix(line, MarkEnd):
			name, exit, _ := strings.Cut(strings.TrimPrefix(line, MarkEnd), " exit=")
			n, _ := strconv.Atoi(exit)
			get(name).Exit = n
			cur = nil
		case strings.HasPrefix(line, MarkInfo), strings.HasPrefix(line, MarkStderr):
			rest := strings.TrimPrefix(strings.TrimPrefix(line, MarkInfo), MarkStderr)
			name, text, _ := strings.Cut(rest, ": ")
			if strings.HasPrefix(line, MarkInfo) {
				get(name).Info = append(get(name).Info, text)
			} else {
				get(name).Stderr = append(get(name).Stderr, text)
			}
		case line == MarkDone:
			done = true
		case cur != nil && strings.TrimSpace(line) != "":
			var f Finding
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				return collect(), fmt.Errorf("scenario %s: bad JSON line %q: %v", cur.Scenario, line, err)
			}
			cur.Findings = append(cur.Findings, f)
		}
	}
	if !done {
		return collect(), errors.New("the guest did not finish (no DONE marker)")
	}
	return collect(), sc.Err()
}

// cpio writes a newc ("070701") archive.
type cpio struct {
	buf bytes.Buffer
	ino int
}

func newCpio() *cpio { return &cpio{ino: 1} }

func (c *cpio) entry(name string, mode uint32, rdevMajor, rdevMinor int, data []byte) {
	c.ino++
	fmt.Fprintf(&c.buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.buf.WriteString(name)
	c.buf.WriteByte(0)
	c.pad()
	c.buf.Write(data)
	c.pad()
}

func (c *cpio) pad() {
	for c.buf.Len()%4 != 0 {
		c.buf.WriteByte(0)
	}
}

func (c *cpio) dir(name string) { c.entry(name, 0o040755, 0, 0, nil) }
func (c *cpio) file(name string, perm uint32, b []byte) {
	c.entry(name, 0o100000|perm, 0, 0, b)
}
func (c *cpio) node(name string, mode uint32, major, minor int) {
	c.entry(name, mode, major, minor, nil)
}

func (c *cpio) close() []byte {
	c.entry("TRAILER!!!", 0, 0, 0, nil)
	return c.buf.Bytes()
}
