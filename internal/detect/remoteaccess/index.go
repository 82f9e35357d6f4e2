package remoteaccess

import (
	"fmt"
	"path"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
)

// genericNames are process names too common to identify a tool alone; they
// need a second trait (identity, path or marker).
var genericNames = map[string]bool{
	"agent.exe": true, "client.exe": true, "server.exe": true, "service.exe": true,
	"setup.exe": true, "update.exe": true, "updater.exe": true, "launcher.exe": true,
	"remote.exe": true, "helper.exe": true, "host.exe": true, "viewer.exe": true,
	"install.exe": true, "installer.exe": true, "main.exe": true, "app.exe": true,
	"agent": true, "client": true, "server": true, "service": true, "update": true,
	"updater": true, "launcher": true, "helper": true, "host": true, "viewer": true,
	"code": true, "code.exe": true, "node": true, "node.exe": true, "java": true, "java.exe": true,
	"python": true, "python.exe": true, "powershell.exe": true, "cmd.exe": true, "explorer.exe": true,
	"svchost.exe": true, "rundll32.exe": true, "msiexec.exe": true, "conhost.exe": true,
}

// platformSigners sign so many programs that a signer match alone says
// nothing about which tool it is.
var platformSigners = map[string]bool{
	"microsoft corporation": true, "microsoft windows": true, "microsoft windows publisher": true,
	"apple inc.": true, "software signing": true, "apple mac os application signing": true,
	"google llc": true, "google inc": true, "developer id application: google llc": true,
	"oracle america, inc.": true, "mozilla corporation": true, "adobe inc.": true, "adobe systems, incorporated": true,
}

// index is the catalog arranged for lookups by each kind of trait.
type index struct {
	tools      []catalog.Tool
	procByOS   map[string]map[string][]int // os -> lowercase name -> tools
	origName   map[string][]int
	product    map[string][]int
	company    map[string][]int
	signer     map[string][]int
	bundleID   map[string][]int
	teamID     map[string][]int
	pathToken  map[string][]pathGlob // lowercase literal path segment -> globs
	svcExact   map[string][]int
	svcGlobs   []svcGlob
	sessions   [][]*regexp.Regexp // per tool, parallel to tool.Sessions
	markers    []marker
	goModules  []goModule
	scripts    []script
	listenPort map[string][]int // "tcp/5900" -> tools
	sshClient  int              // index of the OpenSSH client entry, -1 if absent
}

type pathGlob struct {
	tool int
	re   *lazyRegexp
	raw  string
}

// lazyRegexp is compiled on first use: of the catalog's hundreds of path
// globs only those whose literal segment occurs in a running executable's
// path are ever matched, and compiling them all up front kept ~3 MiB of
// automata live for the agent's whole life.
type lazyRegexp struct {
	once sync.Once
	src  string
	re   *regexp.Regexp
}

// MatchString compiles the expression once (it was validated when the
// index was built) and matches s.
func (l *lazyRegexp) MatchString(s string) bool {
	l.once.Do(func() { l.re, _ = regexp.Compile(l.src) })
	return l.re != nil && l.re.MatchString(s)
}

type svcGlob struct {
	tool int
	glob string
}

type goModule struct {
	tool int
	path string
}

type script struct {
	tool int
	re   *regexp.Regexp
}

type marker struct {
	tool  int
	bytes []byte
}

func buildIndex(c *catalog.Catalog) (*index, error) {
	ix := &index{
		tools:      c.Tools,
		procByOS:   map[string]map[string][]int{},
		origName:   map[string][]int{},
		product:    map[string][]int{},
		company:    map[string][]int{},
		signer:     map[string][]int{},
		bundleID:   map[string][]int{},
		teamID:     map[string][]int{},
		pathToken:  map[string][]pathGlob{},
		svcExact:   map[string][]int{},
		listenPort: map[string][]int{},
		sessions:   make([][]*regexp.Regexp, len(c.Tools)),
		sshClient:  -1,
	}
	add := func(m map[string][]int, k string, i int) {
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" {
			return
		}
		for _, j := range m[k] {
			if j == i {
				return
			}
		}
		m[k] = append(m[k], i)
	}
	for i := range c.Tools {
		t := &c.Tools[i]
		if t.ID == "openssh-client" {
			ix.sshClient = i
		}
		for os, names := range t.Processes {
			if ix.procByOS[os] == nil {
				ix.procByOS[os] = map[string][]int{}
			}
			for _, n := range names {
				add(ix.procByOS[os], n, i)
			}
		}
		for _, v := range t.OriginalFilenames {
			add(ix.origName, v, i)
		}
		for _, v := range t.Products {
			add(ix.product, v, i)
		}
		for _, v := range t.Companies {
			add(ix.company, v, i)
		}
		for _, v := range t.Signers {
			add(ix.signer, v, i)
		}
		for _, v := range t.BundleIDs {
			add(ix.bundleID, v, i)
		}
		for _, v := range t.TeamIDs {
			add(ix.teamID, v, i)
		}
		for _, v := range t.ListenPorts {
			add(ix.listenPort, v, i)
		}
		for _, s := range t.Services {
			s = strings.ToLower(s)
			if strings.ContainsAny(s, "*?[") {
				ix.svcGlobs = append(ix.svcGlobs, svcGlob{tool: i, glob: s})
			} else {
				add(ix.svcExact, s, i)
			}
		}
		for _, p := range t.Paths {
			g, tok, ok := compilePathGlob(p)
			if !ok {
				continue
			}
			// Globs without a literal segment are checked against every path.
			ix.pathToken[tok] = append(ix.pathToken[tok], pathGlob{tool: i, re: g, raw: p})
		}
		for _, s := range t.Sessions {
			re, err := regexp.Compile("(?i)" + s.Pattern)
			if err != nil {
				return nil, err
			}
			ix.sessions[i] = append(ix.sessions[i], re)
		}
		for _, m := range t.GoModules {
			if m = strings.TrimSpace(m); m != "" {
				ix.goModules = append(ix.goModules, goModule{tool: i, path: m})
			}
		}
		for _, s := range t.Scripts {
			re, err := regexp.Compile("(?i)" + s)
			if err != nil {
				return nil, fmt.Errorf("tool %s: script %q: %w", t.ID, s, err)
			}
			ix.scripts = append(ix.scripts, script{tool: i, re: re})
		}
		for _, m := range t.Markers {
			if len(m) >= 6 {
				ix.markers = append(ix.markers, marker{tool: i, bytes: []byte(m)})
			}
		}
	}
	return ix, nil
}

