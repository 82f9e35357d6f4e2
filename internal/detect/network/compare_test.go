package network

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/pcapfile"
)

// TestCompareTshark runs the engine and tshark's SNI extraction side by
// side on the same ≥ 70 MB mixed pcap built from the corpus. Opt-in:
// FARMWATCH_TSHARK=1 (needs tshark on PATH). FARMWATCH_BENCH_PCAP=path
// keeps the generated pcap (for RSS measurements with the binary).
func TestCompareTshark(t *testing.T) {
	if os.Getenv("FARMWATCH_TSHARK") == "" {
		t.Skip("set FARMWATCH_TSHARK=1 to compare with tshark")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (Debian package tshark)")
	}
	data, n := corpusPcapTB(t, 30)
	path := os.Getenv("FARMWATCH_BENCH_PCAP")
	if path == "" {
		path = filepath.Join(t.TempDir(), "mixed.pcap")
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r, err := pcapfile.NewReader("mixed", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := AnalyzeReaders(context.Background(), Config{}, []*pcapfile.Reader{r}, 0, nil); err != nil {
		t.Fatal(err)
	}
	ours := time.Since(start)
	start = time.Now()
	cmd := exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-e", "tls.handshake.extensions_server_name")
	cmd.Stdout = &bytes.Buffer{}
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark: %v", err)
	}
	theirs := time.Since(start)
	t.Logf("%d packets, %.1f MB: farmwatch %.2fs (%.0f pkts/s), tshark SNI fields %.2fs (%.0f pkts/s), ratio %.1fx",
		n, float64(len(data))/1e6, ours.Seconds(), float64(n)/ours.Seconds(), theirs.Seconds(), float64(n)/theirs.Seconds(), theirs.Seconds()/ours.Seconds())
}
