package tunnel

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/internal/source/hostpath"
)

// Linux sources, relative to the source root (live "/" or a snapshot).
const (
	linuxSysNet     = "sys/class/net"
	linuxRoute      = "proc/net/route"
	linuxRoute6     = "proc/net/ipv6_route"
	linuxIfInet6    = "proc/net/if_inet6"
	linuxIPForward  = "proc/sys/net/ipv4/ip_forward"
	maxSmallFile    = 4 << 20
	maxInterfaces   = 4096
	maxRoutes       = 100000
	maxProxyEntries = 1000
)

// sysNetFiles are the per-interface sysfs attributes read (and recorded).
var sysNetFiles = []string{"type", "flags", "operstate", "carrier", "tun_flags", "uevent", "ifindex", "mtu", "address"}

// linuxProxyFiles are files that configure a system-wide or package
// manager proxy; directories are read one level deep.
var linuxProxyFiles = []string{
	"etc/environment",
	"etc/apt/apt.conf",
	"etc/apt/apt.conf.d",
	"etc/dnf/dnf.conf",
	"etc/yum.conf",
	"etc/profile.d",
	"etc/wgetrc",
}

// readFileLimited reads a file of at most maxSmallFile bytes; a missing
// file is (nil, nil).
func readFileLimited(p string) ([]byte, error) { return source.ReadOptionalFile(p, maxSmallFile) }

// readLinux reads interfaces, routes, proxy configuration and forwarding
// state under root. extra are interfaces.json records (addresses).
func readLinux(root string, extra []Interface, owners []TunOwner) (*HostNet, error) {
	hn := &HostNet{}
	var errs []error
	ents, err := os.ReadDir(hostpath.Root(root).File(linuxSysNet))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	byName := map[string]Interface{}
	for _, e := range extra {
		byName[e.Name] = e
	}
	v6 := map[string][]string{}
	if b, err := readFileLimited(hostpath.Root(root).File(linuxIfInet6)); err != nil {
		errs = append(errs, err)
	} else {
		v6 = parseIfInet6(b)
	}
	seen := map[string]bool{}
	for i, e := range ents {
		if i >= maxInterfaces {
			break
		}
		attrs := map[string]string{}
		for _, f := range sysNetFiles {
			b, err := readFileLimited(hostpath.Root(root).File(linuxSysNet, e.Name(), f))
			if err == nil && b != nil {
				attrs[f] = string(b)
			}
		}
		ifc := parseSysNet(e.Name(), attrs)
		if x, ok := byName[ifc.Name]; ok {
			ifc.Addresses = x.Addresses
			if ifc.Hardware == "" {
				ifc.Hardware = x.Hardware
			}
		}
		for _, a := range v6[ifc.Name] {
			if !contains(ifc.Addresses, a) {
				ifc.Addresses = append(ifc.Addresses, a)
			}
		}
		seen[ifc.Name] = true
		hn.Interfaces = append(hn.Interfaces, ifc)
	}
	// Interfaces only interfaces.json knows (a snapshot without sysfs).
	for _, x := range extra {
		if !seen[x.Name] {
			hn.Interfaces = append(hn.Interfaces, x)
		}
	}
	attachOwners(hn.Interfaces, owners)
	if b, err := readFileLimited(hostpath.Root(root).File(linuxRoute)); err != nil {
		errs = append(errs, err)
	} else {
		hn.Routes = append(hn.Routes, parseProcRoute(b)...)
	}
	if b, err := readFileLimited(hostpath.Root(root).File(linuxRoute6)); err != nil {
		errs = append(errs, err)
	} else {
		hn.Routes = append(hn.Routes, parseIPv6Route(b)...)
	}
	if b, err := readFileLimited(hostpath.Root(root).File(linuxIPForward)); err == nil {
		hn.IPForward = strings.TrimSpace(string(b))
	}
	for _, p := range linuxProxyFiles {
		for _, f := range expandDir(hostpath.Root(root).File(p)) {
			b, err := readFileLimited(f)
			if err != nil || b == nil {
				continue
			}
			rel, _ := filepath.Rel(root, f)
			hn.Proxies = append(hn.Proxies, parseLinuxProxyFile("/"+filepath.ToSlash(rel), b)...)
		}
	}
	if len(hn.Proxies) > maxProxyEntries {
		hn.Proxies = hn.Proxies[:maxProxyEntries]
	}
	return hn, errors.Join(errs...)
}

func attachOwners(ifs []Interface, owners []TunOwner) {
	for i := range ifs {
		for _, o := range owners {
			if o.Interface == ifs[i].Name {
				ifs[i].Owners = append(ifs[i].Owners, o)
			}
		}
	}
}

