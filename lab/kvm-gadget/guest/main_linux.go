//go:build linux

// Command guest is the /init of the IP-KVM lab's initramfs (see package
// kvmgadget). It mounts the pseudo file systems, loads the kernel modules
// listed in /lab/modules, then for each scenario named by farmwatch.lab= on
// the kernel command line: builds the USB gadget through configfs, binds it
// to dummy_hcd's UDC, waits until the host side has enumerated it, applies
// the scenario's EDID override, runs `farmwatch-agent scan --format json`
// and writes its output between markers to /dev/ttyS1; then tears the
// gadget down. It powers the machine off at the end.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"

	kvmgadget "github.com/farmwatch/farmwatch/lab/kvm-gadget"
)

const (
	agentBin  = "/bin/farmwatch-agent"
	gadgetDir = "/sys/kernel/config/usb_gadget/lab"
	usbDevs   = "/sys/bus/usb/devices"
)

var start = time.Now()

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stdout, "lab-init [%5.2fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
}

func main() {
	defer powerOff()
	for _, m := range []struct{ fs, dir string }{
		{"proc", "/proc"}, {"sysfs", "/sys"}, {"devtmpfs", "/dev"}, {"tmpfs", "/tmp"},
	} {
		_ = os.MkdirAll(m.dir, 0o755)
		if err := syscall.Mount(m.fs, m.dir, m.fs, 0, ""); err != nil {
			logf("mount %s: %v", m.dir, err)
		}
	}
	loadModules("/lab/modules")
	for _, m := range []struct{ fs, dir string }{
		{"configfs", "/sys/kernel/config"}, {"debugfs", "/sys/kernel/debug"},
	} {
		if err := syscall.Mount(m.fs, m.dir, m.fs, 0, ""); err != nil {
			logf("mount %s: %v", m.dir, err)
		}
	}
	out := os.Stdout
	if f, err := os.OpenFile("/dev/ttyS1", os.O_WRONLY, 0); err == nil {
		out = f
	} else {
		logf("no /dev/ttyS1 (%v): results go to the console", err)
	}
	var names []string
	cmdline, _ := os.ReadFile("/proc/cmdline")
	for _, a := range strings.Fields(string(cmdline)) {
		if v, ok := strings.CutPrefix(a, "farmwatch.lab="); ok {
			names = strings.Split(v, ",")
		}
	}
	udc := waitUDC()
	for _, name := range names {
		sc, ok := kvmgadget.ScenarioByName(name)
		if !ok {
			fmt.Fprintf(out, "%s%s: unknown scenario\n", kvmgadget.MarkInfo, name)
			continue
		}
		runScenario(out, sc, udc)
	}
	fmt.Fprintln(out, kvmgadget.MarkDone)
	out.Sync()
}

// loadModules insmods every module of the list ("path params" per line,
// dependencies first).
func loadModules(list string) {
	b, err := os.ReadFile(list)
	if err != nil {
		logf("modules: %v", err)
		return
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		path, params, _ := strings.Cut(line, " ")
		img, err := os.ReadFile(path)
		if err != nil {
			logf("module %s: %v", path, err)
			continue
		}
		p, _ := syscall.BytePtrFromString(params)
		_, _, e := syscall.Syscall(syscall.SYS_INIT_MODULE, uintptr(unsafe.Pointer(&img[0])), uintptr(len(img)), uintptr(unsafe.Pointer(p)))
		if e != 0 && e != syscall.EEXIST {
			logf("insmod %s: %v", filepath.Base(path), e)
			continue
		}
		n++
	}
	logf("loaded %d modules", n)
}

func waitUDC() string {
	for i := 0; i < 100; i++ {
		if ents, _ := os.ReadDir("/sys/class/udc"); len(ents) > 0 {
			return ents[0].Name()
		}
		time.Sleep(50 * time.Millisecond)
	}
	logf("no UDC (dummy_hcd not loaded?)")
	return ""
}

