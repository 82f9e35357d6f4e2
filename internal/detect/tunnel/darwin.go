package tunnel

import (
	"bufio"
	"bytes"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// macOS snapshot files: raw outputs of the commands the live seam runs.
const (
	FileNetstatRoutes = "netstat-rn.txt"   // netstat -rn (inet and inet6)
	FileScutilProxy   = "scutil-proxy.txt" // scutil --proxy
)

// parseNetstatRoutes parses `netstat -rn` output (macOS/BSD): sections
// "Internet:" and "Internet6:", each with a header naming its columns.
func parseNetstatRoutes(b []byte) []Route {
	var out []Route
	fam6 := false
	dstCol, gwCol, flagCol, ifCol := -1, -1, -1, -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "Internet6"):
			fam6 = true
			continue
		case strings.HasPrefix(line, "Internet"):
			fam6 = false
			continue
		case strings.HasPrefix(line, "Destination"):
			dstCol, gwCol, flagCol, ifCol = -1, -1, -1, -1
			for i, h := range strings.Fields(line) {
				switch h {
				case "Destination":
					dstCol = i
				case "Gateway":
					gwCol = i
				case "Flags":
					flagCol = i
				case "Netif", "Interface":
					ifCol = i
				}
			}
			continue
		}
		f := strings.Fields(line)
		if dstCol < 0 || ifCol < 0 || len(f) <= ifCol || len(f) <= dstCol || len(out) >= maxRoutes {
			continue
		}
		pfx, ok := bsdDest(f[dstCol], fam6)
		if !ok {
			continue
		}
		r := Route{Destination: pfx.String(), Interface: f[ifCol]}
		if gwCol >= 0 && gwCol < len(f) && !strings.HasPrefix(f[gwCol], "link#") {
			r.Gateway = f[gwCol]
		}
		if flagCol >= 0 && flagCol < len(f) {
			r.Scoped = strings.Contains(f[flagCol], "I")
			if !strings.Contains(f[flagCol], "U") {
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// bsdDest turns a BSD routing destination ("default", "0/1", "128.0/1",
// "10/8", "192.168.1", "fe80::%utun0/64") into a prefix.
func bsdDest(s string, v6 bool) (netip.Prefix, bool) {
	if s == "default" {
		if v6 {
			return netip.PrefixFrom(netip.IPv6Unspecified(), 0), true
		}
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), true
	}
	addr, bitsStr, hasBits := strings.Cut(s, "/")
	if i := strings.IndexByte(addr, '%'); i >= 0 {
		addr = addr[:i]
	}
	if v6 || strings.Contains(addr, ":") {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return netip.Prefix{}, false
		}
		bits := 128
		if hasBits {
			n, err := strconv.Atoi(bitsStr)
			if err != nil || n < 0 || n > 128 {
				return netip.Prefix{}, false
			}
			bits = n
		}
		p, err := a.Prefix(bits)
		return p, err == nil
	}
	parts := strings.Split(addr, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Prefix{}, false
	}
	var oct [4]byte
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 {
			return netip.Prefix{}, false
		}
		oct[i] = byte(n)
	}
	bits := 8 * len(parts)
	if hasBits {
		n, err := strconv.Atoi(bitsStr)
		if err != nil || n < 0 || n > 32 {
			return netip.Prefix{}, false
		}
		bits = n
	}
	p, err := netip.AddrFrom4(oct).Prefix(bits)
	return p, err == nil
}

// scutilProxyKinds maps `scutil --proxy` enable keys to the kind and the
// keys holding host and port.
var scutilProxyKinds = []struct{ enable, kind, host, port string }{
	{"HTTPEnable", "http", "HTTPProxy", "HTTPPort"},
	{"HTTPSEnable", "https", "HTTPSProxy", "HTTPSPort"},
	{"SOCKSEnable", "socks", "SOCKSProxy", "SOCKSPort"},
	{"FTPEnable", "ftp", "FTPProxy", "FTPPort"},
	{"RTSPEnable", "rtsp", "RTSPProxy", "RTSPPort"},
	{"GopherEnable", "gopher", "GopherProxy", "GopherPort"},
	{"ProxyAutoConfigEnable", "pac", "ProxyAutoConfigURLString", ""},
}

// parseScutilProxy parses `scutil --proxy` output: the top-level keys of
// the <dictionary>; nested arrays (ExceptionsList) are skipped.
func parseScutilProxy(b []byte) []ProxySetting {
	kv := map[string]string{}
	depth := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		opens := strings.HasSuffix(line, "{")
		if line == "}" {
			if depth > 0 {
				depth--
			}
			continue
		}
		if depth == 1 && !opens {
			if k, v, ok := strings.Cut(line, " : "); ok {
				kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		if opens {
			depth++
		}
	}
	var out []ProxySetting
	for _, k := range scutilProxyKinds {
		if kv[k.enable] != "1" {
			continue
		}
		v := kv[k.host]
		if k.port != "" && kv[k.port] != "" && v != "" {
			v += ":" + kv[k.port]
		}
		if v == "" {
			continue
		}
		out = append(out, ProxySetting{Source: "scutil --proxy", Kind: k.kind, Value: v})
	}
	if kv["ProxyAutoDiscoveryEnable"] == "1" {
		out = append(out, ProxySetting{Source: "scutil --proxy", Kind: "autodiscovery", Value: "WPAD"})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}
