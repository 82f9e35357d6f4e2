package tunnel

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

const fixtures = "../../../testdata/tunnel"

func scanFixture(t *testing.T, name string) []report.Finding {
	t.Helper()
	src, err := source.OpenSnapshot(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := New(Settings{ReportDownInterfaces: true})
	hi := src.Host()
	fs, err := d.Detect(context.Background(), detect.Env{Source: src, Host: report.Host{Name: hi.Hostname, ID: hi.HostID}, Logger: zap.NewNop(), Now: time.Now()})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for i := range fs {
		fs[i].Detector = Name
		if err := fs[i].Validate(); err != nil {
			t.Errorf("%s: invalid finding: %v", name, err)
		}
	}
	return fs
}

type want struct {
	rule, tool string
	sev        report.Severity
	// evidence key → substring of its printed value
	ev map[string]string
}

func dump(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s %s %s\n", f.Severity, f.Rule, f.Tool, f.Summary)
	}
	return b.String()
}

func TestFixtures(t *testing.T) {
	cases := []struct {
		dir   string
		want  []want
		count int // exact number of findings, -1 for any
	}{
		{"linux-vpn", []want{
			{"tunnel.interface.default_route", "openvpn", report.SeverityMedium, map[string]string{"interface": "tun0", "pids": "900", "default_routes": "0.0.0.0/1", "addresses": "10.8.0.6/24"}},
			{"tunnel.interface.up", "wireguard", report.SeverityLow, map[string]string{"interface": "wg0", "driver": "wireguard"}},
			{"tunnel.interface.up", "tailscale", report.SeverityLow, map[string]string{"addresses": "100.101.102.103/32"}},
			{"tunnel.interface.up", "zerotier", report.SeverityLow, map[string]string{"interface": "ztabcdef12"}},
			{"tunnel.interface.down", "tap", report.SeverityInfo, map[string]string{"interface": "tap1"}},
			{"tunnel.relay.listener", "socat", report.SeverityMedium, map[string]string{"pids": "1001", "forward_to": "TCP:10.200.1.2:443", "inbound_connections": "192.168.1.77", "listening": "0.0.0.0:8443", "outbound_connections": "to 10.200.1.2:443"}},
			{"tunnel.relay.listener", "ncat", report.SeverityMedium, map[string]string{"forward_to": "ncat 10.200.1.2 22"}},
			{"tunnel.relay.ssh_remote_forward", "ssh", report.SeverityMedium, map[string]string{"pids": "1202", "listening": "0.0.0.0:5901"}},
			{"tunnel.relay.ssh_forward", "ssh", report.SeverityLow, map[string]string{"dynamic_forwards": "1080", "listening": "127.0.0.1:1080"}},
			{"tunnel.proxy.server", "tinyproxy", report.SeverityLow, map[string]string{"listening": "127.0.0.1:8888"}},
			{"tunnel.client.forward", "ngrok", report.SeverityMedium, map[string]string{"mode": "tcp", "local_target": "3389", "cmdline": "REDACTED"}},
			{"tunnel.client.forward", "frp", report.SeverityMedium, map[string]string{"relay_server": "198.51.100.20:7000", "local_target": "127.0.0.1:22"}},
			{"tunnel.client.forward", "chisel", report.SeverityMedium, map[string]string{"relay_server": "https://relay.example.com", "forwards": "R:2222:localhost:22"}},
			{"tunnel.client.forward", "vscode-tunnel", report.SeverityMedium, map[string]string{"public_endpoint": "farm-box-7"}},
			{"tunnel.proxy.configured", "system-proxy", report.SeverityLow, map[string]string{"source": "/etc/environment", "settings": "relay:REDACTED@203.0.113.7:3128"}},
			{"tunnel.proxy.configured", "system-proxy", report.SeverityLow, map[string]string{"source": "/etc/apt/apt.conf.d/95proxy"}},
			{"tunnel.forwarding.enabled", "ip-forward", report.SeverityLow, nil},
			// Configured forwards to this host's own remote-control ports, no session live.
			{ruleLocalRelay, "ngrok", report.SeverityHigh, map[string]string{"observed": "configured", "service": "rdp", "configured_targets": "tcp 3389", "pids": "1300"}},
			{ruleLocalRelay, "frp", report.SeverityHigh, map[string]string{"observed": "configured", "service": "ssh", "listener_name": "sshd", "configured_targets": "127.0.0.1:22"}},
			{ruleLocalRelay, "chisel", report.SeverityHigh, map[string]string{"observed": "configured", "service": "ssh", "configured_targets": "R:2222:localhost:22"}},
		}, 20},
		{"linux-relay", []want{
			// A socat copied as "syncd" dialling out to a controller and into x11vnc.
			{ruleLocalRelay, "unknown", report.SeverityHigh, map[string]string{"pids": "[2100]", "name": "syncd", "listener_name": "x11vnc", "listener_pids": "2000",
				"listener": "127.0.0.1:5900", "service": "vnc", "listener_tool": "x11vnc", "outside_endpoints": "tcp/203.0.113.9:7000 (outbound)", "direction": "outbound", "observed": "live"}},
			// A forking socat port forward accepting from outside into sshd.
			{ruleLocalRelay, "socat", report.SeverityHigh, map[string]string{"pids": "2201", "listener_name": "sshd", "accepted_by": "sshd (pid 1211)", "service": "ssh",
				"outside_endpoints": "tcp/198.51.100.7:55000 (inbound)", "direction": "inbound", "observed": "live+configured"}},
			// An unknown binary into xrdp over IPv6 loopback.
			{ruleLocalRelay, "unknown", report.SeverityHigh, map[string]string{"name": "svc-helper", "listener_name": "xrdp", "service": "rdp", "local_connections": "[::1]:50500 → [::1]:3389",
				"outside_endpoints": "2001:db8:ffff::50", "cmdline": "REDACTED"}},
			{"tunnel.relay.listener", "socat", report.SeverityMedium, map[string]string{"pids": "2200"}},
			{"tunnel.relay.ssh_forward", "ssh", report.SeverityLow, map[string]string{"pids": "3500"}},
		}, 5},
		{"windows-relay", []want{
			{ruleLocalRelay, "unknown", report.SeverityHigh, map[string]string{"name": "RuntimeBroker64.exe", "pids": "4420", "listener_name": "svchost.exe", "listener_pids": "1100",
				"service": "rdp", "outside_endpoints": "203.0.113.50:443", "local_connections": "127.0.0.1:50123 → 127.0.0.1:3389"}},
			{ruleLocalRelay, "ngrok", report.SeverityHigh, map[string]string{"name": "ngrok.exe", "listener_name": "tvnserver.exe", "listener_tool": "tightvnc", "service": "vnc",
				"local_connections": "[::1]:50200 → [::1]:5900", "configured_targets": "tcp 5900", "observed": "live+configured", "cmdline": "REDACTED"}},
			{"tunnel.client.forward", "ngrok", report.SeverityMedium, nil},
		}, 3},
		{"macos-relay", []want{
			{ruleLocalRelay, "cloudflared", report.SeverityHigh, map[string]string{"pids": "800", "listener_name": "launchd", "accepted_by": "screensharingd (pid 700)", "service": "vnc",
				"outside_endpoints": "udp/198.41.200.13:7844", "configured_targets": "--url tcp://localhost:5900"}},
			{ruleLocalRelay, "unknown", report.SeverityHigh, map[string]string{"name": "helperd", "accepted_by": "sshd (pid 950)", "service": "ssh", "observed": "live", "cmdline": "REDACTED"}},
			{"tunnel.client.forward", "cloudflared", report.SeverityMedium, nil},
		}, 3},
		{"linux-clean", nil, 0},
		{"linux-wgquick", []want{
			{"tunnel.interface.default_route", "wireguard", report.SeverityMedium, map[string]string{"interface": "wg0", "default_routes": "0.0.0.0/0 (table 51820)"}},
		}, 1},
		{"windows-astrill", []want{
			{"tunnel.vpn.astrill", "astrill-vpn", report.SeverityMedium, map[string]string{"pids": "6120", "files": "ASProxy64.dll"}},
			{"tunnel.interface.default_route", "astrill-vpn", report.SeverityMedium, map[string]string{"description": "TAP-Windows Adapter V9", "default_routes": "128.0.0.0/1"}},
			{"tunnel.relay.portproxy", "netsh-portproxy", report.SeverityMedium, map[string]string{"listen": "0.0.0.0:33890", "forward_to": "10.32.0.1:3389"}},
			{"tunnel.relay.portproxy", "netsh-portproxy", report.SeverityLow, map[string]string{"listen": "127.0.0.1:15432"}},
			{"tunnel.proxy.configured", "system-proxy", report.SeverityLow, map[string]string{"settings": "all=127.0.0.1:3213", "local_proxy": "true"}},
		}, 5},
		{"windows-wireguard", []want{
			{"tunnel.interface.default_route", "wireguard", report.SeverityMedium, map[string]string{"interface": "wg-home", "default_routes": "0.0.0.0/0"}},
			{"tunnel.interface.up", "tailscale", report.SeverityLow, map[string]string{"description": "Tailscale Tunnel"}},
			{"tunnel.interface.down", "zerotier", report.SeverityInfo, nil},
			{"tunnel.client.forward", "cloudflared", report.SeverityMedium, map[string]string{"mode": "tunnel run", "uses_token": "true", "connected_to": "198.41.192.7:7844", "cmdline": "REDACTED"}},
		}, 4},
		{"windows-clean", []want{
			{"tunnel.proxy.configured", "system-proxy", report.SeverityLow, map[string]string{"settings": "pac=http://wpad.corp.example/proxy.pac"}},
		}, 1},
		{"macos-vpn", []want{
			{"tunnel.interface.default_route", "astrill-vpn", report.SeverityMedium, map[string]string{"interface": "utun4"}},
			{"tunnel.interface.up", "tailscale", report.SeverityLow, map[string]string{"interface": "utun5"}},
			{"tunnel.relay.ssh_forward", "ssh", report.SeverityMedium, map[string]string{"gateway_ports": "true", "inbound_connections": "192.168.1.88"}},
			{"tunnel.proxy.configured", "system-proxy", report.SeverityLow, map[string]string{"settings": "socks=127.0.0.1:1080", "local_listeners": "ssh (pid 501)"}},
			{"tunnel.vpn.astrill", "astrill-vpn", report.SeverityMedium, map[string]string{"files": "/Applications/Astrill.app"}},
		}, 5},
		{"macos-clean", nil, 0},
		// Consumer VPN clients by process and service name (vpnclients.tsv).
		{"windows-consumer-vpn", []want{
			{"tunnel.vpn.consumer_client", "protonvpn", report.SeverityLow, map[string]string{"pids": "5100", "matched": "process:protonvpnservice (from_writeups)"}},
			{"tunnel.vpn.consumer_client", "nordvpn", report.SeverityLow, map[string]string{"pids": "5300"}},
			{"tunnel.vpn.consumer_client", "softether", report.SeverityLow, map[string]string{"services": "SEVPNCLIENT (stopped)"}},
			{"tunnel.vpn.consumer_client", "hamachi", report.SeverityLow, map[string]string{"services": "Hamachi2Svc (running)"}},
			{"tunnel.proxy.configured", "system-proxy", report.SeverityLow, nil},
		}, 5},
		{"macos-consumer-vpn", []want{
			{"tunnel.vpn.consumer_client", "expressvpn", report.SeverityLow, map[string]string{"pids": "700", "matched": "bundle:ExpressVPN.app"}},
			{"tunnel.vpn.consumer_client", "tunnelbear", report.SeverityLow, map[string]string{"pids": "720"}},
		}, 2},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			fs := scanFixture(t, c.dir)
			if c.count >= 0 && len(fs) != c.count {
				t.Errorf("%d findings, want %d:\n%s", len(fs), c.count, dump(fs))
			}
			if strings.HasSuffix(c.dir, "-clean") {
				if sev, ok := report.MaxSeverity(fs); ok && sev >= report.SeverityMedium {
					t.Errorf("clean fixture has a finding at %s:\n%s", sev, dump(fs))
				}
			}
			b, _ := json.Marshal(fs)
			if strings.Contains(string(b), "SECRET") || strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "user:pw") {
				t.Errorf("a credential leaked into findings: %s", b)
			}
			ids := map[string]bool{}
			for _, f := range fs {
				if ids[f.ID] {
					t.Errorf("duplicate id %s (%s)", f.ID, f.Summary)
				}
				ids[f.ID] = true
			}
			for _, w := range c.want {
				found := false
				var near []string
				for _, f := range fs {
					if f.Rule != w.rule || f.Tool != w.tool || f.Severity != w.sev {
						continue
					}
					miss := ""
					for k, sub := range w.ev {
						if !strings.Contains(fmt.Sprint(f.Evidence[k]), sub) {
							miss = fmt.Sprintf("%s=%v lacks %q", k, f.Evidence[k], sub)
							break
						}
					}
					if miss == "" {
						found = true
						break
					}
					near = append(near, miss)
				}
				if !found {
					t.Errorf("no %s %s at %s with %v (near misses %v) in:\n%s", w.rule, w.tool, w.sev, w.ev, near, dump(fs))
				}
			}
		})
	}
}

