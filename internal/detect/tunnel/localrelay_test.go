package tunnel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

func lproc(pid, ppid int32, name, exe string, args ...string) source.Process {
	return source.Process{PID: pid, PPID: ppid, Name: name, Exe: exe, Cmdline: append([]string{name}, args...), Username: "u"}
}

func llisten(pid int32, addr string, port uint32) source.Connection {
	return source.Connection{PID: pid, Proto: "tcp", LAddr: addr, LPort: port, RAddr: "0.0.0.0", State: "LISTEN"}
}

func lest(pid int32, la string, lp uint32, ra string, rp uint32) source.Connection {
	return source.Connection{PID: pid, Proto: "tcp", LAddr: la, LPort: lp, RAddr: ra, RPort: rp, State: "ESTABLISHED"}
}

// lpair is both ends of a loopback connection from client port cp to
// server port sp.
func lpair(client, server int32, addr string, cp, sp uint32) []source.Connection {
	return []source.Connection{lest(client, addr, cp, addr, sp), lest(server, addr, sp, addr, cp)}
}

func relayFindingsOf(in input) []report.Finding {
	if in.net == nil {
		in.net = &HostNet{}
	}
	if in.hostOS == "" {
		in.hostOS = "linux"
	}
	in.hostID = "h"
	var out []report.Finding
	for _, f := range decide(in, &Settings{}) {
		if f.Rule == ruleLocalRelay {
			out = append(out, f)
		}
	}
	return out
}

// vncRelay is the reverse shape: a renamed relay dials a controller and
// the local VNC server.
func vncRelay() input {
	procs := []source.Process{
		lproc(10, 1, "x11vnc", "/usr/bin/x11vnc", "-localhost"),
		lproc(20, 1, "syncd", "/tmp/x/syncd", "TCP:203.0.113.9:7000", "TCP:127.0.0.1:5900"),
	}
	conns := []source.Connection{llisten(10, "127.0.0.1", 5900), lest(20, "192.168.1.5", 41001, "203.0.113.9", 7000)}
	conns = append(conns, lpair(20, 10, "127.0.0.1", 41000, 5900)...)
	return input{procs: procs, conns: conns, snapshot: true}
}

func TestLocalRelayLive(t *testing.T) {
	in := vncRelay()
	in.hash = func(p source.Process) string { return "hash-of-" + p.Exe }
	fs := relayFindingsOf(in)
	if len(fs) != 1 {
		t.Fatalf("%d findings:\n%s", len(fs), dump(fs))
	}
	f := fs[0]
	ev := f.Evidence
	if f.Severity != report.SeverityHigh || f.Category != report.CategoryRelay || f.Tool != "unknown" ||
		fmt.Sprint(ev["pids"]) != "[20]" || ev["name"] != "syncd" || ev["exe_sha256"] != "hash-of-/tmp/x/syncd" ||
		fmt.Sprint(ev["listener_pids"]) != "[10]" || ev["listener_name"] != "x11vnc" || ev["service"] != "vnc" ||
		fmt.Sprint(ev["outside_endpoints"]) != "[tcp/203.0.113.9:7000 (outbound)]" || ev["observed"] != "live" {
		t.Fatalf("finding %+v", f)
	}
	if !strings.Contains(f.Summary, "syncd (pid 20)") || !strings.Contains(f.Summary, "x11vnc, pid 10") {
		t.Fatalf("summary %q", f.Summary)
	}

	// Each ingredient is needed: without the outside connection, with the
	// listener on a port that is no remote-control service, or with the
	// relay being part of the listener's own program, nothing is reported.
	noOutside := vncRelay()
	noOutside.conns = noOutside.conns[:0:0]
	for _, c := range vncRelay().conns {
		if c.RAddr != "203.0.113.9" {
			noOutside.conns = append(noOutside.conns, c)
		}
	}
	// A snapshot never opens config files, and syncd is no known program:
	// the command line does not count either.
	if fs := relayFindingsOf(noOutside); len(fs) != 0 {
		t.Fatalf("no outside connection, still: %s", dump(fs))
	}
	devPort := vncRelay()
	devPort.procs[0] = lproc(10, 1, "node", "/usr/bin/node", "server.js")
	for i := range devPort.conns {
		for _, pp := range []*uint32{&devPort.conns[i].LPort, &devPort.conns[i].RPort} {
			if *pp == 5900 {
				*pp = 3000
			}
		}
	}
	if fs := relayFindingsOf(devPort); len(fs) != 0 {
		t.Fatalf("dev server taken for a remote-control listener: %s", dump(fs))
	}
	// The catalog names a remote tool listening on a port outside the
	// conventions: x11vnc on 3000 still counts.
	vnc3000 := vncRelay()
	copy(vnc3000.conns, devPort.conns)
	if fs := relayFindingsOf(vnc3000); len(fs) != 1 || fs[0].Evidence["listener_tool"] != "x11vnc" {
		t.Fatalf("catalog listener on 3000: %s", dump(fs))
	}
}

