//go:build darwin

package lan

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/farmwatch/farmwatch/internal/source"
)

// liveNeighbors runs /usr/sbin/arp -an (by absolute path, under a timeout):
// the route-socket dump it prints is not worth re-implementing.
func liveNeighbors(ctx context.Context, _ string) ([]Neighbor, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err := exec.CommandContext(ctx, "/usr/sbin/arp", "-an").Output()
	if len(b) > maxSmallFile {
		b = b[:maxSmallFile]
	}
	if err != nil {
		err = fmt.Errorf("arp -an: %w", err)
	}
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
