package hostpath

import (
	"path/filepath"
	"testing"
)

func TestRoot(t *testing.T) {
	for _, r := range []Root{"", "/", `\`, `C:\`} {
		if !r.Live() || r.Path("/usr/bin/x") != "/usr/bin/x" || r.Path(`C:\x\y.exe`) != `C:\x\y.exe` {
			t.Errorf("%q: not the live root", r)
		}
	}
	fx := Root(filepath.FromSlash("/tmp/fx"))
	for in, want := range map[string]string{
		"/usr/bin/x":                       "/tmp/fx/usr/bin/x",
		`C:\Program Files\AnyDesk\a.exe`:   "/tmp/fx/Program Files/AnyDesk/a.exe",
		"/Applications/X.app/Contents/Mac": "/tmp/fx/Applications/X.app/Contents/Mac",
	} {
		if got := fx.Path(in); got != filepath.FromSlash(want) {
			t.Errorf("Path(%q) = %q, want %q", in, got, want)
		}
	}
	if fx.Live() {
		t.Error("a fixture root is live")
	}
	for got, want := range map[string]string{
		fx.Proc("net", "route"):      "/tmp/fx/proc/net/route",
		fx.Proc("1", "exe"):          "/tmp/fx/proc/1/exe",
		fx.Sys("class/net"):          "/tmp/fx/sys/class/net",
		fx.Etc("os-release"):         "/tmp/fx/etc/os-release",
		fx.File("var/lib/dpkg/info"): "/tmp/fx/var/lib/dpkg/info",
		Root("").Proc("net/arp"):     "/proc/net/arp",
		Root("/").Sys("bus", "usb"):  "/sys/bus/usb",
	} {
		if got != filepath.FromSlash(want) {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
