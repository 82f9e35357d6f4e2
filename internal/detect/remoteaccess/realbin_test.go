package remoteaccess

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/goinfo"
	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/internal/source/macho"
	"github.com/farmwatch/farmwatch/internal/source/peinfo"
)

// The tests in this file re-read every fact the catalog records as verified
// from the real binary it names (scripts/zoo/identity-install.sh installs
// them). Without FARMWATCH_E2E=1 a missing binary skips its facts; with it,
// the test fails and lists exactly what is missing. Nothing is installed here.

// zooCache is where scripts/zoo/lib.sh keeps installed software.
func zooCache() string {
	if d := os.Getenv("ZOO_CACHE"); d != "" {
		return d
	}
	return "/var/cache/farmwatch-zoo"
}

// resolveFact finds the real file a verified fact names, or says why not.
func resolveFact(f catalog.VerifiedFact) (string, error) {
	kind, rest, _ := strings.Cut(f.From, " ")
	switch kind {
	case "npm":
		at := strings.LastIndex(rest, "@")
		if at <= 0 {
			return "", fmt.Errorf("from %q: want npm <package>@<version>", f.From)
		}
		pkg, ver := rest[:at], rest[at+1:]
		dirs, _ := filepath.Glob(filepath.Join(zooCache(), "*", "node_modules", pkg, "package.json"))
		sort.Strings(dirs)
		for _, pj := range dirs {
			b, err := os.ReadFile(pj)
			if err != nil {
				continue
			}
			var meta struct {
				Version string `json:"version"`
			}
			if json.Unmarshal(b, &meta) == nil && meta.Version == ver {
				return filepath.Join(filepath.Dir(pj), filepath.FromSlash(f.File)), nil
			}
		}
		return "", fmt.Errorf("npm package %s@%s is not installed under %s/*/node_modules", pkg, ver, zooCache())
	case "debian":
		if !filepath.IsAbs(f.File) {
			return "", fmt.Errorf("debian file %q is not absolute", f.File)
		}
		return f.File, nil
	case "go":
		return filepath.Join(zooCache(), "identity", "go", f.File), nil
	}
	return "", fmt.Errorf("from %q: unknown artifact kind %q", f.From, kind)
}

type verifiedFile struct {
	tool  *catalog.Tool
	fact  catalog.VerifiedFact
	path  string
	bytes []byte
}

// realFacts loads every verified fact's file, failing (E2E) or skipping
// when files are missing.
func realFacts(t *testing.T) []verifiedFile {
	t.Helper()
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	var out []verifiedFile
	var missing []string
	cache := map[string][]byte{}
	for i := range c.Tools {
		tl := &c.Tools[i]
		for _, f := range tl.Verified {
			p, err := resolveFact(f)
			if err == nil {
				if _, ok := cache[p]; !ok {
					b, rerr := os.ReadFile(p)
					if rerr != nil {
						err = rerr
					} else {
						cache[p] = b
					}
				}
			}
			if err != nil {
				m := fmt.Sprintf("%s: %s (%s): %v", tl.ID, f.File, f.From, err)
				if !contains(missing, m) {
					missing = append(missing, m)
				}
				continue
			}
			out = append(out, verifiedFile{tool: tl, fact: f, path: p, bytes: cache[p]})
		}
	}
	if len(missing) > 0 {
		msg := "real binaries missing (run scripts/zoo/identity-install.sh):\n  " + strings.Join(missing, "\n  ")
		if os.Getenv("FARMWATCH_E2E") == "1" {
			t.Fatal(msg)
		}
		if len(out) == 0 {
			t.Skip(msg)
		}
		t.Log(msg)
	}
	return out
}

func TestVerifiedFactsOnRealBinaries(t *testing.T) {
	files := realFacts(t)
	checked := 0
	for _, vf := range files {
		f := vf.fact
		name := fmt.Sprintf("%s/%s %q in %s", vf.tool.ID, f.Kind, f.Value, f.File)
		sum := sha256.Sum256(vf.bytes)
		if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
			// Debian security updates and new Go toolchains change files;
			// the fact itself must still hold.
			t.Logf("%s: sha256 %s differs from the recorded %s (updated package?); re-checking the fact", name, got, f.SHA256)
		}
		if err := checkFact(vf); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		checked++
	}
	t.Logf("%d verified facts re-read from real binaries", checked)
}

