package tunnel

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/source"
)

// seedFiles adds every fixture file with one of the given names as a seed.
func seedFiles(f *testing.F, names ...string) {
	f.Helper()
	_ = filepath.Walk(fixtures, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		for _, n := range names {
			if strings.HasSuffix(filepath.ToSlash(p), n) {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b)
				}
			}
		}
		return nil
	})
}

func checkRoutes(t *testing.T, rs []Route) {
	t.Helper()
	for _, r := range rs {
		if _, err := netip.ParsePrefix(r.Destination); err != nil {
			t.Fatalf("route destination %q: %v", r.Destination, err)
		}
	}
	_ = defaultRouteIfaces(rs)
}

func FuzzParseRoute(f *testing.F) {
	seedFiles(f, "proc/net/route")
	f.Fuzz(func(t *testing.T, b []byte) { checkRoutes(t, parseProcRoute(b)) })
}

func FuzzParseIPv6Route(f *testing.F) {
	seedFiles(f, "proc/net/ipv6_route")
	f.Fuzz(func(t *testing.T, b []byte) { checkRoutes(t, parseIPv6Route(b)) })
}

func FuzzParseIfInet6(f *testing.F) {
	seedFiles(f, "proc/net/if_inet6")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, as := range parseIfInet6(b) {
			for _, a := range as {
				if _, err := netip.ParsePrefix(a); err != nil {
					t.Fatalf("%q: %v", a, err)
				}
			}
		}
	})
}

func FuzzParseNetstatRoutes(f *testing.F) {
	seedFiles(f, FileNetstatRoutes)
	f.Fuzz(func(t *testing.T, b []byte) { checkRoutes(t, parseNetstatRoutes(b)) })
}

func FuzzParseScutilProxy(f *testing.F) {
	seedFiles(f, FileScutilProxy)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range parseScutilProxy(b) {
			if p.Value == "" || p.Kind == "" {
				t.Fatalf("empty setting %+v", p)
			}
		}
	})
}

func FuzzParseLinuxProxyFile(f *testing.F) {
	seedFiles(f, "etc/environment", "95proxy")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range parseLinuxProxyFile("/etc/x", b) {
			if p.Value == "" {
				t.Fatalf("empty setting %+v", p)
			}
		}
	})
}

func FuzzParseSysNet(f *testing.F) {
	f.Add("0x1091", "0x1001", "INTERFACE=tun0\nDEVTYPE=wireguard\n", "up")
	f.Fuzz(func(t *testing.T, flags, tunFlags, uevent, oper string) {
		ifc := parseSysNet("x", map[string]string{"flags": flags, "tun_flags": tunFlags, "uevent": uevent, "operstate": oper})
		switch ifc.Kind {
		case "", "tun", "tap", "wireguard":
		default:
			t.Fatalf("kind %q", ifc.Kind)
		}
		_, _ = classify(ifc, "linux")
	})
}

func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{
		"socat TCP-LISTEN:8443,fork,reuseaddr TCP:10.200.1.2:443",
		"ssh -N -D 1080 -o RemoteForward=9000 localhost:22 bob@host",
		"ngrok tcp 3389 --authtoken x --region eu",
		"cloudflared tunnel run --token=abc",
		"chisel client --auth u:p https://relay R:2222:localhost:22",
		"frpc tcp -s 1.2.3.4:7000 -l 22 -r 6022",
		"code tunnel --name box", "bore local 8000 --to bore.pub", "zrok share public localhost:8080",
		"ncat -lk 9001 --sh-exec 'ncat 10.0.0.1 22'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, " ")
		if red := redactArgs(args); len(red) != len(args) {
			t.Fatalf("redactArgs changed length")
		}
		_ = sshForwards(args)
		if l, o, ok := socatAddrs(args); ok {
			_ = socatTargetKind(o)
			_ = l
		}
		for _, n := range []string{"ngrok", "cloudflared", "code", "devtunnel", "frpc", "chisel", "bore", "zrok", "socat", "xray"} {
			argv := append([]string{n}, args...)
			_, _ = parseTunnelClient([]string{n}, argv)
			for _, tg := range configuredTargets(source.Process{Name: n, Cmdline: argv}, []string{n}, func(string) []byte { return []byte(s) }) {
				if tg.port == 0 || tg.spec == "" {
					t.Fatalf("target %+v from %q", tg, s)
				}
			}
		}
		_ = flagValue(args, "--url", "-c")
		_ = positionals(args, map[string]bool{"--x": true})
	})
}

