package source

import (
	"strings"
)

// This file splits Windows service command lines. It has no build tag so
// that it is tested on every OS; live_windows.go uses it.

// splitServiceCommand splits a service's BinaryPathName (as the service
// control manager stores it) into the executable path and its arguments.
//
// A quoted path ends at its closing quote. An unquoted path may hold
// spaces (C:\Program Files\Foo\foo.exe -k), which the service control
// manager resolves by trying each space in turn; here the path ends at the
// first ".exe" followed by a space or the end, else at the first space.
// The NT prefix \??\ is removed. Arguments follow CommandLineToArgvW's
// quoting rules.
func splitServiceCommand(cmd string) (path string, args []string) {
	cmd = strings.TrimLeft(cmd, " \t")
	if cmd == "" {
		return "", nil
	}
	var rest string
	if cmd[0] == '"' {
		end := strings.IndexByte(cmd[1:], '"')
		if end < 0 {
			path = cmd[1:]
		} else {
			path, rest = cmd[1:1+end], cmd[2+end:]
		}
	} else if i := exeEnd(cmd); i > 0 {
		path, rest = cmd[:i], cmd[i:]
	} else if i := strings.IndexAny(cmd, " \t"); i >= 0 {
		path, rest = cmd[:i], cmd[i:]
	} else {
		path = cmd
	}
	path = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(path), `\??\`))
	return path, splitWindowsArgs(rest)
}

// exeEnd returns the index just past the first ".exe" (in any ASCII case)
// in s that ends a word, or -1.
func exeEnd(s string) int {
	for i := 0; i+4 <= len(s); i++ {
		if s[i] == '.' && strings.EqualFold(s[i+1:i+4], "exe") && (i+4 == len(s) || s[i+4] == ' ' || s[i+4] == '\t') {
			return i + 4
		}
	}
	return -1
}

// splitWindowsArgs splits a command line's arguments the way
// CommandLineToArgvW and the Microsoft C runtime do: arguments are
// separated by spaces or tabs; double quotes group and are removed; 2n
// backslashes before a quote become n backslashes and the quote acts, 2n+1
// become n and a literal quote; backslashes elsewhere are literal; "" inside
// a quoted argument is a literal quote.
func splitWindowsArgs(s string) []string {
	var args []string
	var b strings.Builder
	inArg, inQuote := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case (c == ' ' || c == '\t') && !inQuote:
			if inArg {
				args = append(args, b.String())
				b.Reset()
				inArg = false
			}
		case c == '\\':
			inArg = true
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				b.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					b.WriteByte('"')
					continue
				}
			} else {
				b.WriteString(strings.Repeat(`\`, n))
			}
			i-- // look at the character after the backslashes again
		case c == '"':
			inArg = true
			if inQuote && i+1 < len(s) && s[i+1] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			inQuote = !inQuote
		default:
			inArg = true
			b.WriteByte(c)
		}
	}
	if inArg {
		args = append(args, b.String())
	}
	return args
}

// expandWindowsEnv replaces %NAME% references whose variable lookup knows
// (names compare case-insensitively when lookup does so); unknown ones and
// lone percent signs are left as they are.
func expandWindowsEnv(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		name := s[i+1 : i+1+j]
		if v, ok := lookup(name); ok && name != "" {
			b.WriteString(s[:i])
			b.WriteString(v)
			s = s[i+2+j:]
			continue
		}
		// Not a variable: keep the first percent sign, and let the second
		// one start the next reference.
		b.WriteString(s[:i+1])
		s = s[i+1:]
	}
	b.WriteString(s)
	return b.String()
}
