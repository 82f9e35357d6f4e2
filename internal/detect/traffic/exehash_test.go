package traffic

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestExeHashes(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "opt"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "opt", "relay")
	write := func(b string, mod time.Time) {
		if err := os.WriteFile(path, []byte(b), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	want := func(b string) string { s := sha256.Sum256([]byte(b)); return hex.EncodeToString(s[:]) }
	var h exeHashes
	write("first build", time.Unix(1000, 0))
	if got := h.sum(root, "/opt/relay"); got != want("first build") {
		t.Fatalf("sum = %q, want %q", got, want("first build"))
	}
	// Replaced in place (a renamed tool swapped in): recomputed.
	write("second build!", time.Unix(2000, 0))
	if got := h.sum(root, "/opt/relay"); got != want("second build!") {
		t.Errorf("after change: sum = %q, want %q", got, want("second build!"))
	}
	if got := h.sum(root, "/opt/missing"); got != "" {
		t.Errorf("missing file hashed: %q", got)
	}
	if got := h.sum(root, "/opt"); got != "" {
		t.Errorf("directory hashed: %q", got)
	}
}
