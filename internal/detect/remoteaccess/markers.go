package remoteaccess

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/farmwatch/farmwatch/internal/source"
)

// markerCache remembers, per executable (path, size, start time), which
// catalog marker it holds, so each binary is read at most once.
type markerCache struct {
	mu   sync.Mutex
	seen map[string]markerResult
}

type markerResult struct {
	tool   int
	marker string
}

func newMarkerCache() *markerCache { return &markerCache{seen: map[string]markerResult{}} }

// lookup reads the process's executable (live sources only) in chunks and
// returns the first tool whose marker it contains, or -1.
func (c *markerCache) lookup(ctx context.Context, src source.Source, p source.Process, markers []marker, limit int64) (int, string) {
	key := p.Exe + "|" + p.CreateTime.String()
	c.mu.Lock()
	r, ok := c.seen[key]
	c.mu.Unlock()
	if ok {
		return r.tool, r.marker
	}
	r = markerResult{tool: -1}
	rc, err := src.OpenExe(p)
	if err == nil {
		r.tool, r.marker = scanMarkers(ctx, rc, markers, limit)
		rc.Close()
	}
	c.mu.Lock()
	if len(c.seen) > 8192 {
		c.seen = map[string]markerResult{}
	}
	c.seen[key] = r
	c.mu.Unlock()
	return r.tool, r.marker
}

// scanMarkers streams r (at most limit bytes) looking for any marker. Chunks
// overlap by the longest marker so none is missed at a boundary.
func scanMarkers(ctx context.Context, r io.Reader, markers []marker, limit int64) (int, string) {
	longest := 0
	for _, m := range markers {
		longest = max(longest, len(m.bytes))
	}
	if longest == 0 {
		return -1, ""
	}
	const chunk = 1 << 20
	buf := make([]byte, 0, chunk+longest)
	lr := io.LimitReader(r, limit)
	tmp := make([]byte, chunk)
	for {
		if ctx.Err() != nil {
			return -1, ""
		}
		n, err := io.ReadFull(lr, tmp)
		buf = append(buf, tmp[:n]...)
		for _, m := range markers {
			if bytes.Contains(buf, m.bytes) {
				return m.tool, string(m.bytes)
			}
		}
		if err != nil {
			return -1, ""
		}
		keep := min(len(buf), longest-1)
		copy(buf, buf[len(buf)-keep:])
		buf = buf[:keep]
	}
}
