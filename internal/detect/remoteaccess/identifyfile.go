package remoteaccess

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/farmwatch/farmwatch/internal/source"
)

// FileMatch is what the catalog makes of one executable file.
type FileMatch struct {
	Tool       string   `json:"tool"`
	Product    string   `json:"product"`
	CatalogID  string   `json:"catalog_id"`
	Category   string   `json:"category"`
	Confidence float64  `json:"confidence"`
	Traits     []string `json:"matched"`
	// Renamed: the file was identified by identity or content, not by
	// its own name.
	Renamed bool `json:"renamed,omitempty"`
}

// IdentifyFile runs the detector's identification on one file as if it
// were the executable of a process on a host of hostOS ("windows",
// "darwin", "linux"): p carries the file's path as Exe and Name, and the
// identity its readers found. It returns nil when no catalog tool matches.
// For `farmwatch-agent identify`.
func (d *Detector) IdentifyFile(ctx context.Context, hostOS string, p source.Process) *FileMatch {
	if p.Name == "" {
		p.Name = filepath.Base(strings.ReplaceAll(p.Exe, `\`, "/"))
	}
	p.PID = -1 // not this process: its content may be read
	t, traits, renamed, conf := d.identify(ctx, identifySource{}, hostOS, p)
	if t < 0 {
		return nil
	}
	tool := &d.ix.tools[t]
	return &FileMatch{Tool: tool.ReportID(), Product: tool.Name, CatalogID: tool.ID, Category: string(tool.Category),
		Confidence: conf, Traits: traits, Renamed: renamed}
}

// identifySource is a Source whose only content is files opened by path.
type identifySource struct{}

func (identifySource) Host() source.HostInfo { return source.HostInfo{} }
func (identifySource) Snapshot() bool        { return false }
func (identifySource) Root() string          { return "/" }
func (identifySource) Processes(context.Context) ([]source.Process, error) {
	return nil, nil
}
func (identifySource) Connections(context.Context) ([]source.Connection, error) {
	return nil, nil
}
func (identifySource) Services(context.Context) ([]source.Service, error) { return nil, nil }
func (identifySource) OpenExe(p source.Process) (io.ReadCloser, error) {
	f, err := os.Open(p.Exe)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p.Exe, err)
	}
	return f, nil
}
