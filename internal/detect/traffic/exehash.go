package traffic

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"time"
)

// maxHashBytes bounds what is read to hash an executable: bigger files
// (browsers, IDEs) are reported without a hash rather than stall a capture.
const maxHashBytes = 256 << 20

// exeHashes caches executables' SHA-256 by path, recomputed when the
// file's size or modification time changes. Not safe for concurrent use:
// the connection table's mutex guards it.
type exeHashes struct {
	m map[string]exeHash
}

type exeHash struct {
	size int64
	mod  time.Time
	sum  string
}

// sum returns the hex SHA-256 of exe (an absolute path on the host, read
// under root), or "" when it cannot be read or is larger than maxHashBytes.
func (h *exeHashes) sum(root, exe string) string {
	if exe == "" {
		return ""
	}
	path := exe
	if root != "" && root != "/" {
		path = filepath.Join(root, exe)
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() > maxHashBytes {
		return ""
	}
	if c, ok := h.m[exe]; ok && c.size == st.Size() && c.mod.Equal(st.ModTime()) {
		return c.sum
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	d := sha256.New()
	if _, err := io.Copy(d, io.LimitReader(f, maxHashBytes)); err != nil {
		return ""
	}
	if h.m == nil || len(h.m) > 1024 {
		h.m = map[string]exeHash{}
	}
	sum := hex.EncodeToString(d.Sum(nil))
	h.m[exe] = exeHash{st.Size(), st.ModTime(), sum}
	return sum
}