// runtimeNames are interpreters and runtimes whose identity is the program
// they run, named in their arguments.
var runtimeNames = map[string]bool{
	"node": true, "nodejs": true, "node.exe": true, "bun": true, "bun.exe": true, "deno": true, "deno.exe": true,
	"python": true, "python2": true, "python3": true, "python.exe": true, "pythonw.exe": true, "python3.exe": true,
	"java": true, "javaw": true, "java.exe": true, "javaw.exe": true, "electron": true, "electron.exe": true,
	"ruby": true, "perl": true, "php": true,
}

// isRuntime reports whether a process name or executable base name is a
// generic runtime (python3.11 counts as python).
func isRuntime(names ...string) bool {
	for _, n := range names {
		n = strings.TrimSuffix(n, ".exe")
		if runtimeNames[n] || runtimeNames[n+".exe"] {
			return true
		}
		if strings.HasPrefix(n, "python") && strings.Trim(n[len("python"):], "0123456789.") == "" {
			return true
		}
	}
	return false
}

// scriptMatch returns the tool whose script pattern matches an argument of
// a runtime's command line (after argv[0]), and that argument; -1 when
// none does. Windows separators are matched as slashes.
func (ix *index) scriptMatch(cmdline []string) (int, string) {
	for i, a := range cmdline {
		if i == 0 || a == "" || (strings.HasPrefix(a, "-") && !strings.Contains(a, "=")) {
			continue
		}
		if _, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			a = v
		}
		norm := strings.ReplaceAll(a, `\`, "/")
		for _, s := range ix.scripts {
			if s.re.MatchString(norm) {
				return s.tool, a
			}
		}
	}
	return -1, ""
}

// normPath lowercases and turns Windows separators into slashes.
func normPath(p string) string { return strings.ToLower(strings.ReplaceAll(p, `\`, "/")) }

// compilePathGlob turns an install-path glob into a regexp plus the most
// specific literal segment, used to find candidate globs for an exe path.
// Environment variables (%ProgramFiles%) and '**' match any run of
// characters; '*' and '?' stay inside a segment.
func compilePathGlob(glob string) (*lazyRegexp, string, bool) {
	g := strings.TrimRight(normPath(strings.TrimSpace(glob)), "/")
	if g == "" || !strings.Contains(g, "/") {
		return nil, "", false
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case c == '%':
			if j := strings.IndexByte(g[i+1:], '%'); j >= 0 {
				b.WriteString(".*")
				i += j + 1
				continue
			}
			b.WriteString("%")
		case c == '~' && i == 0:
			b.WriteString(".*")
		case c == '*' && i+1 < len(g) && g[i+1] == '*':
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	// A directory covers everything beneath it.
	b.WriteString("(/.*)?$")
	if _, err := syntax.Parse(b.String(), syntax.Perl); err != nil {
		return nil, "", false
	}
	re := &lazyRegexp{src: b.String()}
	tok := ""
	for _, seg := range strings.Split(g, "/") {
		if strings.ContainsAny(seg, "*?%~") || len(seg) < 3 || genericSegment[seg] {
			continue
		}
		if len(seg) >= len(tok) {
			tok = seg
		}
	}
	return re, tok, true
}

// genericSegment are path segments shared by every program.
var genericSegment = map[string]bool{
	"c:": true, "program files": true, "program files (x86)": true, "programdata": true,
	"windows": true, "system32": true, "users": true, "appdata": true, "local": true, "roaming": true,
	"applications": true, "library": true, "contents": true, "macos": true, "usr": true, "bin": true,
	"sbin": true, "opt": true, "etc": true, "var": true, "lib": true, "share": true, "local ": true,
	"application support": true, "launchdaemons": true, "launchagents": true, "temp": true, "tmp": true,
}

// pathMatches returns tools whose install-path globs cover exe.
func (ix *index) pathMatches(exe string) map[int]string {
	if exe == "" {
		return nil
	}
	p := normPath(exe)
	var out map[int]string
	for _, seg := range append(strings.Split(p, "/"), "") {
		for _, g := range ix.pathToken[seg] {
			if g.re.MatchString(p) {
				if out == nil {
					out = map[int]string{}
				}
				out[g.tool] = g.raw
			}
		}
	}
	return out
}

// serviceMatches returns tools whose service names cover name.
func (ix *index) serviceMatches(name string) []int {
	n := strings.ToLower(name)
	n = strings.TrimSuffix(n, ".service")
	n = strings.TrimSuffix(n, ".plist")
	out := append([]int{}, ix.svcExact[n]...)
	for _, g := range ix.svcGlobs {
		if ok, _ := path.Match(g.glob, n); ok {
			out = append(out, g.tool)
		}
	}
	return out
}
