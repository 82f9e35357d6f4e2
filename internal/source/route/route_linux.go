package traffic

import (
	"os"
	"path/filepath"
	"strings"
)

// defaultRouteInterfaces reads the default routes' interfaces from
// proc/net/route under root.
func defaultRouteInterfaces(root string) []string {
	b, err := os.ReadFile(filepath.Join(root, "proc/net/route"))
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
