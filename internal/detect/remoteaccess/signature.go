package remoteaccess

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"

	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/internal/source/codesign"
)

// maxHashBytes is the largest executable hashed for evidence.sha256.
const maxHashBytes = 512 << 20

// signatureOf is the verdict on the signatures of a finding's processes:
// the first one's, unless another process of the finding has a verdict
// that is not valid (a signer scope must hold for every process).
func signatureOf(procs []source.Process) (status, reason string) {
	status, reason = procs[0].Signature, procs[0].SignatureReason
	for _, p := range procs[1:] {
		if status == string(codesign.Valid) && p.Signature != status {
			status, reason = p.Signature, p.SignatureReason
			if status == "" {
				status, reason = string(codesign.Unverified), "the signature of "+p.Exe+" was not checked"
			}
		}
	}
	return status, reason
}

// sameSHA256 is the executables' SHA-256 when all processes run the same
// file, "" otherwise or when unknown.
func sameSHA256(procs []source.Process) string {
	h := procs[0].SHA256
	for _, p := range procs[1:] {
		if p.SHA256 != h {
			return ""
		}
	}
	return h
}

// exeHashes caches executables' SHA-256 by process (pid, start time and
// path: a running process's image does not change).
type exeHashes struct {
	mu sync.Mutex
	m  map[string]string
}

// hashProcs fills SHA256 for a finding's processes whose source did not
// (Linux, where no signature is checked): read through the source, so a
// deleted or replaced file still hashes; left empty for snapshots.
func (d *Detector) hashProcs(ctx context.Context, src source.Source, h *hit) {
	for i := range h.procs {
		p := &h.procs[i]
		if p.SHA256 != "" || ctx.Err() != nil {
			continue
		}
		key := fmt.Sprintf("%d|%d|%s", p.PID, p.CreateTime.UnixNano(), p.Exe)
		d.hashes.mu.Lock()
		sum, ok := d.hashes.m[key]
		d.hashes.mu.Unlock()
		if !ok {
			sum = hashExe(ctx, src, *p)
			d.hashes.mu.Lock()
			if d.hashes.m == nil || len(d.hashes.m) > 4096 {
				d.hashes.m = map[string]string{}
			}
			d.hashes.m[key] = sum
			d.hashes.mu.Unlock()
		}
		p.SHA256 = sum
	}
}

func hashExe(ctx context.Context, src source.Source, p source.Process) string {
	rc, err := src.OpenExe(p)
	if err != nil {
		return ""
	}
	defer rc.Close()
	w := sha256.New()
	n, err := io.Copy(w, io.LimitReader(ctxReader{ctx, rc}, maxHashBytes+1))
	if err != nil || n > maxHashBytes {
		return ""
	}
	return hex.EncodeToString(w.Sum(nil))
}

// ctxReader stops reading when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