// expandDir returns p itself, or the regular files directly in p when it is
// a directory (sorted).
func expandDir(p string) []string {
	st, err := os.Stat(p)
	if err != nil {
		return nil
	}
	if !st.IsDir() {
		return []string{p}
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0 {
			out = append(out, filepath.Join(p, e.Name()))
		}
		if len(out) >= 500 {
			break
		}
	}
	sort.Strings(out)
	return out
}

// parseSysNet builds an Interface from sysfs attribute file contents.
func parseSysNet(name string, attrs map[string]string) Interface {
	ifc := Interface{Name: name}
	get := func(k string) string { return strings.TrimSpace(attrs[k]) }
	if v, err := strconv.ParseUint(strings.TrimPrefix(get("flags"), "0x"), 16, 32); err == nil {
		ifc.Up = v&1 != 0
	} else if get("operstate") == "up" {
		ifc.Up = true
	}
	ifc.Carrier = get("carrier")
	ifc.Index, _ = strconv.Atoi(get("ifindex"))
	ifc.MTU, _ = strconv.Atoi(get("mtu"))
	if hw := get("address"); hw != "" && hw != "00:00:00:00:00:00" {
		ifc.Hardware = hw
	}
	if tf := get("tun_flags"); tf != "" {
		if v, err := strconv.ParseUint(strings.TrimPrefix(tf, "0x"), 16, 32); err == nil {
			switch {
			case v&0x2 != 0:
				ifc.Kind = "tap"
			default:
				ifc.Kind = "tun"
			}
		}
	}
	for _, line := range strings.Split(attrs["uevent"], "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && k == "DEVTYPE" {
			switch v {
			case "wireguard":
				ifc.Kind = "wireguard"
			case "tun", "tap":
				if ifc.Kind == "" {
					ifc.Kind = v
				}
			}
		}
	}
	return ifc
}

// parseProcRoute parses /proc/net/route (IPv4, main table): little-endian
// hex destination, gateway and mask.
func parseProcRoute(b []byte) []Route {
	var out []Route
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 1<<20)
	first := true
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if first {
			first = false
			if len(fields) > 0 && fields[0] == "Iface" {
				continue
			}
		}
		if len(fields) < 8 || len(out) >= maxRoutes {
			continue
		}
		dst, ok1 := hexIPv4(fields[1])
		gw, ok2 := hexIPv4(fields[2])
		mask, ok3 := hexIPv4(fields[7])
		flags, err := strconv.ParseUint(fields[3], 16, 32)
		if !ok1 || !ok2 || !ok3 || err != nil || flags&0x1 == 0 { // RTF_UP
			continue
		}
		bits := maskBits(mask)
		if bits < 0 {
			continue
		}
		pfx, err := dst.Prefix(bits)
		if err != nil {
			continue
		}
		metric, _ := strconv.Atoi(fields[6])
		r := Route{Destination: pfx.String(), Interface: fields[0], Metric: metric}
		if flags&0x2 != 0 { // RTF_GATEWAY
			r.Gateway = gw.String()
		}
		out = append(out, r)
	}
	return out
}

func hexIPv4(s string) (netip.Addr, bool) {
	if len(s) != 8 {
		return netip.Addr{}, false
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return netip.Addr{}, false
	}
	v := binary.LittleEndian.Uint32(raw)
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a), true
}

// maskBits returns the prefix length of a contiguous netmask, -1 otherwise.
func maskBits(m netip.Addr) int {
	b := m.As4()
	v := binary.BigEndian.Uint32(b[:])
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return -1
	}
	return n
}

// parseIPv6Route parses /proc/net/ipv6_route.
func parseIPv6Route(b []byte) []Route {
	var out []Route
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || len(out) >= maxRoutes {
			continue
		}
		dst, ok := hexIPv6(f[0])
		bits, err := strconv.ParseUint(f[1], 16, 8)
		if !ok || err != nil || bits > 128 {
			continue
		}
		flags, err := strconv.ParseUint(f[8], 16, 32)
		if err != nil || flags&0x1 == 0 || flags&0x0200 != 0 || f[9] == "lo" { // RTF_UP, not RTF_REJECT
			continue
		}
		pfx, err := dst.Prefix(int(bits))
		if err != nil {
			continue
		}
		metric, _ := strconv.ParseUint(f[5], 16, 32)
		r := Route{Destination: pfx.String(), Interface: f[9], Metric: int(metric)}
		if gw, ok := hexIPv6(f[4]); ok && !gw.IsUnspecified() {
			r.Gateway = gw.String()
		}
		out = append(out, r)
	}
	return out
}

