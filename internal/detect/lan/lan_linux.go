//go:build linux

package lan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/internal/source/command"
	"github.com/farmwatch/farmwatch/internal/source/hostpath"
)

// ipPaths are where iproute2's ip lives; it is run by absolute path only.
var ipPaths = []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}

// liveNeighbors reads /proc/net/arp under root and, for this host only,
// the IPv6 neighbours from `ip -6 neigh show`.
func liveNeighbors(ctx context.Context, root string) ([]Neighbor, error) {
	b, err := readFileLimited(hostpath.Root(root).File(FileProcARP))
	out := parseProcARP(b)
	if root == "/" || root == "" {
		v6, err6 := ipv6Neighbors(ctx)
		out = append(out, v6...)
		err = errors.Join(err, err6)
	}
	return out, err
}

func ipv6Neighbors(ctx context.Context) ([]Neighbor, error) {
	for _, p := range ipPaths {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		b, err := command.RunWith(ctx, command.Options{Timeout: 5 * time.Second, MaxOutput: maxSmallFile}, p, "-6", "neigh", "show")
		return parseIPNeigh(b), err
	}
	return nil, nil
}

// collectNeighbors copies proc/net/arp and writes IPv6 neighbours.
func collectNeighbors(ctx context.Context, root, dir string) error {
	var errs []error
	b, err := readFileLimited(hostpath.Root(root).File(FileProcARP))
	errs = append(errs, err)
	if b != nil {
		dst := filepath.Join(dir, FileProcARP)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			errs = append(errs, err)
		} else {
			errs = append(errs, os.WriteFile(dst, b, 0o644))
		}
	}
	var v6 []Neighbor
	if root == "/" || root == "" {
		v6, err = ipv6Neighbors(ctx)
		errs = append(errs, err)
	}
	if v6 == nil {
		v6 = []Neighbor{}
	}
	errs = append(errs, source.WriteJSONFile(filepath.Join(dir, FileNeighbors), v6))
	return errors.Join(errs...)
}