func write(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func runScenario(out *os.File, sc kvmgadget.Scenario, udc string) {
	info := func(format string, a ...any) {
		fmt.Fprintf(out, "%s%s: %s\n", kvmgadget.MarkInfo, sc.Name, fmt.Sprintf(format, a...))
	}
	logf("scenario %s: %s", sc.Name, sc.Description)
	if sc.Hotplug {
		runHotplug(out, info, sc, udc)
		return
	}
	if err := createGadget(sc.Gadget, udc); err != nil {
		info("gadget setup failed: %v", err)
	}
	dev := waitEnumerated(sc.Gadget)
	if dev == "" {
		info("host side did not enumerate the gadget within 15s")
	} else {
		describe(info, dev)
	}
	if err := applyEDID(sc.EDID); err != nil {
		info("EDID: %v", err)
	}
	for _, c := range connectors() {
		b, _ := os.ReadFile(c + "/edid")
		st, _ := os.ReadFile(c + "/status")
		info("display %s status=%s edid=%d bytes mfg=%s name=%q", filepath.Base(c), strings.TrimSpace(string(st)), len(b), pnpID(b), monitorName(b))
	}

	t := time.Now()
	cmd := exec.Command(agentBin, "scan", "--format", "json")
	cmd.Env = []string{"PATH=/bin", "HOME=/tmp", "TMPDIR=/tmp"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
		info("run agent: %v", err)
	}
	logf("scenario %s: agent exit %d in %.1fs", sc.Name, code, time.Since(t).Seconds())
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" {
			fmt.Fprintf(out, "%s%s: %s\n", kvmgadget.MarkStderr, sc.Name, l)
		}
	}
	fmt.Fprintf(out, "%s%s\n", kvmgadget.MarkBegin, sc.Name)
	out.Write(stdout.Bytes())
	if stdout.Len() > 0 && !bytes.HasSuffix(stdout.Bytes(), []byte("\n")) {
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "%s%s exit=%d\n", kvmgadget.MarkEnd, sc.Name, code)
	out.Sync()

	if err := removeGadget(); err != nil {
		logf("teardown: %v", err)
	}
	if dev != "" {
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(dev); err != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// createGadget builds the configfs gadget and binds it to udc.
func createGadget(g kvmgadget.Gadget, udc string) error {
	lang := fmt.Sprintf("0x%x", g.Lang)
	steps := []struct{ path, value string }{
		{"idVendor", fmt.Sprintf("0x%04x", g.VID)},
		{"idProduct", fmt.Sprintf("0x%04x", g.PID)},
		{"bcdDevice", fmt.Sprintf("0x%04x", g.BCDDevice)},
		{"bcdUSB", "0x0200"},
		{"strings/" + lang + "/manufacturer", g.Manufacturer},
		{"strings/" + lang + "/product", g.Product},
		{"strings/" + lang + "/serialnumber", g.Serial},
		{"configs/c.1/MaxPower", "100"},
	}
	if g.Configuration != "" {
		steps = append(steps, struct{ path, value string }{"configs/c.1/strings/" + lang + "/configuration", g.Configuration})
	}
	for _, d := range []string{"strings/" + lang, "configs/c.1/strings/" + lang} {
		if err := os.MkdirAll(filepath.Join(gadgetDir, d), 0o755); err != nil {
			return err
		}
	}
	for _, s := range steps {
		if err := write(filepath.Join(gadgetDir, s.path), s.value); err != nil {
			return err
		}
	}
	nHID, nMSD := 0, 0
	for _, f := range g.Functions {
		var name string
		switch f.Kind {
		case "hid":
			name = fmt.Sprintf("hid.usb%d", nHID)
			nHID++
		case "mass_storage":
			name = fmt.Sprintf("mass_storage.usb%d", nMSD)
			nMSD++
		}
		dir := filepath.Join(gadgetDir, "functions", name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		var err error
		switch f.Kind {
		case "hid":
			for _, s := range [][2]string{
				{"protocol", fmt.Sprint(f.Protocol)}, {"subclass", fmt.Sprint(f.SubClass)},
				{"report_length", fmt.Sprint(f.ReportLength)}, {"report_desc", string(f.ReportDesc)},
			} {
				if err = write(filepath.Join(dir, s[0]), s[1]); err != nil {
					return err
				}
			}
		case "mass_storage":
			img := fmt.Sprintf("/tmp/%s.img", name)
			if err = os.WriteFile(img, make([]byte, 1<<20), 0o644); err != nil {
				return err
			}
			lun := filepath.Join(dir, "lun.0")
			cd := "0"
			if f.CDROM {
				cd = "1"
			}
			for _, s := range [][2]string{{"removable", "1"}, {"cdrom", cd}, {"ro", "1"}, {"file", img}} {
				if err = write(filepath.Join(lun, s[0]), s[1]); err != nil {
					return err
				}
			}
			if f.Inquiry != "" {
				if err = write(filepath.Join(lun, "inquiry_string"), f.Inquiry); err != nil {
					return err
				}
			}
		}
		if err := os.Symlink(dir, filepath.Join(gadgetDir, "configs/c.1", name)); err != nil {
			return err
		}
	}
	return write(filepath.Join(gadgetDir, "UDC"), udc)
}

// removeGadget unbinds and deletes the gadget (configfs wants the
// reverse order of creation).
func removeGadget() error {
	if _, err := os.Stat(gadgetDir); err != nil {
		return nil
	}
	_ = write(filepath.Join(gadgetDir, "UDC"), "\n")
	links, _ := filepath.Glob(gadgetDir + "/configs/c.1/*.usb*")
	for _, l := range links {
		if err := os.Remove(l); err != nil {
			return err
		}
	}
	var dirs []string
	for _, g := range []string{"/configs/c.1/strings/*", "/configs/c.1", "/functions/*", "/strings/*"} {
		m, _ := filepath.Glob(gadgetDir + g)
		dirs = append(dirs, m...)
	}
	dirs = append(dirs, gadgetDir)
	for _, d := range dirs {
		if err := syscall.Rmdir(d); err != nil {
			return fmt.Errorf("rmdir %s: %w", d, err)
		}
	}
	return nil
}

func attr(dir, name string) string {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return strings.TrimSpace(string(b))
}

// waitEnumerated waits until the host side has the device with every
// interface bound to a driver (and mass storage's SCSI device scanned).
func waitEnumerated(g kvmgadget.Gadget) string {
	vid, pid := fmt.Sprintf("%04x", g.VID), fmt.Sprintf("%04x", g.PID)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		devs, _ := filepath.Glob(usbDevs + "/[0-9]*-*")
		for _, d := range devs {
			if strings.Contains(filepath.Base(d), ":") || attr(d, "idVendor") != vid || attr(d, "idProduct") != pid {
				continue
			}
			if ready(d, g) {
				time.Sleep(200 * time.Millisecond) // input/hidraw registration settles
				return d
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ""
}

func ready(dev string, g kvmgadget.Gadget) bool {
	ifs, _ := filepath.Glob(dev + "/" + filepath.Base(dev) + ":*")
	if len(ifs) != len(g.Functions) {
		return false
	}
	for i, f := range g.Functions {
		in := fmt.Sprintf("%s/%s:1.%d", dev, filepath.Base(dev), i)
		if _, err := os.Stat(in + "/driver"); err != nil {
			return false
		}
		switch f.Kind {
		case "hid":
			if m, _ := filepath.Glob(in + "/*:*.*/report_descriptor"); len(m) == 0 {
				return false
			}
		case "mass_storage":
			if m, _ := filepath.Glob(in + "/host*/target*/*:*/vendor"); len(m) == 0 {
				return false
			}
		}
	}
	return true
}

// describe reports what the host side enumerated (the lab's fidelity).
func describe(info func(string, ...any), dev string) {
	real, _ := filepath.EvalSymlinks(dev)
	info("host side: %s %s:%s speed=%s bMaxPacketSize0=%s version=%s manufacturer=%q product=%q serial=%q (%s)",
		filepath.Base(dev), attr(dev, "idVendor"), attr(dev, "idProduct"), attr(dev, "speed"), attr(dev, "bMaxPacketSize0"),
		attr(dev, "version"), attr(dev, "manufacturer"), attr(dev, "product"), attr(dev, "serial"), real)
	ifs, _ := filepath.Glob(dev + "/" + filepath.Base(dev) + ":*")
	for _, in := range ifs {
		drv, _ := os.Readlink(in + "/driver")
		s := fmt.Sprintf("  %s class=%s/%s/%s interface=%q driver=%s", filepath.Base(in), attr(in, "bInterfaceClass"),
			attr(in, "bInterfaceSubClass"), attr(in, "bInterfaceProtocol"), attr(in, "interface"), filepath.Base(drv))
		if m, _ := filepath.Glob(in + "/host*/target*/*:*"); len(m) > 0 {
			s += fmt.Sprintf(" scsi=%q/%q", attr(m[0], "vendor"), attr(m[0], "model"))
		}
		info("%s", s)
	}
}

func connectors() []string {
	m, _ := filepath.Glob("/sys/class/drm/card*-*")
	return m
}

// overridden is set while an EDID override is applied; original holds each
// connector's own EDID (QEMU's "QEMU Monitor") from before the first one.
var (
	overridden bool
	original   = map[string][]byte{}
)

// applyEDID forces the named EDID onto every DRM connector through
// debugfs edid_override and re-probes; "" restores the display's own EDID
// (written back as the override: bochs forgets QEMU's EDID on "reset").
// Linux 6.1's bochs honours the override; 6.12's keeps QEMU's EDID, which
// the check at the end reports.
func applyEDID(name string) error {
	if name == "" && !overridden {
		return nil
	}
	var data []byte
	if name != "" {
		var err error
		if data, err = os.ReadFile("/lab/edid/" + name + ".bin"); err != nil {
			return err
		}
		if !overridden {
			for _, c := range connectors() {
				original[c], _ = os.ReadFile(c + "/edid")
			}
		}
	}
	overridden = name != ""
	cs := connectors()
	if len(cs) == 0 {
		if name != "" {
			return fmt.Errorf("no DRM connector")
		}
		return nil
	}
	for _, c := range cs {
		base := filepath.Base(c) // card0-Virtual-1
		card, conn, _ := strings.Cut(base, "-")
		ovr := fmt.Sprintf("/sys/kernel/debug/dri/%s/%s/edid_override", strings.TrimPrefix(card, "card"), conn)
		want := data
		if name == "" {
			want = original[c]
		}
		var err error
		if len(want) > 0 {
			err = os.WriteFile(ovr, want, 0o644)
		} else {
			err = os.WriteFile(ovr, []byte("reset"), 0o644)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", ovr, err)
		}
		_ = write(c+"/status", "detect")
		if got, _ := os.ReadFile(c + "/edid"); !bytes.Equal(got, want) {
			return fmt.Errorf("%s/edid shows %d bytes after the override, not the %d written", c, len(got), len(want))
		}
	}
	return nil
}

func pnpID(b []byte) string {
	if len(b) < 10 {
		return ""
	}
	v := uint16(b[8])<<8 | uint16(b[9])
	return string([]byte{byte('@' + v>>10&0x1f), byte('@' + v>>5&0x1f), byte('@' + v&0x1f)})
}

func monitorName(b []byte) string {
	for off := 54; off+18 <= len(b) && off <= 108; off += 18 {
		if b[off] == 0 && b[off+1] == 0 && b[off+3] == 0xfc {
			return strings.TrimSpace(strings.SplitN(string(b[off+5:off+18]), "\n", 2)[0])
		}
	}
	return ""
}

func powerOff() {
	syscall.Sync()
	logf("power off")
	_ = syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

// runHotplug starts `farmwatch-agent run` (hardware detector only, on its
// 10-minute interval, so only a hot-plug trigger can explain a report),
// lets its start-up scan finish, plugs the gadget in and measures the time
// until the agent writes a hardware finding on stdout.
func runHotplug(out *os.File, info func(string, ...any), sc kvmgadget.Scenario, udc string) {
	cfg := "/tmp/hotplug.yaml"
	conf := "log: {level: info}\ndetectors:\n  remoteaccess: {enabled: false}\n  tunnel: {enabled: false}\n  traffic: {enabled: false}\n  hardware: {interval: 10m}\nreport:\n  stdout: true\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		info("write config: %v", err)
		return
	}
	cmd := exec.Command(agentBin, "run", "--config", cfg)
	cmd.Env = []string{"PATH=/bin", "HOME=/tmp", "TMPDIR=/tmp"}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		info("pipe: %v", err)
		return
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		info("start agent: %v", err)
		return
	}
	lines := make(chan string, 256)
	go func() {
		buf := make([]byte, 0, 1<<16)
		tmp := make([]byte, 1<<16)
		for {
			n, err := stdout.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for {
				i := bytes.IndexByte(buf, '\n')
				if i < 0 {
					break
				}
				lines <- string(buf[:i])
				buf = buf[i+1:]
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	time.Sleep(4 * time.Second) // start-up scan of an empty bus
	var found []string
	t0 := time.Now()
	if err := createGadget(sc.Gadget, udc); err != nil {
		info("gadget setup failed: %v", err)
	}
	deadline := time.After(15 * time.Second)
	latency := time.Duration(-1)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break wait
			}
			found = append(found, l)
			if strings.Contains(l, `"category":"remote-access-hardware"`) && latency < 0 {
				latency = time.Since(t0)
				break wait
			}
		case <-deadline:
			break wait
		}
	}
	info("hotplug_latency_ms=%d", latency.Milliseconds())
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" && !strings.Contains(l, `"level":"info"`) {
			fmt.Fprintf(out, "%s%s: %s\n", kvmgadget.MarkStderr, sc.Name, l)
		}
	}
	fmt.Fprintf(out, "%s%s\n", kvmgadget.MarkBegin, sc.Name)
	for _, l := range found {
		fmt.Fprintln(out, l)
	}
	fmt.Fprintf(out, "%s%s exit=%d\n", kvmgadget.MarkEnd, sc.Name, code)
	out.Sync()
	if err := removeGadget(); err != nil {
		logf("teardown: %v", err)
	}
	time.Sleep(time.Second)
}
