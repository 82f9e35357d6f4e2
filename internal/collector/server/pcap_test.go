package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/collector/correlate"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

// TestAttachPcapOnRealOutput attaches the real `farmwatch-agent pcap
// --format json` output of recorded captures to fleet hosts: the findings
// are stored on the host marked source pcap with the file name and SHA-256,
// raise alerts, feed correlation (the same capture on two hosts links them
// when it holds a correlatable indicator) and the risk score; attaching it
// again changes nothing; bad bodies are refused.
func TestAttachPcapOnRealOutput(t *testing.T) {
	if testing.Short() {
		testenv.Missing(t, "builds and runs the agent binary")
	}
	bin := filepath.Join(t.TempDir(), "farmwatch-agent")
	if b, err := exec.Command("go", "build", "-o", bin, "github.com/farmwatch/farmwatch/cmd/agent").CombinedOutput(); err != nil {
		t.Fatalf("build farmwatch-agent: %v\n%s", err, b)
	}
	e := newEnv(t, nil)
	e.enroll("lap-a")
	e.enroll("lap-b")
	if err := e.st.AddAPIToken(t.Context(), "soc", HashToken("pcap-tok"), t0); err != nil {
		t.Fatal(err)
	}
	post := func(host, query string, body []byte) (int, IngestResponse) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/hosts/"+host+"/pcap"+query, strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer pcap-tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r IngestResponse
		_ = json.NewDecoder(resp.Body).Decode(&r)
		return resp.StatusCode, r
	}
	files := []string{
		filepath.Join("..", "..", "..", "testdata", "pcaps", "vnc-x11vnc-tigervnc.pcap"),
		filepath.Join("..", "..", "..", "testdata", "pcaps", "vnc-relayed-controller.pcap"),
	}
	// The recorded captures above hold only private addresses; Zeek's
	// public reverse-SSH capture has a relay on a public address, which
	// must link the two hosts it is attached to.
	linking := ""
	if sh := os.Getenv("FARMWATCH_SHARED"); sh != "" {
		linking = filepath.Join(sh, "data", "pcaps", "zeek+zeek", "reverse-ssh.pcap")
		files = append(files, linking)
	} else if testenv.E2E() {
		t.Fatal("FARMWATCH_E2E=1 and FARMWATCH_SHARED is not set: the public capture zeek+zeek/reverse-ssh.pcap (../shared/data/pcaps) tests the correlation of attached captures")
	} else {
		t.Log("FARMWATCH_SHARED is not set: the correlation of an attached public capture is not tested")
	}
	for _, file := range files {
		name := filepath.Base(file)
		out, err := exec.Command(bin, "pcap", "--format", "json", file).Output()
		if err != nil {
			t.Fatalf("pcap %s: %v", name, err)
		}
		raw, _ := os.ReadFile(file)
		sum := sha256.Sum256(raw)
		want := hex.EncodeToString(sum[:])
		fs, err := parsePcapFindings(out, "", "")
		if err != nil || len(fs) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		var inds []correlate.Indicator
		for _, f := range fs {
			inds = append(inds, correlate.Indicators(f)...)
		}
		before, _ := e.st.Alerts(t.Context(), "all", 1000)
		for _, h := range []string{"lap-a", "lap-b"} {
			if code, r := post(h, "", out); code != 200 || r.Accepted != len(fs) {
				t.Fatalf("attach %s to %s: %d %+v (want %d accepted)", name, h, code, r, len(fs))
			}
		}
		if code, r := post("lap-a", "", out); code != 200 || r.Accepted != 0 || r.Duplicates != len(fs) {
			t.Fatalf("attach %s again: %d %+v", name, code, r)
		}
		stored, err := e.st.Findings(t.Context(), "lap-a", false)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range stored {
			if f.Source != nil && f.Source.File == name {
				n++
				if f.Source.Kind != "pcap" || f.Source.SHA256 != want || f.Host.ID != "lap-a" || f.Count != 1 {
					t.Errorf("%s on lap-a: source %+v host %s count %d (want sha256 %s)", name, f.Source, f.Host.ID, f.Count, want)
				}
			}
		}
		if n != len(fs) {
			t.Errorf("%s: %d findings stored on lap-a, want %d", name, n, len(fs))
		}
		after, _ := e.st.Alerts(t.Context(), "all", 1000)
		shared, finding := 0, 0
		old := map[string]bool{}
		for _, a := range before {
			old[a.ID] = true
		}
		for _, a := range after {
			if old[a.ID] {
				continue
			}
			switch a.Kind {
			case store.AlertSharedInfra:
				shared++
			case store.AlertFinding:
				finding++
			}
		}
		if file == linking && len(inds) == 0 {
			t.Errorf("%s: no correlatable indicator in the agent's output", name)
		}
		if len(inds) > 0 && shared == 0 {
			t.Errorf("%s holds indicators %v but attaching it to two hosts linked nothing", name, inds)
		}
		if max, _ := report.MaxSeverity(fs); max >= report.SeverityHigh && finding == 0 {
			t.Errorf("%s: no finding alert", name)
		}
		t.Logf("%s: %d findings, indicators %v → %d finding alerts, %d shared-infrastructure alerts", name, len(fs), inds, finding, shared)
	}
	h, err := e.st.Host(t.Context(), "lap-a")
	if err != nil || h.Risk.Score == 0 {
		t.Fatalf("lap-a's risk after the attached captures: %+v %v", h.Risk, err)
	}
	// The agent attaches its own analysis: `pcap --attach` (the capture on a
	// third host), then again (a no-op), then refusals it must report.
	e.enroll("lap-c")
	tokFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte("pcap-tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	agentAttach := func(host, tok string, extra ...string) (stdout, stderr string, code int) {
		t.Helper()
		if err := os.WriteFile(tokFile, []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"pcap", "--format", "json"}, extra...)
		if host != "" {
			args = append(args, "--attach", host, "--collector", e.http.URL, "--token-file", tokFile)
		}
		cmd := exec.Command(bin, append(args, files[0])...)
		var so, se strings.Builder
		cmd.Stdout, cmd.Stderr = &so, &se
		err := cmd.Run()
		code = cmd.ProcessState.ExitCode()
		if err != nil && code <= 0 {
			t.Fatalf("run the agent: %v", err)
		}
		return so.String(), se.String(), code
	}
	out, se, code := agentAttach("lap-c", "pcap-tok\n")
	fs, err := parsePcapFindings([]byte(out), "", "")
	if code != 0 || err != nil || !strings.Contains(se, fmt.Sprintf("attached to host lap-c at %s: %d findings accepted, 0 already there", e.http.URL, len(fs))) {
		t.Fatalf("pcap --attach lap-c: exit %d, %d findings (%v); stderr:\n%s", code, len(fs), err, se)
	}
	stored, err := e.st.Findings(t.Context(), "lap-c", false)
	if err != nil || len(stored) != len(fs) || stored[0].Source == nil || stored[0].Source.File != filepath.Base(files[0]) {
		t.Fatalf("lap-c after pcap --attach: %d findings stored (want %d), %v", len(stored), len(fs), err)
	}
	if _, se, code := agentAttach("lap-c", "pcap-tok"); code != 0 || !strings.Contains(se, fmt.Sprintf(": 0 findings accepted, %d already there", len(fs))) {
		t.Errorf("pcap --attach again: exit %d; stderr:\n%s", code, se)
	}
	for _, c := range []struct {
		host, tok, want string
	}{
		{"lap-c", "not-a-token", "401 Unauthorized"},
		{"nobody", "pcap-tok", "404 Not Found"},
	} {
		out, se, code := agentAttach(c.host, c.tok)
		if code != 1 || !strings.Contains(se, c.want) || out == "" {
			t.Errorf("pcap --attach %s with token %q: exit %d (want 1, the findings still printed: %d bytes), stderr:\n%s", c.host, c.tok, code, len(out), se)
		}
	}
	if _, se, code := agentAttach("", "", "--attach", "lap-c"); code != 2 || !strings.Contains(se, "--attach needs --collector") {
		t.Errorf("pcap --attach without --collector: exit %d, stderr:\n%s", code, se)
	}

	// Refused: unknown host, no findings, not findings, a bad hash.
	if code, _ := post("nobody", "", []byte(`{}`)); code != 404 {
		t.Errorf("unknown host: %d", code)
	}
	for _, bad := range []struct{ query, body string }{
		{"", ""},
		{"", "not json\n"},
		{"?sha256=XYZ", `{"id":"x"}`},
		{"", `{"id":"ea1ed89bad4a207258063b46","rule":"network.vnc.session"}`},
	} {
		if code, _ := post("lap-b", bad.query, []byte(bad.body)); code != 400 {
			t.Errorf("body %q query %q: %d, want 400", bad.body, bad.query, code)
		}
	}
}

// FuzzParsePcapFindings: any body gives findings with a pcap source or an
// error, never a panic.
func FuzzParsePcapFindings(f *testing.F) {
	f.Add([]byte(`{"id":"ea1ed89bad4a207258063b46","time":"2026-11-22T07:08:07Z","host":{"name":"pcap","id":"pcap:x.pcap"},"detector":"network","rule":"network.vnc.session","category":"remote-access","tool":"vnc","severity":"high","confidence":0.95,"allowed":false,"summary":"s","evidence":{},"count":1,"source":{"kind":"pcap","file":"x.pcap","sha256":"`+strings.Repeat("ab", 32)+`"}}`+"\n"), "", "")
	f.Add([]byte("{}\n{}\n"), "x.pcap", "")
	f.Add([]byte(`{"source":{"kind":"live"}}`), "", "")
	f.Add([]byte("not json"), "", strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, body []byte, file, sum string) {
		fs, err := parsePcapFindings(body, file, sum)
		if err != nil {
			return
		}
		for _, x := range fs {
			if x.Source == nil || x.Source.Kind != "pcap" || x.Update || x.Ended || x.Source.File == "" && x.Source.SHA256 == "" {
				t.Fatalf("parsed %+v", x)
			}
		}
	})
}
