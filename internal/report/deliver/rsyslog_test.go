package deliver

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/rfc5424/rsyslogtest"
)

// TestSyslogToRealRsyslog sends a finding and a heartbeat to a real
// rsyslogd over TCP and over TLS (verified against the test CA) and checks
// the fields rsyslog parsed out of them: facility, severity, timestamp,
// host, app name, proc id, msgid, structured data and the CEF message.
func TestSyslogToRealRsyslog(t *testing.T) {
	rs := rsyslogtest.Start(t)
	f := finding(1)
	f.Summary = "AnyDesk | running = yes"
	hb := report.Heartbeat{Time: time.Unix(1700000100, 0).UTC(), AgentVersion: "v1", Event: "stop"}
	items := []report.Item{{Seq: 7, Kind: report.KindFinding, Finding: &f}, {Seq: 8, Kind: report.KindHeartbeat, Heartbeat: &hb}}
	for _, c := range []SyslogConfig{
		{Address: rs.TCP},
		{Address: rs.TLS, TLS: true, CAFile: rs.CAFile, EnterpriseID: "99999"},
	} {
		s, err := NewSyslog(c, "host one", "v1")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = s.Send(ctx, items)
		cancel()
		if err != nil {
			t.Fatalf("send to rsyslog at %s (tls %v): %v", c.Address, c.TLS, err)
		}
		s.reset()
	}
	// rsyslog reads its two sessions concurrently: compare as a set.
	pid := strconv.Itoa(os.Getpid())
	want := map[rsyslogtest.Line]bool{}
	for _, tlsSent := range []bool{false, true} {
		for _, fin := range []bool{true, false} {
			l := rsyslogtest.Line{Facility: "13", Severity: "3", Time: "2023-11-14T22:13:20.000000Z", Hostname: "host_one",
				AppName: "farmwatch-agent", ProcID: pid, MsgID: "finding",
				StructuredData: `[origin software="farmwatch-agent" swVersion="v1"][meta sequenceId="7"]`,
				Msg:            `CEF:0|farmwatch|farmwatch-agent|v1|remoteaccess.process.running|AnyDesk \| running = yes|8|`}
			if !fin {
				l.Severity, l.Time, l.MsgID = "6", "2023-11-14T22:15:00.000000Z", "heartbeat"
				l.StructuredData = `[origin software="farmwatch-agent" swVersion="v1"][meta sequenceId="8"]`
				l.Msg = "CEF:0|farmwatch|farmwatch-agent|v1|agent.heartbeat|farmwatch agent heartbeat|1|"
			}
			if tlsSent {
				l.StructuredData = strings.Replace(l.StructuredData, `swVersion="v1"`, `swVersion="v1" enterpriseId="99999"`, 1)
				if fin {
					l.StructuredData += `[farmwatch@99999 seq="7" kind="finding"]`
				} else {
					l.StructuredData += `[farmwatch@99999 seq="8" kind="heartbeat"]`
				}
			}
			want[l] = true
		}
	}
	for _, l := range rs.Lines(t, 4) {
		// The CEF extension (time-dependent evidence order aside) is
		// checked by the unit tests; here its header must arrive intact.
		for w := range want {
			if strings.HasPrefix(l.Msg, w.Msg) {
				l.Msg = w.Msg
				if want[l] {
					delete(want, l)
					break
				}
			}
		}
	}
	for w := range want {
		t.Errorf("rsyslog did not parse a message as\n%+v\ngot:\n%+v", w, rs.Lines(t, 4))
	}
}