func TestLocalRelayNegatives(t *testing.T) {
	cases := map[string]input{
		"browser and local dev server": {
			procs: []source.Process{lproc(1, 0, "firefox", "/usr/lib/firefox/firefox"), lproc(2, 0, "node", "/usr/bin/node", "server.js")},
			conns: append([]source.Connection{llisten(2, "127.0.0.1", 3000), lest(1, "10.0.0.2", 5000, "142.250.1.1", 443)},
				lpair(1, 2, "127.0.0.1", 5001, 3000)...),
		},
		"ssh client without forwards": {
			procs: []source.Process{lproc(1, 0, "ssh", "/usr/bin/ssh", "bob@build"), lproc(2, 0, "sshd", "/usr/sbin/sshd", "-D")},
			conns: []source.Connection{llisten(2, "0.0.0.0", 22), lest(1, "10.0.0.2", 5000, "198.51.100.1", 22)},
		},
		"vs code and language servers": {
			procs: []source.Process{lproc(1, 0, "code", "/usr/share/code/code"), lproc(2, 1, "code", "/usr/share/code/code", "--type=utility"),
				lproc(3, 1, "gopls", "/home/u/go/bin/gopls", "-listen=127.0.0.1:37000")},
			conns: append(append([]source.Connection{llisten(2, "127.0.0.1", 45000), llisten(3, "127.0.0.1", 37000), lest(1, "10.0.0.2", 5000, "13.107.1.1", 443)},
				lpair(1, 2, "127.0.0.1", 5001, 45000)...), lpair(1, 3, "127.0.0.1", 5002, 37000)...),
		},
		"local viewer of a local VNC server": {
			procs: []source.Process{lproc(1, 0, "vncviewer", "/usr/bin/vncviewer"), lproc(2, 0, "x11vnc", "/usr/bin/x11vnc")},
			conns: append([]source.Connection{llisten(2, "127.0.0.1", 5900)}, lpair(1, 2, "127.0.0.1", 5001, 5900)...),
		},
		"remote tool's GUI talking to its own service": {
			procs: []source.Process{lproc(1, 0, "TeamViewer", "/opt/teamviewer/tv_bin/TeamViewer"), lproc(2, 0, "teamviewerd", "/opt/teamviewer/tv_bin/teamviewerd", "-d")},
			conns: append([]source.Connection{llisten(2, "127.0.0.1", 5939), lest(1, "10.0.0.2", 5000, "217.146.1.2", 443), lest(2, "10.0.0.2", 5001, "217.146.1.1", 5938)},
				lpair(1, 2, "127.0.0.1", 5002, 5939)...),
		},
		"viewer through an ssh -L forward": {
			procs: []source.Process{lproc(1, 0, "ssh", "/usr/bin/ssh", "-L", "5901:lab:5900", "jump"), lproc(2, 0, "remmina", "/usr/bin/remmina")},
			conns: append([]source.Connection{llisten(1, "127.0.0.1", 5901), lest(1, "10.0.0.2", 5000, "198.51.100.3", 22), lest(2, "10.0.0.2", 5001, "10.0.0.9", 3389)},
				lpair(2, 1, "127.0.0.1", 5002, 5901)...),
		},
		"cloudflared access (this host is the client)": {
			procs: []source.Process{lproc(1, 0, "cloudflared", "/usr/bin/cloudflared", "access", "rdp", "--hostname", "rdp.example.com", "--url", "localhost:3389"),
				lproc(2, 0, "xfreerdp", "/usr/bin/xfreerdp", "/v:localhost")},
			conns: append([]source.Connection{llisten(1, "127.0.0.1", 3389), lest(1, "10.0.0.2", 5000, "198.41.192.7", 7844), lest(2, "10.0.0.2", 5001, "10.0.0.9", 443)},
				lpair(2, 1, "127.0.0.1", 5002, 3389)...),
		},
		"listening viewer reached through a relay (this host controls)": {
			procs: []source.Process{lproc(1, 0, "xtigervncviewer", "/usr/bin/xtigervncviewer", "-listen", "5500"), lproc(2, 0, "relay", "/srv/relay")},
			conns: append([]source.Connection{llisten(1, "0.0.0.0", 5500), lest(2, "10.0.0.2", 5000, "198.51.100.3", 443)},
				lpair(2, 1, "127.0.0.1", 5002, 5500)...),
		},
		"ssh -R is left to remoteaccess.ssh.reverse_tunnel when idle": {
			procs: []source.Process{lproc(1, 0, "ssh", "/usr/bin/ssh", "-N", "-R", "5900:localhost:5900", "relay")},
		},
		"ngrok to another host's RDP": {
			procs: []source.Process{lproc(1, 0, "ngrok", "/usr/local/bin/ngrok", "tcp", "192.168.1.77:3389")},
		},
		"ngrok http to a web app": {
			procs: []source.Process{lproc(1, 0, "ngrok", "/usr/local/bin/ngrok", "http", "8080")},
		},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			in.snapshot = true
			if fs := relayFindingsOf(in); len(fs) != 0 {
				t.Fatalf("reported:\n%s", dump(fs))
			}
		})
	}
}

