package alert

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/config"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/rfc5424/rsyslogtest"
)

// TestSyslogToRealRsyslog delivers an alert to a real rsyslogd over TCP and
// over TLS (verified against the test CA) and checks the fields rsyslog
// parsed: the same facility, SD-IDs and layout as the agent's output.
func TestSyslogToRealRsyslog(t *testing.T) {
	rs := rsyslogtest.Start(t)
	a := store.Alert{ID: "a1", Kind: store.AlertFinding, Severity: report.SeverityHigh, Title: "x|y", Detail: "a=b",
		Hosts: []string{"h1"}, CreatedAt: t0, Category: "vpn", Tool: "wireguard"}
	for _, c := range []config.Syslog{
		{Address: rs.TCP},
		{Address: rs.TLS, Protocol: "tls", CA: rs.CAFile, EnterpriseID: "99999"},
	} {
		s, err := NewSyslog(c, "1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		s.Hostname = "collector one"
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = s.Deliver(ctx, a)
		cancel()
		if err != nil {
			t.Fatalf("deliver to rsyslog at %s (%s): %v", c.Address, c.Protocol, err)
		}
	}
	pid := strconv.Itoa(os.Getpid())
	want := map[rsyslogtest.Line]bool{}
	for _, sd := range []string{
		`[origin software="farmwatch-collector" swVersion="1.2.3"]`,
		`[origin software="farmwatch-collector" swVersion="1.2.3" enterpriseId="99999"][farmwatch@99999 alert_id="a1" kind="finding"]`,
	} {
		want[rsyslogtest.Line{Facility: "13", Severity: "3", Hostname: "collector_one", AppName: "farmwatch-collector",
			ProcID: pid, MsgID: "finding", StructuredData: sd, Msg: `CEF:0|farmwatch|farmwatch-collector|1.2.3|finding|x\|y|8|`}] = true
	}
	lines := rs.Lines(t, 2)
	for _, l := range lines {
		if !strings.HasPrefix(l.Msg, `CEF:0|farmwatch|farmwatch-collector|1.2.3|finding|x\|y|8|`) || !strings.Contains(l.Msg, `msg=a\=b`) {
			t.Errorf("CEF body as rsyslog stored it: %q", l.Msg)
		}
		if _, err := time.Parse(time.RFC3339, l.Time); err != nil {
			t.Errorf("timestamp %q: %v", l.Time, err)
		}
		l.Msg, l.Time = `CEF:0|farmwatch|farmwatch-collector|1.2.3|finding|x\|y|8|`, ""
		if !want[l] {
			t.Errorf("rsyslog parsed an unexpected message: %+v\nwant one of %+v", l, want)
		}
		delete(want, l)
	}
}
