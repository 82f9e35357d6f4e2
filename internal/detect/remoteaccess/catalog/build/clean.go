package build

import (
	"net"
	"regexp"
	"strings"
)

// globChars mark a name as a pattern rather than a literal.
const globChars = "*?[]<>"

var (
	hexHash      = regexp.MustCompile(`^[0-9A-Fa-f]{32,64}$`)
	placeholder  = regexp.MustCompile(`<[^<>]*>`)
	domainLabel  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	tldLabel     = regexp.MustCompile(`^[a-z]{2,63}$`)
	portSpec     = regexp.MustCompile(`^(tcp|udp)/([0-9]{1,5})$`)
	idPattern    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	nonAlnumRuns = regexp.MustCompile(`[^a-z0-9]+`)
)

// slugID turns a LOLRMM tool name into a catalog id ("Level.io" -> "level-io").
func slugID(name string) string {
	s := strings.ToLower(name)
	s = strings.NewReplacer("'", "", "’", "").Replace(s)
	s = nonAlnumRuns.ReplaceAllString(s, "-")
	return strings.Trim(s, "-")
}

// cleanDomain normalises one LOLRMM/curated domain. It drops the
// "user_managed" sentinel, placeholders, IP literals, regular expressions and
// wildcard-only junk, strips schemes, paths and ports, and turns a wildcard
// inside a name ("router*.teamviewer.com") into a suffix glob over the literal
// part ("*.teamviewer.com"). ok is false when nothing usable is left.
func cleanDomain(s string, g *genericRules) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.Count(s, ":") == 1 {
		if _, ok := portNumber(s[i+1:]); ok {
			s = s[:i]
		}
	}
	s = strings.TrimSuffix(s, ".")
	if s == "" || s == "user_managed" || strings.ContainsAny(s, "<> \t[](){}\\|+^$?,;=@!\"'") {
		return "", false
	}
	if net.ParseIP(strings.Trim(s, "[]")) != nil {
		return "", false
	}
	labels := strings.Split(s, ".")
	last := -1
	for i, l := range labels {
		if strings.Contains(l, "*") {
			last = i
		}
	}
	suffix := labels[last+1:]
	if len(suffix) < 2 {
		return "", false
	}
	for _, l := range suffix {
		if !domainLabel.MatchString(l) {
			return "", false
		}
	}
	if !tldLabel.MatchString(suffix[len(suffix)-1]) {
		return "", false
	}
	lit := strings.Join(suffix, ".")
	out := lit
	if last >= 0 {
		out = "*." + lit
	}
	if isShared(lit, last >= 0, g) {
		return "", false
	}
	return out, true
}

// isShared reports whether a domain (its literal part lit, wild if it was a
// wildcard) lies on shared infrastructure named in the generic rules.
func isShared(lit string, wild bool, g *genericRules) bool {
	if g == nil {
		return false
	}
	under := func(d, parent string) bool { return d == parent || strings.HasSuffix(d, "."+parent) }
	for _, p := range g.SharedDomains {
		if under(lit, strings.TrimPrefix(strings.ToLower(p), "*.")) {
			return true
		}
	}
	for _, p := range g.SharedSuffixes {
		p = strings.TrimPrefix(strings.ToLower(p), "*.")
		if lit == p || (wild && under(lit, p)) {
			return true
		}
	}
	return false
}

// cleanPath normalises an install path glob: doubled backslashes collapse,
// placeholders ("<string ID>") become '*'. Bare file names are not paths
// (they carry process names); a bare "X.app" bundle becomes "**/X.app".
// Hashes and prose are dropped.
func cleanPath(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for strings.Contains(s, `\\`) {
		s = strings.ReplaceAll(s, `\\`, `\`)
	}
	s = placeholder.ReplaceAllString(s, "*")
	if s == "" || hexHash.MatchString(s) {
		return "", false
	}
	if !strings.ContainsAny(s, `/\`) {
		if strings.HasSuffix(strings.ToLower(s), ".app") && !strings.Contains(s, " ") {
			return "**/" + s, true
		}
		return "", false
	}
	return s, true
}

// baseName is the last path segment, for either separator.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// windowsExe returns the lowercase *.exe basename of a path or file name, if
// it is a literal name.
func windowsExe(s string) (string, bool) {
	b := strings.ToLower(strings.TrimSpace(baseName(strings.TrimSpace(s))))
	if !strings.HasSuffix(b, ".exe") || len(b) <= len(".exe") || strings.ContainsAny(b, globChars+"%") {
		return "", false
	}
	return b, true
}

// posixProcess derives a process name (and its OS) from an absolute POSIX
// path: an extension-less file in a bin/sbin directory is a Linux program,
// X.app/Contents/MacOS/Y is a macOS one.
func posixProcess(p string) (os, name string, ok bool) {
	if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "~/") {
		return "", "", false
	}
	segs := strings.Split(p, "/")
	if len(segs) < 3 {
		return "", "", false
	}
	last := segs[len(segs)-1]
	if last == "" || strings.ContainsAny(last, globChars+". ") {
		return "", "", false
	}
	parent := segs[len(segs)-2]
	if parent == "MacOS" && len(segs) >= 4 && segs[len(segs)-3] == "Contents" {
		return "darwin", strings.ToLower(last), true
	}
	for _, s := range segs[:len(segs)-1] {
		if s == "bin" || s == "sbin" {
			return "linux", strings.ToLower(last), true
		}
	}
	return "", "", false
}

// serviceFromPath returns a systemd unit, launchd label or init script name
// from its definition path.
func serviceFromPath(p string) (string, bool) {
	lp := strings.ToLower(p)
	b := baseName(p)
	switch {
	case strings.Contains(lp, "/systemd/") && strings.HasSuffix(lp, ".service"):
		return strings.TrimSuffix(b, ".service"), true
	case (strings.Contains(lp, "/launchdaemons/") || strings.Contains(lp, "/launchagents/")) && strings.HasSuffix(lp, ".plist"):
		return strings.TrimSuffix(b, ".plist"), true
	case strings.HasPrefix(lp, "/etc/init.d/") && b != "":
		return b, true
	}
	return "", false
}

// cleanName trims a signer/company/product and drops empty or "None" values
// and trailing backslashes left by LOLRMM's CSV export.
func cleanName(s string) (string, bool) {
	s = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), `\`))
	s = strings.Join(strings.Fields(s), " ")
	if s == "" || strings.EqualFold(s, "none") || s == "-" || s == "N/A" {
		return "", false
	}
	return s, true
}

// isExecutableName: a *.exe name, or one without an extension (POSIX
// programs, version resources that omit it).
func isExecutableName(n string) bool {
	b := strings.ToLower(baseName(n))
	i := strings.LastIndexByte(b, '.')
	return i < 0 || b[i:] == ".exe"
}