func TestLocalRelayInboundFork(t *testing.T) {
	// socat TCP-LISTEN:2222,fork TCP:127.0.0.1:22 renamed: the forked child
	// holds the outside peer and the connection into sshd; the listener is
	// its parent's.
	in := input{
		procs: []source.Process{
			lproc(1, 0, "sshd", "/usr/sbin/sshd", "-D"), lproc(2, 1, "sshd", "/usr/sbin/sshd", "-D", "-R"),
			lproc(10, 0, "fwd", "/srv/fwd", "TCP-LISTEN:2222,fork", "TCP:127.0.0.1:22"),
			lproc(11, 10, "fwd", "/srv/fwd", "TCP-LISTEN:2222,fork", "TCP:127.0.0.1:22"),
		},
		conns: append([]source.Connection{llisten(1, "::", 22), llisten(10, "0.0.0.0", 2222),
			lest(11, "192.0.2.10", 2222, "198.51.100.7", 55000)}, lpair(11, 2, "127.0.0.1", 48000, 22)...),
		snapshot: true,
	}
	fs := relayFindingsOf(in)
	if len(fs) != 1 {
		t.Fatalf("%s", dump(fs))
	}
	ev := fs[0].Evidence
	if ev["direction"] != "inbound" || fmt.Sprint(ev["listener_pids"]) != "[1 2]" || fmt.Sprint(ev["accepted_by"]) != "[sshd (pid 2)]" ||
		ev["service"] != "ssh" || ev["listener_tool"] != "openssh-server" {
		t.Fatalf("evidence %v", ev)
	}
	// The outside peer reached an own address that only the interface
	// list knows: still outside of the host, and a connection to that own
	// address counts as local.
	in.conns = []source.Connection{llisten(1, "::", 22), llisten(10, "0.0.0.0", 2222), lest(11, "192.0.2.10", 2222, "198.51.100.7", 55000),
		lest(11, "192.0.2.10", 48000, "192.0.2.11", 22)}
	in.net = &HostNet{Interfaces: []Interface{{Name: "eth0", Addresses: []string{"192.0.2.10/24", "192.0.2.11/32"}}}}
	if fs := relayFindingsOf(in); len(fs) != 1 || fmt.Sprint(fs[0].Evidence["local_connections"]) != "[192.0.2.10:48000 → 192.0.2.11:22]" {
		t.Fatalf("own address as local listener: %s %v", dump(fs), fs)
	}
	in.net = nil
	if fs := relayFindingsOf(in); len(fs) != 0 {
		t.Fatalf("an address the host does not own taken as local: %s", dump(fs))
	}
}

