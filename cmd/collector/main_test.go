package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/farmwatch/farmwatch/internal/collector/server"
	"github.com/farmwatch/farmwatch/internal/collector/store"
)

func runCmd(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := runCmd("", "version"); code != 0 || !strings.HasPrefix(out, "farmwatch-collector ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errOut := runCmd("", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd("", "serve", "--no-such-flag"); code != 2 || !strings.Contains(errOut, "no-such-flag") {
		t.Fatalf("bad flag: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd("", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--enroll-secret", "short"); code != 2 || !strings.Contains(errOut, "shorter than 16") {
		t.Fatalf("short secret: %d %q", code, errOut)
	}
}

func TestUserAddAndTokenAdd(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := runCmd("s3cret-password\n", "user", "add", "alice", "--data-dir", dir); code != 0 || !strings.Contains(out, "alice") {
		t.Fatalf("user add: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCmd("short\n", "user", "add", "bob", "--data-dir", dir); code != 2 || !strings.Contains(errOut, "shorter than 8") {
		t.Fatalf("short password: %d %q", code, errOut)
	}
	code, tok, _ := runCmd("", "token", "add", "soar", "--data-dir", dir)
	if code != 0 || len(strings.TrimSpace(tok)) != 43 {
		t.Fatalf("token add: %d %q", code, tok)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "farmwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.User(context.Background(), "alice")
	if err != nil || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("s3cret-password")) != nil {
		t.Fatalf("stored user %+v, %v", u, err)
	}
	if name, err := st.APIToken(context.Background(), server.HashToken(strings.TrimSpace(tok))); err != nil || name != "soar" {
		t.Fatalf("token lookup %q %v", name, err)
	}
}
