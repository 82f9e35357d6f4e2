package network

import (
	"io"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/pcapfile"
	"github.com/farmwatch/farmwatch/internal/report"
)

// TestEvidentEarly replays recordings of real sessions and asks Evident
// once a second of capture time, as the live capture does: the high
// finding of each session must come out within 10 s of the first packet,
// while the session is still open, exactly once, with the same rule,
// tool and severity as the finding at the end.
func TestEvidentEarly(t *testing.T) {
	local := []netip.Prefix{netip.MustParsePrefix("10.200.0.2/32")}
	for _, c := range []struct{ file, rule string }{
		{"vnc-x11vnc-tigervnc.pcap", "network.vnc.session"},
		{"rdp-xrdp-freerdp.pcap", "network.rdp.session"},
		{"ssh-reverse-tunnel.pcap", "network.ssh.reverse"},
	} {
		t.Run(c.file, func(t *testing.T) {
			r, err := pcapfile.Open(filepath.Join("..", "..", "..", "testdata", "pcaps", c.file))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			e := New(Config{LocalNets: local, Host: report.Host{Name: "pcap", ID: "pcap:" + c.file}})
			m := pcapfile.NewMerger(r)
			var first, next, last time.Time
			var early []report.Finding
			var at time.Duration
			for {
				err := m.Next(func(p *pcapfile.Packet) {
					if first.IsZero() {
						first, next = p.Time, p.Time.Add(time.Second)
					}
					last = p.Time
					e.Packet(p.Time, p.LinkType, p.Data)
					if !p.Time.Before(next) {
						next = p.Time.Add(time.Second)
						for _, f := range e.Evident(p.Time) {
							if f.Rule == c.rule && early == nil {
								at = p.Time.Sub(first)
							}
							early = append(early, f)
						}
					}
				})
				if err == io.EOF {
					break
				}
			}
			final := e.Close()
			var got *report.Finding
			for i := range early {
				if early[i].Rule == c.rule {
					if got != nil {
						t.Errorf("%s returned twice", c.rule)
					}
					got = &early[i]
				}
			}
			if got == nil {
				t.Fatalf("%s not evident before the end of a %v recording; early: %s final: %s", c.rule, last.Sub(first), dump(early), dump(final))
			}
			if at > 10*time.Second || at >= last.Sub(first) {
				t.Errorf("%s evident %v after the first packet (recording %v): want ≤ 10 s and before the end", c.rule, at, last.Sub(first))
			}
			if got.Severity < report.SeverityHigh {
				t.Errorf("early %s has severity %s", c.rule, got.Severity)
			}
			ok := false
			for _, f := range final {
				ok = ok || (f.Rule == got.Rule && f.Tool == got.Tool && f.ID == got.ID)
			}
			if !ok {
				t.Errorf("early %s %s (%s) is not among the final findings:\n%s", got.Rule, got.Tool, got.ID, dump(final))
			}
			t.Logf("%s evident after %v of a %v recording", c.rule, at, last.Sub(first))
		})
	}
}