// TestLocalRelayConfigFiles reads tunnel clients' configuration files on a
// live host (a temporary root); snapshots hold no such files.
func TestLocalRelayConfigFiles(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"etc/frp/frpc.toml": "serverAddr = \"203.0.113.1\"\nserverPort = 7000\n[[proxies]]\nname = \"web\"\ntype = \"tcp\"\nlocalPort = 8080\nremotePort = 6001\n" +
			"[[proxies]]\nname = \"desk\"\ntype = \"tcp\"\nlocalIP = \"127.0.0.1\"\nlocalPort = 3389\nremotePort = 6000\n",
		"etc/xray/bridge.json": `{
  // bridge side of an Xray reverse proxy
  "reverse": {"bridges": [{"tag": "bridge", "domain": "private.cloud.example"}]},
  "outbounds": [
    {"tag": "out", "protocol": "freedom", "settings": {"redirect": "127.0.0.1:5900"}},
    {"tag": "interconn", "protocol": "vless", "settings": {"vnext": [{"address": "203.0.113.2", "port": 443}]}}
  ]
}`,
		"home/u/.config/ngrok/ngrok.yml": "version: 3\nagent:\n  authtoken: SECRET-ngrok\ntunnels:\n  desk:\n    proto: tcp\n    addr: 5901 # the VNC display\n  web:\n    proto: http\n    addr: 8000\n",
		"etc/cloudflared/config.yml":     "tunnel: 6ff42ae2\ningress:\n  - hostname: ssh.example.com\n    service: ssh://localhost:22\n  - service: http_status:404\n",
	}
	for p, b := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	in := input{root: root, procs: []source.Process{
		lproc(1, 0, "frpc", "/usr/bin/frpc", "-c", "/etc/frp/frpc.toml"),
		lproc(2, 0, "xray", "/usr/local/bin/xray", "run", "-c", "/etc/xray/bridge.json"),
		lproc(3, 0, "ngrok", "/usr/local/bin/ngrok", "start", "--all", "--config", "/home/u/.config/ngrok/ngrok.yml"),
		lproc(4, 0, "cloudflared", "/usr/bin/cloudflared", "tunnel", "--config", "/etc/cloudflared/config.yml", "run"),
	}}
	fs := relayFindingsOf(in)
	want := map[string]string{"frp": "rdp|127.0.0.1:3389|/etc/frp/frpc.toml", "xray": "vnc|127.0.0.1:5900|/etc/xray/bridge.json",
		"ngrok": "vnc|5901|/home/u/.config/ngrok/ngrok.yml", "cloudflared": "ssh|ssh://localhost:22|/etc/cloudflared/config.yml"}
	if len(fs) != len(want) {
		t.Fatalf("%d findings, want %d:\n%s", len(fs), len(want), dump(fs))
	}
	for _, f := range fs {
		w := strings.Split(want[f.Tool], "|")
		if len(w) != 3 || f.Severity != report.SeverityHigh || f.Category != report.CategoryTunnel || f.Evidence["observed"] != "configured" ||
			f.Evidence["service"] != w[0] || !strings.Contains(fmt.Sprint(f.Evidence["configured_targets"]), w[1]) ||
			fmt.Sprint(f.Evidence["config"]) != "["+w[2]+"]" {
			t.Errorf("%s: %+v", f.Tool, f)
		}
		if strings.Contains(fmt.Sprint(f.Evidence), "8080") || strings.Contains(fmt.Sprint(f.Evidence), "8000") {
			t.Errorf("%s: a web target reported: %v", f.Tool, f.Evidence)
		}
	}
	in.snapshot = true
	if fs := relayFindingsOf(in); len(fs) != 0 {
		t.Fatalf("a snapshot read configuration files: %s", dump(fs))
	}
}

