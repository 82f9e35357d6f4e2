package tunnel

import (
	"path/filepath"
	"strings"
)

// procName returns the lowercase program name of a process: its name, or
// the base of its executable, without a Windows ".exe".
func procNames(name, exe string) []string {
	var out []string
	for _, n := range []string{name, baseName(exe)} {
		n = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".exe")
		if n != "" && !contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func baseName(p string) string {
	if p == "" {
		return ""
	}
	return filepath.Base(strings.ReplaceAll(p, `\`, "/"))
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// secretFlag reports whether a flag name carries a credential.
func secretFlag(a string) bool {
	a = strings.ToLower(strings.TrimLeft(a, "-/"))
	if k, _, ok := strings.Cut(a, "="); ok {
		a = k
	}
	for _, s := range []string{"token", "auth", "secret", "password", "passwd", "credential"} {
		if strings.Contains(a, s) {
			return true
		}
	}
	return false
}

// redactArgs copies a command line with credentials replaced: values of
// --token/--authtoken/... flags, the argument after a secret-named
// subcommand (ngrok `config add-authtoken X`), and URL passwords.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	redactNext := false
	for i, a := range args {
		switch {
		case redactNext:
			out[i] = "REDACTED"
			redactNext = false
			continue
		case i > 0 && secretFlag(a) && strings.HasPrefix(a, "-") && strings.Contains(a, "="):
			k, _, _ := strings.Cut(a, "=")
			out[i] = k + "=REDACTED"
			continue
		case i > 0 && secretFlag(a):
			out[i] = a
			redactNext = true
			continue
		}
		out[i] = redactURL(a)
	}
	return out
}

// flagValue returns the value of the first of names given as "--n v",
// "--n=v", "-n v" or "-n=v" (names include their dashes).
func flagValue(args []string, names ...string) string {
	for i := 1; i < len(args); i++ {
		a := args[i]
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1]
			}
			if strings.HasPrefix(a, n+"=") {
				return a[len(n)+1:]
			}
		}
	}
	return ""
}

func hasFlag(args []string, names ...string) bool {
	for _, a := range args[min(1, len(args)):] {
		for _, n := range names {
			if a == n || strings.HasPrefix(a, n+"=") {
				return true
			}
		}
	}
	return false
}

// positionals returns the non-flag arguments after argv[0]; valueFlags are
// flags (without "=") whose value is the next argument.
func positionals(args []string, valueFlags map[string]bool) []string {
	var out []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			if !strings.Contains(a, "=") && valueFlags[a] {
				i++
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// socatAddrs returns socat's two addresses (its last two arguments) when
// one of them listens: listen first, the other second.
func socatAddrs(args []string) (listen, other string, ok bool) {
	if len(args) < 3 {
		return "", "", false
	}
	a, b := args[len(args)-2], args[len(args)-1]
	isListen := func(s string) bool {
		kw, _, _ := strings.Cut(strings.ToUpper(s), ":")
		kw, _, _ = strings.Cut(kw, ",")
		return strings.HasSuffix(kw, "-LISTEN") || strings.HasSuffix(kw, "-L") || kw == "TCP-LISTEN" || strings.HasSuffix(kw, "-RECVFROM")
	}
	switch {
	case isListen(a):
		return a, b, true
	case isListen(b):
		return b, a, true
	}
	return "", "", false
}

// socatForwards reports whether a socat address reaches another host or
// program (a relay target) rather than a file or stdio.
func socatTargetKind(addr string) string {
	kw, _, _ := strings.Cut(strings.ToUpper(addr), ":")
	kw, _, _ = strings.Cut(kw, ",")
	switch {
	case kw == "EXEC" || kw == "SYSTEM" || kw == "SHELL":
		return "program"
	case strings.HasPrefix(kw, "TCP") || strings.HasPrefix(kw, "UDP") || strings.HasPrefix(kw, "SCTP") ||
		strings.HasPrefix(kw, "OPENSSL") || strings.HasPrefix(kw, "SSL") || strings.HasPrefix(kw, "SOCKS") ||
		strings.HasPrefix(kw, "PROXY") || strings.HasPrefix(kw, "IP"):
		return "network"
	case strings.HasPrefix(kw, "UNIX") || strings.HasPrefix(kw, "ABSTRACT"):
		return "unix-socket"
	}
	return ""
}

// sshFwd is what an ssh client command line forwards.
type sshFwd struct {
	Dynamic, Local, Remote []string
	Gateway                bool
}

// sshForwards parses -D, -L, -R and -g (and their -o equivalents) from an
// OpenSSH client command line, including combined flags (-NfD 1080).
func sshForwards(args []string) sshFwd {
	var f sshFwd
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return f
		case strings.HasPrefix(a, "-o"):
			opt := strings.TrimPrefix(a, "-o")
			if opt == "" && i+1 < len(args) {
				i++
				opt = args[i]
			}
			opt = strings.TrimSpace(opt)
			k, v, ok := strings.Cut(opt, "=")
			if !ok || strings.ContainsAny(k, " \t") {
				k, v, _ = strings.Cut(opt, " ")
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch strings.ToLower(k) {
			case "dynamicforward":
				f.Dynamic = append(f.Dynamic, v)
			case "localforward":
				f.Local = append(f.Local, v)
			case "remoteforward":
				f.Remote = append(f.Remote, v)
			case "gatewayports":
				f.Gateway = strings.EqualFold(v, "yes")
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags := a[1:]
			for j := 0; j < len(flags); j++ {
				c := flags[j]
				if c == 'g' {
					f.Gateway = true
				}
				if strings.IndexByte("BbcDEeFIiJLlmOopQRSWw", c) < 0 {
					continue
				}
				val := flags[j+1:]
				if val == "" && i+1 < len(args) {
					i++
					val = args[i]
				}
				switch c {
				case 'D':
					f.Dynamic = append(f.Dynamic, val)
				case 'L':
					f.Local = append(f.Local, val)
				case 'R':
					f.Remote = append(f.Remote, val)
				}
				break
			}
		default:
			return f
		}
	}
	return f
}
