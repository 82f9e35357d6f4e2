package remoteaccess

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/goinfo"
	"github.com/farmwatch/farmwatch/internal/source"
)

// contentCache remembers, per executable (path and start time), which
// catalog tool its content names — by the Go build info it embeds or by a
// byte marker — so each binary is read at most once.
type contentCache struct {
	mu   sync.Mutex
	seen map[string]contentResult
}

type contentResult struct {
	tool  int
	trait string
}

func newContentCache() *contentCache { return &contentCache{seen: map[string]contentResult{}} }

// statReaderAt is what a live source's OpenExe returns (an *os.File): it
// can be read at offsets, which the Go build info reader needs.
type statReaderAt interface {
	io.ReaderAt
	Stat() (fs.FileInfo, error)
}

// lookup opens the process's executable (live sources only) and returns the
// tool its content identifies and the trait that did, or -1.
func (c *contentCache) lookup(ctx context.Context, src source.Source, p source.Process, ix *index, limit int64) (int, string) {
	key := p.Exe + "|" + p.CreateTime.String()
	c.mu.Lock()
	r, ok := c.seen[key]
	c.mu.Unlock()
	if ok {
		return r.tool, r.trait
	}
	r = contentResult{tool: -1}
	rc, err := src.OpenExe(p)
	if err == nil {
		r.tool, r.trait = identifyContent(ctx, rc, ix, limit)
		rc.Close()
	}
	c.mu.Lock()
	if len(c.seen) > 8192 {
		c.seen = map[string]contentResult{}
	}
	c.seen[key] = r
	c.mu.Unlock()
	return r.tool, r.trait
}

// identifyContent checks an executable's Go build info against the
// catalog's module paths, then scans it for byte markers.
func identifyContent(ctx context.Context, rc io.Reader, ix *index, limit int64) (int, string) {
	if len(ix.goModules) > 0 {
		if ra, ok := rc.(statReaderAt); ok {
			if st, err := ra.Stat(); err == nil && st.Mode().IsRegular() {
				if t, trait := matchGoModule(ra, st.Size(), ix); t >= 0 {
					return t, trait
				}
			}
		}
	}
	if len(ix.markers) == 0 {
		return -1, ""
	}
	if t, m := scanMarkers(ctx, rc, ix.markers, limit); t >= 0 {
		return t, fmt.Sprintf("binary contains marker %q", m)
	}
	return -1, ""
}

// matchGoModule reads the Go build info of an executable and returns the
// tool whose module path it names (the longest path wins), or -1.
func matchGoModule(r io.ReaderAt, size int64, ix *index) (int, string) {
	info, err := goinfo.Read(r, size, goinfo.DefaultBudget)
	if err != nil {
		return -1, ""
	}
	best, bestLen := -1, 0
	for _, m := range ix.goModules {
		if info.Matches(m.path) && len(m.path) > bestLen {
			best, bestLen = m.tool, len(m.path)
		}
	}
	if best < 0 {
		return -1, ""
	}
	if info.Module == "" {
		// Built without modules (Debian's GOPATH builds).
		return best, fmt.Sprintf("Go build info names main package %s", info.Path)
	}
	return best, fmt.Sprintf("Go build info names module %s (main package %s)", info.Module, info.Path)
}

// scanChunk is how much of a file scanMarkers holds at once.
const scanChunk = 256 << 10

// scanBufs recycles scanMarkers' buffer: one scan reads tens of binaries
// one after another, and a fresh buffer per binary was most of the
// agent's start-up garbage (and so of its peak RSS).
var scanBufs = sync.Pool{New: func() any { b := make([]byte, 0, scanChunk+4096); return &b }}

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
	bp := scanBufs.Get().(*[]byte)
	defer scanBufs.Put(bp)
	if cap(*bp) < scanChunk+longest {
		*bp = make([]byte, 0, scanChunk+longest)
	}
	buf := (*bp)[:0]
	lr := io.LimitReader(r, limit)
	for {
		if ctx.Err() != nil {
			return -1, ""
		}
		keep := len(buf)
		n, err := io.ReadFull(lr, buf[keep:keep+scanChunk])
		buf = buf[:keep+n]
		for _, m := range markers {
			if bytes.Contains(buf, m.bytes) {
				return m.tool, string(m.bytes)
			}
		}
		if err != nil {
			return -1, ""
		}
		keep = min(len(buf), longest-1)
		copy(buf, buf[len(buf)-keep:])
		buf = buf[:keep]
	}
}
