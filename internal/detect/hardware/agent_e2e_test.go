package hardware

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
)

// TestAgentBinary drives the built agent: `collect --root` on a Linux
// fixture tree (as if it were the live host), then `scan --snapshot` of the
// recorded snapshot, and of a Windows snapshot, with JSON output.
func TestAgentBinary(t *testing.T) {
	bin := os.Getenv("FARMWATCH_AGENT_BIN")
	if bin == "" {
		if os.Getenv("FARMWATCH_E2E") == "1" {
			t.Fatal("FARMWATCH_AGENT_BIN is not set (make test sets it to the built agent)")
		}
		t.Skip("FARMWATCH_AGENT_BIN is not set; `make test` builds the agent and sets it")
	}
	abs, _ := filepath.Abs(fixtureRoot)
	out := t.TempDir()
	if b, err := exec.Command(bin, "collect", "--root", filepath.Join(abs, "linux", "jetkvm-logitech"), "--out", out).CombinedOutput(); err != nil {
		t.Fatalf("collect: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(out, "sys", "bus", "usb", "devices", "1-1:1.3", "host0", "target0:0:0", "0:0:0:0", "vendor")); err != nil {
		t.Fatalf("collect did not record the SCSI inquiry: %v", err)
	}
	for _, c := range []struct {
		snapshot, rule, tool string
	}{
		{out, RuleUSBSpoofed, ToolJetKVM},
		{filepath.Join(abs, "windows", "pikvm"), RuleUSBIdentity, ToolPiKVM},
		{filepath.Join(abs, "darwin", "glinet-comet"), RuleUSBIdentity, ToolGLiNetComet},
	} {
		cmd := exec.Command(bin, "scan", "--snapshot", c.snapshot, "--format", "json")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("scan %s: %v\n%s", c.snapshot, err, stderr.String())
		}
		found := false
		sc := bufio.NewScanner(&stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var f report.Finding
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				t.Fatalf("scan output: %v: %s", err, sc.Text())
			}
			if f.Detector == Name && f.Rule == c.rule && f.Tool == c.tool && f.Severity == report.SeverityCritical {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no critical %s %s finding in\n%s", c.snapshot, c.rule, c.tool, stdout.String())
		}
	}
}