func hexIPv6(s string) (netip.Addr, bool) {
	if len(s) != 32 {
		return netip.Addr{}, false
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16([16]byte(raw)), true
}

// parseIfInet6 parses /proc/net/if_inet6 into CIDR addresses per interface.
func parseIfInet6(b []byte) map[string][]string {
	out := map[string][]string{}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		a, ok := hexIPv6(f[0])
		bits, err := strconv.ParseUint(f[2], 16, 8)
		if !ok || err != nil || bits > 128 {
			continue
		}
		if n++; n > maxRoutes {
			break
		}
		out[f[5]] = append(out[f[5]], netip.PrefixFrom(a, int(bits)).String())
	}
	return out
}

// parseLinuxProxyFile finds proxy settings in an environment file, an apt
// configuration file or a dnf/yum configuration file.
func parseLinuxProxyFile(source string, b []byte) []ProxySetting {
	var out []ProxySetting
	for _, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") {
			continue
		}
		// apt: Acquire::http::Proxy "http://p:3128/"; (also Acquire { http::Proxy ... })
		low := strings.ToLower(line)
		if i := strings.Index(low, "::proxy"); i >= 0 && strings.Contains(low, "acquire") || strings.HasPrefix(low, "http::proxy") || strings.HasPrefix(low, "https::proxy") || strings.HasPrefix(low, "ftp::proxy") {
			kind := "http"
			for _, k := range []string{"https", "ftp", "socks"} {
				if strings.Contains(low, k+"::proxy") {
					kind = k
				}
			}
			v := aptValue(line)
			// A per-host override (Acquire::http::Proxy::host "DIRECT") is not a proxy.
			if v != "" && !strings.EqualFold(v, "DIRECT") && !strings.EqualFold(v, "false") {
				out = append(out, ProxySetting{Source: source, Kind: kind, Value: redactURL(v)})
			}
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		if v == "" || strings.Contains(v, "$") {
			continue
		}
		switch k {
		case "http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "socks_proxy", "rsync_proxy":
			out = append(out, ProxySetting{Source: source, Kind: strings.TrimSuffix(k, "_proxy"), Value: redactURL(v)})
		case "proxy": // dnf.conf / yum.conf
			if !strings.EqualFold(v, "_none_") {
				out = append(out, ProxySetting{Source: source, Kind: "http", Value: redactURL(v)})
			}
		}
		if len(out) >= maxProxyEntries {
			break
		}
	}
	return out
}

// aptValue extracts the quoted value of an apt configuration statement.
func aptValue(line string) string {
	i := strings.IndexByte(line, '"')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(line[i+1:], '"')
	if j < 0 {
		return ""
	}
	return strings.TrimSpace(line[i+1 : i+1+j])
}

// redactURL removes a password from a proxy URL (user:pass@host).
func redactURL(v string) string {
	at := strings.LastIndexByte(v, '@')
	if at < 0 {
		return v
	}
	pre := v[:at]
	scheme := ""
	if i := strings.Index(pre, "://"); i >= 0 {
		scheme, pre = pre[:i+3], pre[i+3:]
	}
	if u, _, ok := strings.Cut(pre, ":"); ok {
		return scheme + u + ":REDACTED" + v[at:]
	}
	return v
}

// scanTunOwners finds processes holding /dev/net/tun open and the device
// each file descriptor is attached to (the "iff:" line of its fdinfo).
func scanTunOwners(root string) []TunOwner {
	procDir := hostpath.Root(root).File("proc")
	ents, err := os.ReadDir(procDir)
	if err != nil {
		return nil
	}
	var out []TunOwner
	for i, e := range ents {
		if i > 200000 || len(out) > 10000 {
			break
		}
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		fdDir := filepath.Join(procDir, e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for j, fd := range fds {
			if j > 65536 {
				break
			}
			target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || target != "/dev/net/tun" {
				continue
			}
			info, err := readFileLimited(filepath.Join(procDir, e.Name(), "fdinfo", fd.Name()))
			if err != nil {
				continue
			}
			iff := parseFdinfoIff(info)
			if iff == "" {
				continue
			}
			o := TunOwner{PID: int32(pid), Interface: iff}
			if b, err := readFileLimited(filepath.Join(procDir, e.Name(), "comm")); err == nil {
				o.Name = strings.TrimSpace(string(b))
			}
			o.Exe, _ = os.Readlink(filepath.Join(procDir, e.Name(), "exe"))
			out = append(out, o)
		}
	}
	return out
}

// parseFdinfoIff returns the interface name of a /dev/net/tun fdinfo.
func parseFdinfoIff(b []byte) string {
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "iff" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