func FuzzFrpConfig(f *testing.F) {
	f.Add([]byte("serverAddr = \"203.0.113.1\"\nserverPort = 7000\n[[proxies]]\nname = \"ssh\"\nlocalPort = 22\nremotePort = 6000\n"))
	f.Add([]byte("[common]\nserver_addr = 198.51.100.1\n[rdp]\ntype = tcp\nlocal_port = 3389\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, px, ls := frpConfig(b); len(px) > 100 || len(ls) > 100 {
			t.Fatalf("%d proxies, %d local targets", len(px), len(ls))
		}
	})
}

func FuzzParsePortProxyValue(f *testing.F) {
	f.Add("*/3389", "10.0.0.5/3389")
	f.Add("0.0.0.0/33890", "10.32.0.1/3389")
	f.Fuzz(func(t *testing.T, name, data string) {
		if pp, ok := parsePortProxyValue("v4tov4", name, data); ok && (pp.ListenPort == "" || pp.ConnectPort == "") {
			t.Fatalf("%+v", pp)
		}
		_ = proxyHost(data)
	})
}

func FuzzParseFdinfoIff(f *testing.F) {
	f.Add([]byte("pos:\t0\nflags:\t0100002\nmnt_id:\t25\nino:\t1042\niff:\tfwtun0\n"))
	f.Fuzz(func(t *testing.T, b []byte) { _ = parseFdinfoIff(b) })
}

func FuzzParseNetlinkDump(f *testing.F) {
	f.Add(wgQuickDump())
	f.Fuzz(func(t *testing.T, b []byte) {
		pr := parseNetlinkDump(b)
		checkRoutes(t, pr.Routes)
		_ = policyDefaultRoutes(pr)
	})
}

func FuzzLocalTargets(f *testing.F) {
	for _, s := range []string{"3389", "tcp://localhost:3389", "rdp://127.0.0.1", "[::1]:22", "R:0.0.0.0:2222:localhost:5900",
		"R:5900", "TCP:127.0.0.1:5900", "TCP4:[::1]:22,forever", "http://u:p@h:8080/x", "http_status:404"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, port, ok := parseTarget(s); ok && port == 0 {
			t.Fatalf("port 0 accepted from %q", s)
		}
		if spec, ok := chiselReverseTarget(s); ok {
			if _, _, ok := parseTarget(spec); !ok {
				t.Fatalf("chisel target %q of %q does not parse", spec, s)
			}
		}
		_, _ = socatConnectTarget(s)
		_ = isAbsAnyOS(s)
		_ = normAddr(s)
		_ = conventionService(uint32(len(s)))
	})
}

func FuzzXrayBridgeTargets(f *testing.F) {
	f.Add([]byte(`{"reverse":{"bridges":[{"tag":"b","domain":"d"}]},"outbounds":[{"protocol":"freedom","settings":{"redirect":"127.0.0.1:5900"}}]}`))
	f.Add([]byte("// c\n{\"reverse\":{\"bridges\":[1]},\"outbounds\":[{\"protocol\":\"freedom\",\"settings\":[]}]}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got := xrayBridgeTargets(b); len(got) > maxListed {
			t.Fatalf("%d targets", len(got))
		}
	})
}

func FuzzYamlValues(f *testing.F) {
	f.Add([]byte("tunnels:\n  desk:\n    proto: tcp\n    addr: 5901 # vnc\n"))
	f.Add([]byte("ingress:\n  - hostname: a\n    service: ssh://localhost:22\n  - service: http_status:404\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range yamlValues(b, "addr", "service", "url") {
			if v == "" {
				t.Fatal("empty value")
			}
		}
		if got := yamlValues(b, "addr"); len(got) > maxListed {
			t.Fatalf("%d values", len(got))
		}
	})
}
