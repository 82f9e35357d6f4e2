package build

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
)

// OSes a process list may be keyed by.
var knownOS = map[string]bool{"windows": true, "darwin": true, "linux": true}

// strSet keeps values, deduplicated by key (lowercase for case-insensitive
// sets); the value kept for a key is the lexicographically smallest spelling,
// so the result does not depend on input order.
type strSet struct {
	fold bool
	m    map[string]string
}

func newSet(fold bool) *strSet { return &strSet{fold: fold, m: map[string]string{}} }

func (s *strSet) add(v string) {
	if v == "" {
		return
	}
	k := v
	if s.fold {
		k = strings.ToLower(v)
	}
	if old, ok := s.m[k]; !ok || v < old {
		s.m[k] = v
	}
}

func (s *strSet) key(v string) string {
	if s.fold {
		return strings.ToLower(v)
	}
	return v
}

func (s *strSet) has(v string) bool { _, ok := s.m[s.key(v)]; return ok }

func (s *strSet) clear() { s.m = map[string]string{} }

func (s *strSet) sorted() []string {
	if len(s.m) == 0 {
		return nil
	}
	out := make([]string, 0, len(s.m))
	for _, v := range s.m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// acc accumulates one tool's facts from LOLRMM files and the overlay.
type acc struct {
	id, name, report, category, role string
	curated                          bool
	files                            []string
	procs                            map[string]*strSet
	orig, products, companies        *strSet
	signers, bundles, teams          *strSet
	services, paths, listen, out     *strSet
	domains, markers, sources        *strSet
	goModules                        *strSet
	scripts                          []string
	configFiles                      []catalog.ConfigFile
	verified                         []catalog.VerifiedFact
	sessions                         map[string]catalog.SessionPattern
}

func newAcc(id, name string) *acc {
	return &acc{
		id: id, name: name,
		procs:     map[string]*strSet{},
		orig:      newSet(true),
		products:  newSet(true),
		companies: newSet(true),
		signers:   newSet(true),
		bundles:   newSet(false),
		teams:     newSet(false),
		services:  newSet(true),
		paths:     newSet(true),
		listen:    newSet(true),
		out:       newSet(true),
		domains:   newSet(true),
		markers:   newSet(false),
		sources:   newSet(false),
		goModules: newSet(false),
		sessions:  map[string]catalog.SessionPattern{},
	}
}

func (a *acc) proc(os, name string) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" || strings.ContainsAny(name, globChars) {
		return
	}
	if a.procs[os] == nil {
		a.procs[os] = newSet(true)
	}
	a.procs[os].add(name)
}

// addRaw derives facts from one (fixed) LOLRMM file.
func (a *acc) addRaw(r *rawTool, g *genericRules) error {
	a.files = append(a.files, r.File)
	a.sources.add("lolrmm:" + r.File)
	f := r.fields
	for _, p := range f[fPaths] {
		if exe, ok := windowsExe(p); ok {
			a.proc("windows", exe)
		}
		cp, ok := cleanPath(p)
		if !ok {
			continue
		}
		a.paths.add(cp)
		if os, name, ok := posixProcess(cp); ok {
			a.proc(os, name)
		}
		if svc, ok := serviceFromPath(cp); ok {
			a.services.add(strings.ToLower(svc))
		}
	}
	for _, v := range f[fPEFiles] {
		if exe, ok := windowsExe(v); ok {
			a.proc("windows", exe)
		}
	}
	for _, v := range f[fOrigNames] {
		if exe, ok := windowsExe(v); ok {
			a.proc("windows", exe)
		}
		// Only executables: a DLL's or installer's OriginalFilename never
		// names a running process (and shared ones such as wintun.dll
		// would point at every WireGuard-based product).
		if n, ok := cleanName(v); ok && !strings.ContainsAny(n, globChars) && isExecutableName(n) {
			a.orig.add(strings.ToLower(n))
		}
	}
	for _, v := range f[fProducts] {
		if n, ok := cleanName(v); ok {
			a.products.add(n)
		}
	}
	for _, v := range f[fCompanies] {
		if n, ok := cleanName(v); ok {
			a.companies.add(n)
		}
	}
	for _, v := range f[fSigners] {
		if n, ok := cleanName(v); ok {
			a.signers.add(n)
		}
	}
	for _, v := range f[fServices] {
		if n, ok := cleanName(v); ok {
			a.services.add(strings.ToLower(n))
		}
	}
	for _, v := range f[fDomains] {
		if d, ok := cleanDomain(v, g); ok {
			a.domains.add(d)
		}
	}
	ignore := map[int]bool{}
	for _, p := range g.IgnorePorts {
		ignore[p] = true
	}
	for _, v := range f[fPorts] {
		if n, ok := portNumber(v); ok && !ignore[n] {
			// LOLRMM ports describe the tool's own connections and carry no
			// protocol; they are recorded as outbound TCP.
			a.out.add("tcp/" + strconv.Itoa(n))
		}
	}
	return nil
}

