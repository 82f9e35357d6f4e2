//go:build darwin

package lan

import (
	"context"
	"path/filepath"
	"time"

	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/internal/source/command"
)

// liveNeighbors runs /usr/sbin/arp -an (by absolute path, under a timeout):
// the route-socket dump it prints is not worth re-implementing.
func liveNeighbors(ctx context.Context, _ string) ([]Neighbor, error) {
	b, err := command.RunWith(ctx, command.Options{Timeout: 5 * time.Second, MaxOutput: maxSmallFile}, "/usr/sbin/arp", "-an")
	return parseDarwinARP(b), err
}

func collectNeighbors(ctx context.Context, root, dir string) error {
	ns, err := liveNeighbors(ctx, root)
	if ns == nil {
		ns = []Neighbor{}
	}
	if werr := source.WriteJSONFile(filepath.Join(dir, FileNeighbors), ns); werr != nil {
		return werr
	}
	return err
}
