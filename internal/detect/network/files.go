package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/farmwatch/farmwatch/internal/detect/network/pcapfile"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Progress is told how many file bytes were read out of the total.
type Progress func(done, total int64)

// AnalyzeFiles reads the captures as one capture merged by timestamp and
// returns the findings. When a file is truncated or corrupt the findings
// from everything read up to that point are still returned, with an error
// naming the file and byte offset (errors.As *pcapfile.OffsetError).
func AnalyzeFiles(ctx context.Context, cfg Config, paths []string, progress Progress) ([]report.Finding, Stats, error) {
	var readers []*pcapfile.Reader
	var total int64
	var openErrs []error
	defer func() {
		for _, r := range readers {
			_ = r.Close()
		}
	}()
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			total += st.Size()
		}
		r, err := pcapfile.Open(p)
		if err != nil {
			openErrs = append(openErrs, err)
			continue
		}
		readers = append(readers, r)
	}
	findings, st, err := AnalyzeReaders(ctx, cfg, readers, total, progress)
	return findings, st, errors.Join(append(openErrs, err)...)
}

// AnalyzeReaders is AnalyzeFiles over open readers; total (bytes, may be
// 0) only scales progress.
func AnalyzeReaders(ctx context.Context, cfg Config, readers []*pcapfile.Reader, total int64, progress Progress) ([]report.Finding, Stats, error) {
	e := New(cfg)
	m := pcapfile.NewMerger(readers...)
	feed := func(p *pcapfile.Packet) { e.Packet(p.Time, p.LinkType, p.Data) }
	var ctxErr error
	for i := 0; ; i++ {
		if err := m.Next(feed); err == io.EOF {
			break
		}
		if i&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				ctxErr = fmt.Errorf("analysis interrupted: %w", err)
				break
			}
			if progress != nil {
				progress(readBytes(readers), total)
			}
		}
	}
	if progress != nil {
		progress(readBytes(readers), total)
	}
	findings := e.Close()
	errs := m.Errs()
	if ctxErr != nil {
		errs = append(errs, ctxErr)
	}
	return findings, e.Stats(), errors.Join(errs...)
}

func readBytes(rs []*pcapfile.Reader) int64 {
	var n int64
	for _, r := range rs {
		n += r.Bytes()
	}
	return n
}
