package command

import (
	"context"
	"errors"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The tests run real programs of this machine (/bin/sh and coreutils).
func needSh(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("POSIX shell test")
	}
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Fatalf("/bin/sh missing: %v", err)
	}
}

func TestRunOutputAndLocale(t *testing.T) {
	needSh(t)
	b, err := Run(context.Background(), "/bin/sh", "-c", `echo "$LANG $PATH"; echo noise >&2`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != "C /usr/bin:/bin:/usr/sbin:/sbin" {
		t.Errorf("stdout %q (stderr must not be mixed in)", got)
	}
	b, err = RunWith(context.Background(), Options{Combined: true}, "/bin/sh", "-c", `echo out; echo err >&2`)
	if err != nil || !strings.Contains(string(b), "out") || !strings.Contains(string(b), "err") {
		t.Errorf("combined %q %v", b, err)
	}
	t.Setenv("FARMWATCH_COMMAND_TEST", "inherited")
	b, err = RunWith(context.Background(), Options{InheritEnv: true}, "/bin/sh", "-c", `echo $FARMWATCH_COMMAND_TEST`)
	if err != nil || strings.TrimSpace(string(b)) != "inherited" {
		t.Errorf("inherit %q %v", b, err)
	}
}

func TestRunFailureCarriesStderrTail(t *testing.T) {
	needSh(t)
	b, err := Run(context.Background(), "/bin/sh", "-c", `echo partial; i=0; while [ $i -lt 300 ]; do printf 'xxxxxxxxxx' >&2; i=$((i+1)); done; echo END-OF-ERROR >&2; exit 3`)
	if err == nil {
		t.Fatal("exit 3 is not an error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "/bin/sh -c") || !strings.Contains(msg, "exit status 3") || !strings.HasSuffix(msg, "END-OF-ERROR") {
		t.Errorf("error %q", msg)
	}
	if len(msg) > 2*stderrTail {
		t.Errorf("error is %d bytes: stderr not cut to its tail", len(msg))
	}
	if strings.TrimSpace(string(b)) != "partial" {
		t.Errorf("output %q", b)
	}
}

func TestRunTimeout(t *testing.T) {
	needSh(t)
	start := time.Now()
	_, err := RunWith(context.Background(), Options{Timeout: 200 * time.Millisecond}, "/bin/sh", "-c", "exec sleep 30")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 200ms") {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, "/bin/sh", "-c", "true"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestRunOutputLimit(t *testing.T) {
	needSh(t)
	if _, err := os.Stat("/usr/bin/yes"); err != nil {
		t.Fatalf("/usr/bin/yes missing: %v", err)
	}
	start := time.Now()
	b, err := RunWith(context.Background(), Options{MaxOutput: 4096}, "/usr/bin/yes")
	if !errors.Is(err, ErrOutputLimit) {
		t.Fatalf("err %v", err)
	}
	if len(b) != 4096 {
		t.Errorf("kept %d bytes, want the first 4096", len(b))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s: program not stopped at the limit", d)
	}
}

func TestRunRefusesRelativeAndEmpty(t *testing.T) {
	for _, argv := range [][]string{nil, {""}, {"sh", "-c", "true"}, {"./sh"}} {
		if _, err := Run(context.Background(), argv...); err == nil {
			t.Errorf("%q: no error", argv)
		}
	}
	if _, err := Run(context.Background(), "/nonexistent/farmwatch-command"); err == nil || !strings.Contains(err.Error(), "/nonexistent/farmwatch-command") {
		t.Errorf("missing program: %v", err)
	}
}

// TestOnlyRunner: no other agent code (internal/, cmd/) imports os/exec;
// programs run through this package (tests, test-helper packages named
// *test, and tools/ may).
func TestOnlyRunner(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	for _, top := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// Test-helper packages (named like net/http/httptest) drive
			// real programs for tests; they are not agent code.
			if d.IsDir() && strings.HasSuffix(d.Name(), "test") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, im := range f.Imports {
				if im.Path.Value == `"os/exec"` && !strings.HasSuffix(filepath.ToSlash(p), "internal/source/command/command.go") {
					t.Errorf("%s imports os/exec: run programs with internal/source/command", p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
