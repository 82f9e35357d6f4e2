// Package testenv decides what a test does when something it needs — real
// software, the shared research data, root, a kernel feature — is missing:
// under FARMWATCH_E2E=1 (what `make test` sets) it fails, naming what is
// missing; otherwise (a developer's `go test`) it skips with the same words.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// E2E reports whether FARMWATCH_E2E=1: nothing may skip.
func E2E() bool { return os.Getenv("FARMWATCH_E2E") == "1" }

// Missing fails (FARMWATCH_E2E=1) or skips the test with the reason.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if E2E() {
		t.Fatalf("FARMWATCH_E2E=1 and this test cannot run: %s", msg)
	}
	t.Skip(msg)
}
