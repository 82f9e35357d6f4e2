package source

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitServiceCommand(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		path string
		args []string
	}{
		{`C:\Windows\system32\svchost.exe -k netsvcs -p`, `C:\Windows\system32\svchost.exe`, []string{"-k", "netsvcs", "-p"}},
		{`"C:\Program Files\TeamViewer\TeamViewer_Service.exe"`, `C:\Program Files\TeamViewer\TeamViewer_Service.exe`, nil},
		{`"C:\Program Files (x86)\AnyDesk\AnyDesk.exe" --service`, `C:\Program Files (x86)\AnyDesk\AnyDesk.exe`, []string{"--service"}},
		// Unquoted path with spaces: ends at the .exe.
		{`C:\Program Files\Splashtop\Splashtop Remote\Server\SRService.exe -s "a b"`, `C:\Program Files\Splashtop\Splashtop Remote\Server\SRService.exe`, []string{"-s", "a b"}},
		{`C:\PROGRAM FILES\FOO\FOO.EXE`, `C:\PROGRAM FILES\FOO\FOO.EXE`, nil},
		// ".exe" inside a directory name does not end the path.
		{`C:\tools.exe.d\run.exe /x`, `C:\tools.exe.d\run.exe`, []string{"/x"}},
		// No .exe: the first word.
		{`C:\Windows\System32\run.bat arg1 arg2`, `C:\Windows\System32\run.bat`, []string{"arg1", "arg2"}},
		{`\??\C:\Windows\system32\drivers\foo.exe`, `C:\Windows\system32\drivers\foo.exe`, nil},
		{`   "C:\x y\z.exe"   -a	-b  `, `C:\x y\z.exe`, []string{"-a", "-b"}},
		{`"C:\unterminated\x.exe -a`, `C:\unterminated\x.exe -a`, nil},
		{`"C:\a\b.exe"-k`, `C:\a\b.exe`, []string{"-k"}},
		{`%SystemRoot%\System32\svchost.exe -k LocalService`, `%SystemRoot%\System32\svchost.exe`, []string{"-k", "LocalService"}},
		{`x.exe`, `x.exe`, nil},
		// Bytes whose lower case is longer (invalid UTF-8, İ): found by fuzzing.
		{"\xe8.eXe -a", "\xe8.eXe", []string{"-a"}},
		{`C:\İİ\x.EXE -b`, `C:\İİ\x.EXE`, []string{"-b"}},
		{``, ``, nil},
		{`   `, ``, nil},
	} {
		path, args := splitServiceCommand(tc.cmd)
		if path != tc.path || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("splitServiceCommand(%q) = %q, %q; want %q, %q", tc.cmd, path, args, tc.path, tc.args)
		}
	}
}

func TestSplitWindowsArgs(t *testing.T) {
	// Cases from Microsoft's "Parsing C++ command-line arguments".
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`"a b c" d e`, []string{"a b c", "d", "e"}},
		{`"ab\"c" "\\" d`, []string{`ab"c`, `\`, "d"}},
		{`a\\\b d"e f"g h`, []string{`a\\\b`, "de fg", "h"}},
		{`a\\\"b c d`, []string{`a\"b`, "c", "d"}},
		{`a\\\\"b c" d e`, []string{`a\\b c`, "d", "e"}},
		{`a"b"" c d`, []string{`ab" c d`}},
		{`""`, []string{""}},
		{`"" x`, []string{"", "x"}},
		{`trailing\`, []string{`trailing\`}},
		{`\\server\share\x`, []string{`\\server\share\x`}},
		{"  \t ", nil},
		{"", nil},
	} {
		if got := splitWindowsArgs(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitWindowsArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExpandWindowsEnv(t *testing.T) {
	env := map[string]string{"SYSTEMROOT": `C:\Windows`, "PROGRAMFILES": `C:\Program Files`}
	lookup := func(k string) (string, bool) { v, ok := env[strings.ToUpper(k)]; return v, ok }
	for in, want := range map[string]string{
		`%SystemRoot%\System32\svchost.exe`: `C:\Windows\System32\svchost.exe`,
		`%ProgramFiles%\a\%SYSTEMROOT%.exe`: `C:\Program Files\a\C:\Windows.exe`,
		`C:\100%\x.exe`:                     `C:\100%\x.exe`,
		`%UNKNOWN%\x`:                       `%UNKNOWN%\x`,
		`50% %SystemRoot%`:                  `50% C:\Windows`,
		`%%`:                                `%%`,
		`no vars`:                           `no vars`,
	} {
		if got := expandWindowsEnv(in, lookup); got != want {
			t.Errorf("expandWindowsEnv(%q) = %q, want %q", in, got, want)
		}
	}
}

// escapeWindowsArg quotes s so that CommandLineToArgvW reads it back (the
// inverse of splitWindowsArgs, as Go's syscall.EscapeArg does on Windows).
func escapeWindowsArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(s[i])
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

func FuzzSplitServiceCommand(f *testing.F) {
	f.Add(`C:\Program Files\Foo\foo.exe`, "-k", "a b")
	f.Add(`C:\a\b.exe`, `x\"y`, `\\`)
	f.Add(`\??\C:\x.exe`, `""`, "")
	f.Fuzz(func(t *testing.T, path, a1, a2 string) {
		// Any input: no panic, a trimmed path.
		for _, cmd := range []string{path, path + " " + a1 + " " + a2} {
			p, _ := splitServiceCommand(cmd)
			if p != strings.TrimSpace(p) {
				t.Fatalf("path %q of %q is not trimmed", p, cmd)
			}
		}
		// A quoted path and escaped arguments come back exactly.
		if strings.ContainsAny(path, "\"\x00") || path != strings.TrimSpace(path) || strings.HasPrefix(path, `\??\`) {
			return
		}
		cmd := `"` + path + `" ` + escapeWindowsArg(a1) + " " + escapeWindowsArg(a2)
		p, args := splitServiceCommand(cmd)
		if p != path || !reflect.DeepEqual(args, []string{a1, a2}) {
			t.Fatalf("splitServiceCommand(%q) = %q, %q; want %q, %q", cmd, p, args, path, []string{a1, a2})
		}
	})
}
