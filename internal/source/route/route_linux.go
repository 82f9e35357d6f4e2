package route

import (
	"os"
	"strings"

	"github.com/farmwatch/farmwatch/internal/source/hostpath"
)

// defaultInterfaces reads the default routes' interfaces from
// proc/net/route under root.
func defaultInterfaces(root hostpath.Root) []string {
	b, err := os.ReadFile(root.Proc("net", "route"))
	if err != nil {
		return nil
	}
	return parseProcRoute(string(b))
}

func parseProcRoute(s string) []string {
	var out []string
	lines := strings.Split(s, "\n")
	if len(lines) < 2 {
		return nil
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) > 2 && f[1] == "00000000" && !contains(out, f[0]) {
			out = append(out, f[0])
		}
	}
	return out
}