func TestParseProcRoute(t *testing.T) {
	b := []byte("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
		"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"tun0\t00000080\t0100080A\t0003\t0\t0\t5\t00000080\t0\t0\t0\n" +
		"bad\tzz\n")
	got := parseProcRoute(b)
	want := []Route{
		{Destination: "0.0.0.0/0", Gateway: "192.0.2.1", Interface: "eth0"},
		{Destination: "192.0.2.0/24", Interface: "eth0"},
		{Destination: "128.0.0.0/1", Gateway: "10.8.0.1", Interface: "tun0", Metric: 5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestDefaultRouteIfaces(t *testing.T) {
	rs := []Route{
		{Destination: "0.0.0.0/0", Interface: "eth0", Metric: 100},
		{Destination: "0.0.0.0/0", Interface: "wg0", Metric: 50},
		{Destination: "::/0", Interface: "eth0", Metric: 1024},
		{Destination: "0.0.0.0/0", Interface: "utun9", Scoped: true},
		{Destination: "8000::/1", Interface: "tun1"},
	}
	got := defaultRouteIfaces(rs)
	want := map[string][]string{"wg0": {"0.0.0.0/0"}, "eth0": {"::/0"}, "tun1": {"8000::/1"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

func TestParseNetstatRoutes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtures, "macos-vpn", FileNetstatRoutes))
	if err != nil {
		t.Fatal(err)
	}
	rs := parseNetstatRoutes(b)
	d := defaultRouteIfaces(rs)
	if !reflect.DeepEqual(d["utun4"], []string{"0.0.0.0/1", "128.0.0.0/1"}) || len(d["en0"]) != 1 || len(d["utun0"]) != 0 {
		t.Fatalf("default routes %v from %+v", d, rs)
	}
	for _, c := range []struct {
		in   string
		v6   bool
		want string
	}{{"default", false, "0.0.0.0/0"}, {"0/1", false, "0.0.0.0/1"}, {"128.0/1", false, "128.0.0.0/1"}, {"10/8", false, "10.0.0.0/8"},
		{"192.168.1", false, "192.168.1.0/24"}, {"10.8.0.1", false, "10.8.0.1/32"}, {"default", true, "::/0"}, {"fe80::%utun0/64", true, "fe80::/64"}} {
		p, ok := bsdDest(c.in, c.v6)
		if !ok || p.String() != c.want {
			t.Errorf("bsdDest(%q) = %v %v, want %s", c.in, p, ok, c.want)
		}
	}
}

func TestParseScutilProxy(t *testing.T) {
	b := []byte(`<dictionary> {
  ExceptionsList : <array> {
    0 : *.local
    1 : HTTPEnable : 1
  }
  HTTPEnable : 1
  HTTPPort : 8080
  HTTPProxy : proxy.corp.example
  HTTPSEnable : 0
  HTTPSProxy : unused.example
  ProxyAutoConfigEnable : 1
  ProxyAutoConfigURLString : http://wpad/wpad.dat
  ProxyAutoDiscoveryEnable : 1
}
`)
	got := parseScutilProxy(b)
	want := []ProxySetting{
		{Source: "scutil --proxy", Kind: "autodiscovery", Value: "WPAD"},
		{Source: "scutil --proxy", Kind: "http", Value: "proxy.corp.example:8080"},
		{Source: "scutil --proxy", Kind: "pac", Value: "http://wpad/wpad.dat"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

func TestLinuxProxyFile(t *testing.T) {
	b := []byte("# comment\nexport HTTPS_PROXY=http://u:p@10.0.0.1:8080\nNO_PROXY=x\nAcquire::http::Proxy \"http://apt-cache:3142\";\nAcquire::http::Proxy::local.example \"DIRECT\";\nproxy=_none_\nproxy=http://dnf-proxy:3128\nall_proxy=$PROXY\n")
	got := parseLinuxProxyFile("/etc/x", b)
	want := []ProxySetting{
		{Source: "/etc/x", Kind: "https", Value: "http://u:REDACTED@10.0.0.1:8080"},
		{Source: "/etc/x", Kind: "http", Value: "http://apt-cache:3142"},
		{Source: "/etc/x", Kind: "http", Value: "http://dnf-proxy:3128"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

func TestInternetSettingsAndPortProxy(t *testing.T) {
	got := internetSettingsProxies([]InternetSettings{{User: "S-1", ProxyEnable: 1, ProxyServer: "http=h:80;https=h:443;socks=127.0.0.1:1080"}, {User: "S-2", ProxyServer: "ignored:1"}})
	if len(got) != 3 || got[2].Kind != "socks" || got[2].Value != "127.0.0.1:1080" {
		t.Fatalf("got %+v", got)
	}
	pp, ok := parsePortProxyValue("v4tov4", "*/3389", "10.0.0.5/3389")
	if !ok || pp.ListenAddress != "*" || pp.ConnectAddr != "10.0.0.5" || pp.ConnectPort != "3389" {
		t.Fatalf("portproxy %+v %v", pp, ok)
	}
	if _, ok := parsePortProxyValue("v4tov4", "3389", "x"); ok {
		t.Fatal("malformed portproxy accepted")
	}
}

func TestCmdlines(t *testing.T) {
	fw := sshForwards([]string{"ssh", "-NgfD", "1080", "-L", "0.0.0.0:5432:db:5432", "-o", "RemoteForward=9000 localhost:22", "-R9001:localhost:22", "host", "-D", "9"})
	if !reflect.DeepEqual(fw, sshFwd{Dynamic: []string{"1080"}, Local: []string{"0.0.0.0:5432:db:5432"}, Remote: []string{"9000 localhost:22", "9001:localhost:22"}, Gateway: true}) {
		t.Fatalf("ssh forwards %+v", fw)
	}
	l, o, ok := socatAddrs([]string{"socat", "-d", "-d", "TCP:10.0.0.1:22", "TCP4-LISTEN:2222,fork"})
	if !ok || l != "TCP4-LISTEN:2222,fork" || o != "TCP:10.0.0.1:22" || socatTargetKind(o) != "network" {
		t.Fatalf("socat %q %q %v", l, o, ok)
	}
	if _, _, ok := socatAddrs([]string{"socat", "STDIO", "TCP:a:1"}); ok {
		t.Fatal("socat client taken for a relay")
	}
	if k := socatTargetKind("EXEC:/bin/bash,pty"); k != "program" {
		t.Fatal(k)
	}
	red := redactArgs([]string{"cloudflared", "tunnel", "run", "--token=abc", "--auth", "u:p", "http://u:pw@h/"})
	if strings.Contains(strings.Join(red, " "), "abc") || strings.Contains(strings.Join(red, " "), "u:p ") || strings.Contains(strings.Join(red, " "), "pw") {
		t.Fatalf("not redacted: %v", red)
	}
	for _, c := range []struct {
		args []string
		tool string
		ok   bool
	}{
		{[]string{"ngrok", "http", "8080"}, "ngrok", true},
		{[]string{"ngrok", "config", "add-authtoken", "x"}, "", false},
		{[]string{"ngrok", "version"}, "", false},
		{[]string{"cloudflared", "update"}, "", false},
		{[]string{"code", "--type=gpu-process"}, "", false},
		{[]string{"code", "tunnel"}, "vscode-tunnel", true},
		{[]string{"chisel", "server", "--reverse"}, "", false},
		{[]string{"bore", "local", "8000", "--to", "bore.pub"}, "bore", true},
	} {
		tc, ok := parseTunnelClient(procNames(c.args[0], ""), c.args)
		if ok != c.ok || tc.tool != c.tool {
			t.Errorf("%v: %+v %v", c.args, tc, ok)
		}
	}
	srv, px, _ := frpConfig([]byte("serverAddr = \"203.0.113.1\"\nserverPort = 7000\n\n[[proxies]]\nname = \"ssh\"\ntype = \"tcp\"\nlocalPort = 22\nremotePort = 6000\n"))
	if srv != "203.0.113.1:7000" || len(px) != 1 || !strings.Contains(px[0], "remote port 6000") {
		t.Fatalf("frp %q %v", srv, px)
	}
	srv, px, _ = frpConfig([]byte("[common]\nserver_addr = 198.51.100.1\nserver_port = 7000\n[rdp]\ntype = tcp\nlocal_port = 3389\nremote_port = 7001\n"))
	if srv != "198.51.100.1:7000" || len(px) != 1 || !strings.Contains(px[0], "rdp tcp local 127.0.0.1:3389") {
		t.Fatalf("frp ini %q %v", srv, px)
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		ifc  Interface
		os   string
		tool string
		ok   bool
	}{
		{Interface{Name: "utun2", Addresses: []string{"fe80::1/64"}}, "darwin", "", false},
		{Interface{Name: "utun6", Addresses: []string{"10.0.0.2/32"}}, "darwin", "utun", true},
		{Interface{Name: "eth0", Addresses: []string{"100.64.1.1/24"}}, "linux", "", false},
		{Interface{Name: "tun3", Kind: "tun", Addresses: []string{"100.100.1.1/32"}}, "linux", "tailscale", true},
		{Interface{Name: "wt0", Kind: "wireguard"}, "linux", "netbird", true},
		{Interface{Name: "vnet3", Kind: "tap"}, "linux", "", false},
		{Interface{Name: "tap4f1c2d3e-aa", Kind: "tap"}, "linux", "", false},
		{Interface{Name: "Ethernet 3", Description: "Wintun Userspace Tunnel"}, "windows", "wintun", true},
		{Interface{Name: "Ethernet", Description: "Intel(R) Ethernet"}, "windows", "", false},
		{Interface{Name: "OpenVPN Data Channel Offload", Description: "OpenVPN Data Channel Offload"}, "windows", "openvpn", true},
	} {
		got, ok := classify(c.ifc, c.os)
		if ok != c.ok || got.tool != c.tool {
			t.Errorf("classify(%+v, %s) = %+v %v", c.ifc, c.os, got, ok)
		}
	}
}

// TestLinuxCollectRoundTrip records this machine's Linux sources into a
// snapshot with Collect and reads them back: what the live host shows and
// what its snapshot shows must be the same interfaces and routes.
func TestLinuxCollectRoundTrip(t *testing.T) {
	if _, err := os.Stat("/sys/class/net"); err != nil {
		testenv.Missing(t, "no sysfs")
	}
	dir := t.TempDir()
	if err := collectLinuxTrees("/", dir); err != nil {
		t.Fatal(err)
	}
	live, err := readLinux("/", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := readLinux(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(live.Interfaces) == 0 || len(live.Interfaces) != len(snap.Interfaces) || !reflect.DeepEqual(live.Routes, snap.Routes) {
		t.Fatalf("live %+v\nsnapshot %+v", live, snap)
	}
}

// nlMsg builds one netlink message (host byte order) with a 12-byte header
// and attributes.
func nlMsg(typ uint16, hdr [12]byte, attrs ...[]byte) []byte {
	body := append([]byte{}, hdr[:]...)
	for _, a := range attrs {
		body = append(body, a...)
	}
	m := make([]byte, 16, 16+len(body))
	binary.NativeEndian.PutUint32(m[0:4], uint32(16+len(body)))
	binary.NativeEndian.PutUint16(m[4:6], typ)
	return append(m, body...)
}

func nlAttr(typ uint16, v []byte) []byte {
	a := make([]byte, 4, 8+len(v))
	binary.NativeEndian.PutUint16(a[0:2], uint16(4+len(v)))
	binary.NativeEndian.PutUint16(a[2:4], typ)
	a = append(a, v...)
	for len(a)%4 != 0 {
		a = append(a, 0)
	}
	return a
}

func u32(v uint32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, v)
	return b
}

// wgQuickDump is what RTM_GETROUTE + RTM_GETRULE return after
// `wg-quick up` with AllowedIPs 0.0.0.0/0 on interface index 7.
func wgQuickDump() []byte {
	var d []byte
	// default dev wg0 table 51820 (table id > 255: RT_TABLE_UNSPEC in the header, RTA_TABLE attribute).
	d = append(d, nlMsg(rtmNewRoute, [12]byte{afInet, 0, 0, 0, 0, 3, 0, rtnUnicast}, nlAttr(rtaTable, u32(51820)), nlAttr(rtaOif, u32(7)))...)
	// a main-table route: left to /proc/net/route.
	d = append(d, nlMsg(rtmNewRoute, [12]byte{afInet, 24, 0, 0, tableMain, 3, 0, rtnUnicast}, nlAttr(rtaDst, []byte{192, 168, 0, 0}), nlAttr(rtaOif, u32(3)))...)
	// 32764: lookup main suppress_prefixlength 0
	d = append(d, nlMsg(rtmNewRule, [12]byte{afInet, 0, 0, 0, tableMain, 0, 0, frActToTbl}, nlAttr(fraPriority, u32(32764)), nlAttr(fraSuppressPL, u32(0)))...)
	// 32765: not fwmark 0xca6c lookup 51820
	inv := [12]byte{afInet, 0, 0, 0, 0, 0, 0, frActToTbl}
	binary.NativeEndian.PutUint32(inv[8:12], fibRuleInvert)
	d = append(d, nlMsg(rtmNewRule, inv, nlAttr(fraPriority, u32(32765)), nlAttr(fraTable, u32(51820)), nlAttr(fraFwmark, u32(51820)))...)
	// 32766: lookup main; 100: fwmark 0x1 lookup 100 (partial)
	d = append(d, nlMsg(rtmNewRule, [12]byte{afInet, 0, 0, 0, tableMain, 0, 0, frActToTbl}, nlAttr(fraPriority, u32(32766)))...)
	d = append(d, nlMsg(rtmNewRule, [12]byte{afInet, 0, 0, 0, 100, 0, 0, frActToTbl}, nlAttr(fraPriority, u32(100)), nlAttr(fraFwmark, u32(1)))...)
	d = append(d, nlMsg(nlmsgDone, [12]byte{})...)
	return d
}

func TestPolicyRouting(t *testing.T) {
	pr := parseNetlinkDump(wgQuickDump())
	if len(pr.Routes) != 1 || pr.Routes[0].Table != 51820 || pr.Routes[0].Destination != "0.0.0.0/0" || pr.Routes[0].InterfaceIndex != 7 {
		t.Fatalf("routes %+v", pr.Routes)
	}
	if len(pr.Rules) != 4 || !pr.Rules[0].SuppressesDefault || pr.Rules[1].Partial || pr.Rules[1].Table != 51820 || !pr.Rules[3].Partial {
		t.Fatalf("rules %+v", pr.Rules)
	}
	resolveRouteIfaces(pr.Routes, []Interface{{Name: "wg0", Index: 7}})
	if got := policyDefaultRoutes(pr); !reflect.DeepEqual(got, map[string][]string{"wg0": {"0.0.0.0/0 (table 51820)"}}) {
		t.Fatalf("policy defaults %v", got)
	}
	// Without the rule, a table's default route is not the host's.
	pr.Rules = pr.Rules[:1]
	if got := policyDefaultRoutes(pr); len(got) != 0 {
		t.Fatalf("unselected table counted: %v", got)
	}
}
