package packaging

import (
	"os"
	"strings"
	"testing"
)

// TestStateDirsMatchPackages: the state and log directories the code uses
// are the ones the systemd unit may write and the Debian package creates.
func TestStateDirsMatchPackages(t *testing.T) {
	if !strings.Contains(SystemdUnit, "ReadWritePaths="+LinuxStateDir+" "+LinuxLogDir) {
		t.Errorf("the unit's ReadWritePaths do not name %s and %s", LinuxStateDir, LinuxLogDir)
	}
	nfpm, err := os.ReadFile("nfpm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{LinuxStateDir, LinuxLogDir} {
		if !strings.Contains(string(nfpm), "dst: "+d+"\n") {
			t.Errorf("nfpm.yaml does not create %s", d)
		}
	}
	for goos, want := range map[string]string{"linux": "/var/lib/farmwatch", "darwin": "/Library/Application Support/farmwatch", "windows": `C:\ProgramData\farmwatch`, "freebsd": "/var/lib/farmwatch"} {
		if got := StateDir(goos); got != want {
			t.Errorf("StateDir(%s) = %q, want %q", goos, got, want)
		}
	}
	if MacConfig != "/Library/Application Support/farmwatch/farmwatch.yaml" || WindowsConfig != `C:\ProgramData\farmwatch\farmwatch.yaml` {
		t.Errorf("config paths %q %q", MacConfig, WindowsConfig)
	}
}