// checkFact re-reads one fact from its file.
func checkFact(vf verifiedFile) error {
	f, b := vf.fact, vf.bytes
	r := bytes.NewReader(b)
	pe := func() (*peinfo.Info, error) { return peinfo.Parse(r, int64(len(b))) }
	mo := func() (*macho.Signature, error) { return macho.Parse(r) }
	same := func(field, got string) error {
		if !strings.EqualFold(strings.TrimSpace(got), strings.TrimSpace(f.Value)) {
			return fmt.Errorf("%s is %q", field, got)
		}
		return nil
	}
	switch f.Kind {
	case catalog.FactMarker:
		if !bytes.Contains(b, []byte(f.Value)) {
			return errors.New("marker not in the file")
		}
		return nil
	case catalog.FactGoModule:
		info, err := goinfo.Read(r, int64(len(b)), 0)
		if err != nil {
			return err
		}
		if !info.Matches(f.Value) {
			return fmt.Errorf("build info names %s (module %s)", info.Path, info.Module)
		}
		return nil
	case catalog.FactOriginalFilename, catalog.FactProduct, catalog.FactCompany, catalog.FactSigner:
		info, err := pe()
		if err != nil {
			return err
		}
		switch f.Kind {
		case catalog.FactOriginalFilename:
			return same("OriginalFilename", info.OriginalFilename)
		case catalog.FactProduct:
			return same("ProductName", info.ProductName)
		case catalog.FactCompany:
			return same("CompanyName", info.CompanyName)
		}
		if info.Signer == nil {
			return errors.New("no Authenticode signature")
		}
		return same("signer CN", info.Signer.CommonName)
	case catalog.FactTeamID, catalog.FactSigningIdentifier, catalog.FactAdHoc:
		sig, err := mo()
		if err != nil {
			return err
		}
		switch f.Kind {
		case catalog.FactTeamID:
			return same("Team ID", sig.TeamID)
		case catalog.FactSigningIdentifier:
			return same("signing identifier", sig.Identifier)
		}
		if !sig.AdHoc() {
			return fmt.Errorf("signature flags %#x are not ad hoc", sig.Flags)
		}
		return nil
	case catalog.FactAbsent:
		if f.Value == "team_id" {
			sig, err := mo()
			if err != nil {
				return err
			}
			if sig.TeamID != "" {
				return fmt.Errorf("Team ID %q is present", sig.TeamID)
			}
			return nil
		}
		info, err := pe()
		if err != nil {
			return err
		}
		got := map[string]string{
			"original_filename": info.OriginalFilename, "product": info.ProductName, "company": info.CompanyName,
			"versioninfo": info.OriginalFilename + info.ProductName + info.CompanyName + info.FileDescription + info.FileVersion,
		}
		if f.Value == "signer" {
			if info.Signer != nil {
				return fmt.Errorf("signed by %+v", *info.Signer)
			}
			return nil
		}
		v, ok := got[f.Value]
		if !ok {
			return fmt.Errorf("absent: unknown field %q", f.Value)
		}
		if v != "" {
			return fmt.Errorf("%s is present: %q", f.Value, v)
		}
		return nil
	case catalog.FactScript:
		re, err := regexp.Compile("(?i)" + f.Value)
		if err != nil {
			return err
		}
		// The pattern must name the package directory the file lives in.
		dir := filepath.ToSlash(filepath.Dir(vf.path))
		if !re.MatchString(dir) {
			return fmt.Errorf("pattern does not match the package directory %s", dir)
		}
		return nil
	case catalog.FactConfigFile, catalog.FactBundleID:
		return nil // recorded by observation; the file's presence is what is checked here
	}
	return fmt.Errorf("unknown fact kind %q", f.Kind)
}

// fileSource serves one real file as the executable of every process.
type fileSource struct {
	fakeSource
	path string
}

func (f fileSource) OpenExe(source.Process) (io.ReadCloser, error) { return os.Open(f.path) }

