package goinfo

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// selfExe is this test binary: a real Go executable built with modules.
func selfExe(t testing.TB) []byte {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadSelf(t *testing.T) {
	b := selfExe(t)
	info, err := Read(bytes.NewReader(b), int64(len(b)), 0)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if info.Module != "github.com/farmwatch/farmwatch" {
		t.Errorf("module %q, want github.com/farmwatch/farmwatch", info.Module)
	}
	if !info.Matches("github.com/farmwatch/farmwatch") || !info.Matches("github.com/farmwatch/farmwatch/internal/detect") || info.Matches("github.com/farmwatch") || info.Matches("") {
		t.Errorf("Matches wrong for %+v", info)
	}
	if info.GoVersion == "" {
		t.Error("no Go version")
	}
}

func TestReadBudget(t *testing.T) {
	b := selfExe(t)
	if _, err := Read(bytes.NewReader(b), int64(len(b)), 64); !errors.Is(err, ErrBudget) {
		t.Fatalf("budget 64: err %v, want ErrBudget", err)
	}
}

func TestReadNotGo(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("\x7fELF"), []byte("MZ\x90\x00 not a PE at all, just bytes"), bytes.Repeat([]byte{0xfe, 0xed, 0xfa, 0xcf}, 64)} {
		if info, err := Read(bytes.NewReader(in), int64(len(in)), 0); err == nil {
			t.Errorf("Read(%q) = %+v, want an error", in, info)
		}
	}
}

func TestMatches(t *testing.T) {
	i := Info{Path: "github.com/xtls/xray-core/main", Module: "github.com/xtls/xray-core"}
	for want, ok := range map[string]bool{
		"github.com/xtls/xray-core": true, "github.com/xtls/xray-core/main": true, "github.com/xtls/xray-core/": true,
		"github.com/xtls/xray": false, "github.com/xtls": false, "github.com/sagernet/sing-box": false,
	} {
		if got := i.Matches(want); got != ok {
			t.Errorf("Matches(%q) = %v, want %v", want, got, ok)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("MZ"))
	f.Add([]byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01"))
	f.Add([]byte("\xff Go buildinf:\x08\x02"))
	if b := selfExe(f); len(b) > 4096 {
		f.Add(b[:4096])
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		info, err := Read(bytes.NewReader(in), int64(len(in)), 1<<20)
		if err == nil && info.GoVersion == "" && info.Path == "" {
			t.Logf("empty info without error: %+v", info)
		}
	})
}
