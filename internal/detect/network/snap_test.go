package network

import (
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/detect/network/pcapfile"
	"github.com/farmwatch/farmwatch/internal/report"
)

// TestSnapLenSameFindings replays every recording of real software in
// testdata/pcaps and every public capture in the shared data twice, with
// whole frames and with each frame cut to SnapLen as the live capture's
// kernel program cuts it: the findings, evidence included (byte counts,
// payload sizes, timing), must be identical. The namespace recordings
// have no frame above the MTU; the public captures include frames
// coalesced by offloads (ntop nDPI http_connect.pcap) that are cut.
func TestSnapLenSameFindings(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "pcaps", "*.pcap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings in testdata/pcaps: %v", err)
	}
	shared, err := filepath.Glob(filepath.Join(sharedPcaps(t), "*", "*.pcap"))
	if err != nil || len(shared) == 0 {
		t.Fatalf("no public captures: %v", err)
	}
	files = append(files, shared...)
	local := []netip.Prefix{ // the recordings' laptop side (TestRecordedCaptures)
		netip.MustParsePrefix("10.200.0.2/32"), netip.MustParsePrefix("10.200.1.1/32"),
		netip.MustParsePrefix("10.201.0.2/32"), netip.MustParsePrefix("10.202.0.0/24"),
	}
	cutSome := 0
	for _, file := range files {
		full, _, fullFlows := replaySnap(t, file, local, 0)
		capped, cut, cappedFlows := replaySnap(t, file, local, SnapLen)
		cutSome += cut
		if !reflect.DeepEqual(fullFlows, cappedFlows) {
			t.Errorf("%s: flow counters differ with frames cut to %d bytes (%d frames cut):\nfull:   %v\ncapped: %v", filepath.Base(file), SnapLen, cut, fullFlows, cappedFlows)
		}
		if !reflect.DeepEqual(full, capped) {
			t.Errorf("%s: findings differ with frames cut to %d bytes (%d frames cut):\nfull:\n%s\ncapped:\n%s", filepath.Base(file), SnapLen, cut, dump(full), dump(capped))
		}
	}
	if cutSome == 0 {
		t.Fatalf("no frame of the recordings is longer than %d bytes: the test proves nothing", SnapLen)
	}
}

// flowCounters is what the behaviour analyses read of a finished flow.
type flowCounters struct {
	Client, Server                                      string
	Packets, Bytes, PayloadPackets, PayloadBytes, Small [2]uint64
	MaxPayload, Bursts, Triggered                       [2]int
	IATCount                                            [2]uint64
	IATSum                                              [2]int64
	IATHist                                             [2][16]uint32
}

func replaySnap(t *testing.T, file string, local []netip.Prefix, snap int) ([]report.Finding, int, []flowCounters) {
	t.Helper()
	r, err := pcapfile.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e := New(Config{LocalNets: local, Host: report.Host{Name: "pcap", ID: "pcap:" + filepath.Base(file)}})
	var flows []flowCounters
	e.flowHook = func(f *flow.Flow) {
		c := flowCounters{Client: f.Client.String(), Server: f.Server.String()}
		for i := range f.Dir {
			d := &f.Dir[i]
			c.Packets[i], c.Bytes[i], c.PayloadPackets[i], c.PayloadBytes[i], c.Small[i] = d.Packets, d.Bytes, d.PayloadPackets, d.PayloadBytes, d.Small
			c.MaxPayload[i], c.Bursts[i], c.Triggered[i] = d.MaxPayload, int(d.Bursts), int(d.Triggered)
			c.IATCount[i], c.IATSum[i], c.IATHist[i] = d.IATCount, d.IATSum, d.IATHist
		}
		flows = append(flows, c)
	}
	cut := 0
	m := pcapfile.NewMerger(r)
	for {
		err := m.Next(func(p *pcapfile.Packet) {
			d := p.Data
			if snap > 0 && len(d) > snap {
				d = d[:snap]
				cut++
			}
			e.Packet(p.Time, p.LinkType, d)
		})
		if err == io.EOF {
			break
		}
	}
	return e.Close(), cut, flows
}

func dump(fs []report.Finding) string {
	s := ""
	for _, f := range fs {
		s += fmt.Sprintf("  %s %s %s %v\n", f.Severity, f.Rule, f.Tool, f.Evidence)
	}
	return s
}