// TestRealBinariesIdentifiedRenamed runs the detector's own identification
// on every verified real binary under a bland name in /tmp: content
// (markers, Go build info) or PE identity must name the tool the fact
// belongs to, as renamed.
func TestRealBinariesIdentifiedRenamed(t *testing.T) {
	files := realFacts(t)
	d, err := New(Settings{ScanBinaries: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	n := 0
	for _, vf := range files {
		k := vf.fact.Kind
		identity := k == catalog.FactMarker || k == catalog.FactGoModule || k == catalog.FactOriginalFilename || k == catalog.FactProduct || k == catalog.FactSigner
		if !identity || seen[vf.path] {
			continue
		}
		seen[vf.path] = true
		// Each file gets its own path: the detector caches content results
		// per executable path and start time.
		p := source.Process{PID: 4242, Name: "updater", Exe: fmt.Sprintf("/tmp/x%d/updater", len(seen))}
		hostOS := "linux"
		if info, err := peinfo.Parse(bytes.NewReader(vf.bytes), int64(len(vf.bytes))); err == nil {
			hostOS = "windows"
			p.Name, p.Exe = "svc.exe", fmt.Sprintf(`C:\Users\Public\%d\svc.exe`, len(seen))
			p.OriginalFilename, p.Product, p.Company = info.OriginalFilename, info.ProductName, info.CompanyName
			if info.Signer != nil {
				p.Signer = info.Signer.CommonName
			}
		}
		src := fileSource{path: vf.path}
		ti, traits, renamed, _ := d.identify(context.Background(), src, hostOS, p)
		if ti < 0 {
			t.Errorf("%s (%s): not identified", vf.path, vf.tool.ID)
			continue
		}
		if got := d.ix.tools[ti].ID; got != vf.tool.ID || !renamed {
			t.Errorf("%s: identified as %s (renamed %v, %v), want %s renamed", vf.path, got, renamed, traits, vf.tool.ID)
			continue
		}
		t.Logf("%s → %s by %s", vf.path, vf.tool.ID, traits[0])
		n++
	}
	if n == 0 {
		t.Fatal("no real binary was identified")
	}
}

// TestRealViewersNotIdentifiedAsHosts: a renamed VNC/RDP viewer must not be
// taken for a server by content (TigerVNC's project URL is in both, so it
// is no server marker).
func TestRealViewersNotIdentifiedAsHosts(t *testing.T) {
	viewers := []string{"/usr/bin/xtigervncviewer"}
	d, err := New(Settings{ScanBinaries: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range viewers {
		if _, err := os.Stat(v); err != nil {
			if os.Getenv("FARMWATCH_E2E") == "1" {
				t.Fatalf("%s missing (Debian tigervnc-viewer; run scripts/zoo/identity-install.sh)", v)
			}
			t.Skipf("%s missing", v)
		}
		p := source.Process{PID: 4243, Name: "updater", Exe: fmt.Sprintf("/tmp/v%d/updater", i)}
		ti, traits, _, _ := d.identify(context.Background(), fileSource{path: v}, "linux", p)
		if ti >= 0 && d.ix.tools[ti].Role != catalog.RoleViewer {
			t.Errorf("renamed viewer %s identified as host tool %s by %v", v, d.ix.tools[ti].ID, traits)
		}
	}
}

// TestMarkersUniqueOnThisMachine searches every file under the system's
// program and library directories for every catalog marker: a marker may
// only occur in files its own tool's verified facts name. It reads about a
// gigabyte, so it runs with FARMWATCH_E2E=1 (or FARMWATCH_MARKER_SCAN=1).
func TestMarkersUniqueOnThisMachine(t *testing.T) {
	if os.Getenv("FARMWATCH_E2E") != "1" && os.Getenv("FARMWATCH_MARKER_SCAN") != "1" {
		t.Skip("reads /usr/bin, /usr/sbin, /usr/libexec, /usr/lib/x86_64-linux-gnu: set FARMWATCH_E2E=1 or FARMWATCH_MARKER_SCAN=1")
	}
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	type mk struct{ tool, m string }
	var markers []mk
	own := map[string]map[string]bool{} // tool -> its verified files (resolved)
	for i := range c.Tools {
		tl := &c.Tools[i]
		for _, m := range tl.Markers {
			markers = append(markers, mk{tl.ID, m})
		}
		for _, f := range tl.Verified {
			if p, err := resolveFact(f); err == nil {
				if own[tl.ID] == nil {
					own[tl.ID] = map[string]bool{}
				}
				if real, err := filepath.EvalSymlinks(p); err == nil {
					p = real
				}
				own[tl.ID][p] = true
			}
		}
	}
	var paths []string
	for _, root := range []string{"/usr/bin", "/usr/sbin", "/usr/libexec", "/usr/lib/x86_64-linux-gnu"} {
		_ = filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
			if err == nil && de.Type().IsRegular() {
				paths = append(paths, p)
			}
			return nil
		})
	}
	// Read in parallel: the scan is bound by I/O.
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan string)
	files := 0
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				st, err := os.Stat(p)
				if err != nil || st.Size() > 512<<20 {
					continue
				}
				b, err := os.ReadFile(p)
				if err != nil {
					continue
				}
				var bad []string
				for _, m := range markers {
					if bytes.Contains(b, []byte(m.m)) && !own[m.tool][p] {
						bad = append(bad, fmt.Sprintf("%s marker %q occurs in %s, which is not one of its verified files", m.tool, m.m, p))
					}
				}
				mu.Lock()
				files++
				for _, e := range bad {
					t.Error(e)
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range paths {
		work <- p
	}
	close(work)
	wg.Wait()
	t.Logf("%d markers checked against %d files", len(markers), files)
}