// Output field names usable in a curated tool's replace list.
var replaceable = map[string]bool{
	"processes": true, "original_filenames": true, "products": true, "companies": true,
	"signers": true, "services": true, "paths": true, "outbound_ports": true, "domains": true,
}

// addCurated merges a curated entry into the tool.
func (a *acc) addCurated(ct *curatedTool, g *genericRules) error {
	if !idPattern.MatchString(ct.ID) {
		return fmt.Errorf("id %q must match %s", ct.ID, idPattern)
	}
	if ct.Name != "" {
		a.name = strings.TrimSpace(ct.Name)
	}
	if ct.Report != "" {
		if !idPattern.MatchString(ct.Report) {
			return fmt.Errorf("report %q must match %s", ct.Report, idPattern)
		}
		if ct.Report != ct.ID {
			a.report = ct.Report
		}
	}
	if ct.Category != "" {
		a.category = ct.Category
	}
	if ct.Role != "" {
		a.role = ct.Role
	}
	for _, f := range ct.Replace {
		if !replaceable[f] {
			return fmt.Errorf("replace: unknown field %q", f)
		}
		switch f {
		case "processes":
			a.procs = map[string]*strSet{}
		case "original_filenames":
			a.orig.clear()
		case "products":
			a.products.clear()
		case "companies":
			a.companies.clear()
		case "signers":
			a.signers.clear()
		case "services":
			a.services.clear()
		case "paths":
			a.paths.clear()
		case "outbound_ports":
			a.out.clear()
		case "domains":
			a.domains.clear()
		}
	}
	for os, names := range ct.Processes {
		if !knownOS[os] {
			return fmt.Errorf("processes: unknown OS %q", os)
		}
		for _, n := range names {
			if strings.ContainsAny(n, globChars) || strings.TrimSpace(n) == "" {
				return fmt.Errorf("processes %s: %q is not a literal name", os, n)
			}
			if os == "windows" && !strings.HasSuffix(strings.ToLower(n), ".exe") {
				return fmt.Errorf("processes windows: %q lacks .exe", n)
			}
			a.proc(os, n)
		}
	}
	for _, v := range ct.OriginalFilenames {
		a.orig.add(strings.ToLower(strings.TrimSpace(v)))
	}
	addNames := func(set *strSet, vals []string) {
		for _, v := range vals {
			if n, ok := cleanName(v); ok {
				set.add(n)
			}
		}
	}
	addNames(a.products, ct.Products)
	addNames(a.companies, ct.Companies)
	addNames(a.signers, ct.Signers)
	for _, v := range ct.BundleIDs {
		a.bundles.add(strings.TrimSpace(v))
	}
	for _, v := range ct.TeamIDs {
		a.teams.add(strings.ToUpper(strings.TrimSpace(v)))
	}
	for _, v := range ct.Services {
		a.services.add(strings.ToLower(strings.TrimSpace(v)))
	}
	for _, v := range ct.Paths {
		p, ok := cleanPath(v)
		if !ok {
			return fmt.Errorf("path %q is not a path", v)
		}
		a.paths.add(p)
	}
	for _, v := range ct.ListenPorts {
		p, err := normPort(v)
		if err != nil {
			return err
		}
		a.listen.add(p)
	}
	for _, v := range ct.OutboundPorts {
		p, err := normPort(v)
		if err != nil {
			return err
		}
		a.out.add(p)
	}
	for _, v := range ct.Domains {
		d, ok := cleanDomain(v, g)
		if !ok {
			return fmt.Errorf("domain %q is not a usable domain", v)
		}
		a.domains.add(d)
	}
	for _, s := range ct.Sessions {
		if strings.TrimSpace(s.Pattern) == "" || strings.TrimSpace(s.Meaning) == "" {
			return fmt.Errorf("session pattern needs pattern and meaning")
		}
		if _, err := regexp.Compile("(?i)" + s.Pattern); err != nil {
			return fmt.Errorf("session %q: %w", s.Pattern, err)
		}
		a.sessions[s.Pattern] = s
	}
	for _, m := range ct.Markers {
		if len(m) < 6 {
			return fmt.Errorf("marker %q shorter than 6 bytes", m)
		}
		a.markers.add(m)
	}
	for _, m := range ct.GoModules {
		m = strings.TrimSpace(m)
		if !goModulePattern.MatchString(m) {
			return fmt.Errorf("go module %q is not an import path", m)
		}
		a.goModules.add(m)
	}
	for _, s := range ct.Scripts {
		if _, err := regexp.Compile("(?i)" + s); err != nil {
			return fmt.Errorf("script %q: %w", s, err)
		}
		if !contains(a.scripts, s) {
			a.scripts = append(a.scripts, s)
		}
	}
	for _, cf := range ct.ConfigFiles {
		if cf.Name == "" || strings.ContainsAny(cf.Name, `/\`) || cf.Name == "." || cf.Name == ".." {
			return fmt.Errorf("config file %q: want a plain file name", cf.Name)
		}
		if len(cf.Evidence) == 0 {
			return fmt.Errorf("config file %s: no evidence keys", cf.Name)
		}
		for k, v := range cf.Evidence {
			if strings.TrimSpace(k) == "" || !evidenceName.MatchString(v) {
				return fmt.Errorf("config file %s: key %q → evidence %q", cf.Name, k, v)
			}
		}
		a.configFiles = append(a.configFiles, cf)
	}
	for _, v := range ct.Verified {
		f := catalog.VerifiedFact{Kind: v.Kind, Value: v.Value, From: strings.TrimSpace(v.From), File: strings.TrimSpace(v.File), SHA256: strings.ToLower(v.SHA256)}
		if !catalog.FactKinds[f.Kind] {
			return fmt.Errorf("verified: unknown kind %q", f.Kind)
		}
		if f.From == "" || f.File == "" || !sha256Pattern.MatchString(f.SHA256) {
			return fmt.Errorf("verified %s %q: needs from, file and a sha256", f.Kind, f.Value)
		}
		if f.Value == "" && f.Kind != catalog.FactAdHoc {
			return fmt.Errorf("verified %s: needs a value", f.Kind)
		}
		a.verified = append(a.verified, f)
	}
	for _, s := range ct.Sources {
		a.sources.add(strings.TrimSpace(s))
	}
	return nil
}

var (
	goModulePattern = regexp.MustCompile(`^[a-z0-9.-]+\.[a-z]{2,}(/[A-Za-z0-9._~+-]+)*$`)
	sha256Pattern   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	evidenceName    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// identitySets are the identity facts a verified fact may confirm, by kind.
func (a *acc) identitySets() map[string]*strSet {
	return map[string]*strSet{
		catalog.FactOriginalFilename: a.orig, catalog.FactProduct: a.products, catalog.FactCompany: a.companies,
		catalog.FactSigner: a.signers, catalog.FactBundleID: a.bundles, catalog.FactTeamID: a.teams,
		catalog.FactMarker: a.markers, catalog.FactGoModule: a.goModules,
	}
}

// provenance checks that every positive verified fact is one the catalog
// uses, and returns the identity facts no real binary confirmed.
func (a *acc) provenance() ([]string, error) {
	sets := a.identitySets()
	confirmed := map[string]bool{}
	for _, v := range a.verified {
		set, ok := sets[v.Kind]
		if !ok {
			continue
		}
		if !set.has(v.Value) {
			return nil, fmt.Errorf("tool %s: verified %s %q is not among its %s facts", a.id, v.Kind, v.Value, v.Kind)
		}
		confirmed[v.Kind+"\x00"+set.key(v.Value)] = true
	}
	var out []string
	for kind, set := range sets {
		for _, val := range set.sorted() {
			if confirmed[kind+"\x00"+set.key(val)] {
				continue
			}
			if kind == catalog.FactMarker {
				val = hex.EncodeToString([]byte(val))
			}
			out = append(out, kind+":"+val)
		}
	}
	sort.Strings(out)
	return out, nil
}

func normPort(v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	m := portSpec.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("port %q must look like tcp/5900 or udp/21116", v)
	}
	n, ok := portNumber(m[2])
	if !ok {
		return "", fmt.Errorf("port %q out of range", v)
	}
	return m[1] + "/" + strconv.Itoa(n), nil
}

// tool renders the accumulated facts as a sorted catalog entry.
func (a *acc) tool() (catalog.Tool, error) {
	t := catalog.Tool{
		ID:       a.id,
		Name:     a.name,
		Report:   a.report,
		Category: a.category,
		Role:     catalog.Role(a.role),
	}
	if !idPattern.MatchString(t.ID) {
		return t, fmt.Errorf("tool id %q must match %s", t.ID, idPattern)
	}
	if t.Name == "" {
		return t, fmt.Errorf("tool %s has no name", t.ID)
	}
	if t.Category == "" {
		t.Category = "remote-access"
	}
	switch t.Category {
	case "remote-access", "tunnel", "vpn", "proxy":
	default:
		return t, fmt.Errorf("tool %s: category %q", t.ID, t.Category)
	}
	if t.Role == "" {
		t.Role = catalog.RoleHost
	}
	switch t.Role {
	case catalog.RoleHost, catalog.RoleViewer, catalog.RoleBoth:
	default:
		return t, fmt.Errorf("tool %s: role %q", t.ID, t.Role)
	}
	for os, s := range a.procs {
		if names := s.sorted(); len(names) > 0 {
			if t.Processes == nil {
				t.Processes = map[string][]string{}
			}
			t.Processes[os] = names
		}
	}
	t.OriginalFilenames = a.orig.sorted()
	t.Products = a.products.sorted()
	t.Companies = a.companies.sorted()
	t.Signers = a.signers.sorted()
	t.BundleIDs = a.bundles.sorted()
	t.TeamIDs = a.teams.sorted()
	t.Services = a.services.sorted()
	t.Paths = a.paths.sorted()
	t.ListenPorts = a.listen.sorted()
	t.OutboundPorts = a.out.sorted()
	t.Domains = a.domains.sorted()
	t.Markers = a.markers.sorted()
	t.GoModules = a.goModules.sorted()
	t.ConfigFiles = append([]catalog.ConfigFile(nil), a.configFiles...)
	t.Scripts = append([]string(nil), a.scripts...)
	sort.Strings(t.Scripts)
	if len(a.verified) > 0 {
		t.Verified = append([]catalog.VerifiedFact(nil), a.verified...)
		sort.SliceStable(t.Verified, func(i, j int) bool {
			x, y := t.Verified[i], t.Verified[j]
			if x.Kind != y.Kind {
				return x.Kind < y.Kind
			}
			if x.Value != y.Value {
				return x.Value < y.Value
			}
			return x.File < y.File
		})
	}
	fw, err := a.provenance()
	if err != nil {
		return t, err
	}
	t.FromWriteups = fw
	t.Sources = a.sources.sorted()
	if len(a.sessions) > 0 {
		keys := make([]string, 0, len(a.sessions))
		for k := range a.sessions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.Sessions = append(t.Sessions, a.sessions[k])
		}
	}
	return t, nil
}