func TestLocalTargetParsers(t *testing.T) {
	for _, c := range []struct {
		in   string
		host string
		port uint32
		ok   bool
	}{
		{"3389", "", 3389, true}, {"localhost:5900", "localhost", 5900, true}, {"tcp://127.0.0.1:3389", "127.0.0.1", 3389, true},
		{"rdp://localhost", "localhost", 3389, true}, {"ssh://localhost:2222", "localhost", 2222, true}, {"[::1]:22", "::1", 22, true},
		{"http://u:p@host:8080/x", "host", 8080, true}, {"http_status:404", "", 0, false}, {"", "", 0, false}, {"localhost:0", "", 0, false},
		{"localhost:99999", "", 0, false}, {"unix:/run/x.sock", "", 0, false},
	} {
		h, p, ok := parseTarget(c.in)
		if h != c.host || p != c.port || ok != c.ok {
			t.Errorf("parseTarget(%q) = %q %d %v", c.in, h, p, ok)
		}
	}
	for in, want := range map[string]string{"R:2222:localhost:22": "localhost:22", "R:0.0.0.0:2222:127.0.0.1:5900": "127.0.0.1:5900",
		"R:5900": "localhost:5900", "R:2222:22": "localhost:22", "2222:localhost:22": "", "R:socks": "", "R:5353:localhost:53/udp": ""} {
		got, ok := chiselReverseTarget(in)
		if got != want || ok != (want != "") {
			t.Errorf("chiselReverseTarget(%q) = %q %v", in, got, ok)
		}
	}
	for in, want := range map[string]string{"TCP:127.0.0.1:5900": "127.0.0.1:5900", "tcp4:localhost:22,forever": "localhost:22",
		"TCP-LISTEN:2222,fork": "", "EXEC:/bin/sh": "", "TCP:[::1]:3389": "[::1]:3389"} {
		got, ok := socatConnectTarget(in)
		if got != want || ok != (want != "") {
			t.Errorf("socatConnectTarget(%q) = %q %v", in, got, ok)
		}
	}
	if got := xrayBridgeTargets([]byte(`{"outbounds":[{"protocol":"freedom","settings":{"redirect":"127.0.0.1:22"}}]}`)); got != nil {
		t.Errorf("no reverse bridge, still %v", got)
	}
	if got := yamlValues([]byte("a:\n  - service: 'rdp://localhost:3389'\n  addr: \"22\" # c\n#addr: 1\n"), "service", "addr"); fmt.Sprint(got) != "[rdp://localhost:3389 22]" {
		t.Errorf("yamlValues %v", got)
	}
}

// fakeExeSource is a Source whose OpenExe serves fixed bytes.
type fakeExeSource struct {
	source.Source
	exe map[string][]byte
}

func (f fakeExeSource) OpenExe(p source.Process) (io.ReadCloser, error) {
	b, ok := f.exe[p.Exe]
	if !ok {
		return nil, source.ErrNotRecorded
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func TestExeHasher(t *testing.T) {
	src := fakeExeSource{exe: map[string][]byte{"/tmp/x/syncd": []byte("relay bytes")}}
	h := exeHasher(context.Background(), src)
	sum := sha256.Sum256([]byte("relay bytes"))
	if got := h(source.Process{PID: 1, Exe: "/tmp/x/syncd"}); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("hash %q", got)
	}
	if got := h(source.Process{PID: 2, Exe: "/gone"}); got != "" {
		t.Fatalf("unreadable executable hashed: %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := exeHasher(ctx, src)(source.Process{PID: 1, Exe: "/tmp/x/syncd"}); got != "" {
		t.Fatalf("hashed after cancel: %q", got)
	}
}
