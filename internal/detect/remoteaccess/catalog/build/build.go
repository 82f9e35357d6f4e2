// Package build generates farmwatch's remote-access catalog (catalog.json)
// from the LOLRMM YAML catalog and the curated overlay curated.yaml.
//
// The steps, in order:
//  1. parse every LOLRMM file (shared/data/rmm/lolrmm/*.y*ml);
//  2. apply curated.yaml's fixes to the raw values of the file they name
//     (known-wrong signers, domains, paths; each fix must still match);
//  3. derive per-OS process names, paths, services, signers, domains and
//     ports from each file, with the generic cleaning rules;
//  4. merge the files a curated tool lists (de-duplication) and add the
//     curated facts;
//  5. normalise, sort, validate and encode deterministically.
package build

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
)

// Stats summarises a build for the generator's log.
type Stats struct {
	LOLRMMFiles  int
	Tools        int
	Merged       int      // LOLRMM files folded into another file's tool
	Dropped      []string // LOLRMM tools left with no identifying fact
	FixesApplied int
}

// Build reads the LOLRMM catalog under sharedDir and the curated overlay at
// curatedPath and returns the catalog and its canonical JSON encoding.
func Build(sharedDir, curatedPath string) (*catalog.Catalog, []byte, error) {
	c, b, _, err := BuildStats(sharedDir, curatedPath)
	return c, b, err
}

// BuildStats is Build plus a summary of what was merged and dropped.
func BuildStats(sharedDir, curatedPath string) (*catalog.Catalog, []byte, *Stats, error) {
	curData, err := os.ReadFile(curatedPath)
	if err != nil {
		return nil, nil, nil, err
	}
	cur, err := parseCurated(curData)
	if err != nil {
		return nil, nil, nil, err
	}
	rmmDir := filepath.Join(sharedDir, "data", "rmm")
	commit, err := lolrmmCommit(filepath.Join(rmmDir, "PROVENANCE.md"))
	if err != nil {
		return nil, nil, nil, err
	}
	files, err := filepath.Glob(filepath.Join(rmmDir, "lolrmm", "*.y*ml"))
	if err != nil {
		return nil, nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, nil, fmt.Errorf("no LOLRMM YAML files under %s", filepath.Join(rmmDir, "lolrmm"))
	}
	sort.Strings(files)
	raws := make([]*rawTool, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, nil, err
		}
		rt, err := parseLOLRMM(filepath.Base(f), data)
		if err != nil {
			return nil, nil, nil, err
		}
		raws = append(raws, rt)
	}
	c, st, err := assemble(raws, cur, commit)
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := Encode(c)
	if err != nil {
		return nil, nil, nil, err
	}
	// The output must load through the catalog's own parser.
	if _, err := catalog.Parse(out); err != nil {
		return nil, nil, nil, fmt.Errorf("generated catalog does not parse: %w", err)
	}
	return c, out, st, nil
}

// Encode is the canonical catalog.json encoding: 2-space indent, no HTML
// escaping, trailing newline.
func Encode(c *catalog.Catalog) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var provenanceRow = regexp.MustCompile(`(?m)^\|\s*magicsword-io/LOLRMM\s*\|\s*([0-9a-f]{40})\s*\|`)

// lolrmmCommit reads the LOLRMM commit from PROVENANCE.md.
func lolrmmCommit(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	m := provenanceRow.FindSubmatch(data)
	if m == nil {
		return "", fmt.Errorf("%s: no magicsword-io/LOLRMM commit row", path)
	}
	return string(m[1]), nil
}

// assemble turns parsed LOLRMM files plus the overlay into a catalog.
func assemble(raws []*rawTool, cur *curatedFile, commit string) (*catalog.Catalog, *Stats, error) {
	st := &Stats{LOLRMMFiles: len(raws)}
	byFile := map[string]*rawTool{}
	for _, r := range raws {
		byFile[r.File] = r
	}
	// 2. fixes
	for i, fx := range cur.Fixes {
		r := byFile[fx.File]
		if r == nil {
			return nil, nil, fmt.Errorf("fix %d: no LOLRMM file %q", i, fx.File)
		}
		if strings.TrimSpace(fx.Why) == "" {
			return nil, nil, fmt.Errorf("fix %d (%s): missing why", i, fx.File)
		}
		if err := applyFix(r, &fx); err != nil {
			return nil, nil, fmt.Errorf("fix %d (%s): %w", i, fx.File, err)
		}
		st.FixesApplied++
	}
	// 4a. which tool each file goes to
	owner := map[string]string{} // file -> curated tool id
	for _, ct := range cur.Tools {
		for _, f := range ct.LOLRMM {
			if byFile[f] == nil {
				return nil, nil, fmt.Errorf("curated tool %s: no LOLRMM file %q", ct.ID, f)
			}
			if o, dup := owner[f]; dup {
				return nil, nil, fmt.Errorf("LOLRMM file %s claimed by both %s and %s", f, o, ct.ID)
			}
			owner[f] = ct.ID
		}
	}
	tools := map[string]*acc{}
	curatedIDs := map[string]bool{}
	for _, ct := range cur.Tools {
		if curatedIDs[ct.ID] {
			return nil, nil, fmt.Errorf("curated tool %s listed twice", ct.ID)
		}
		curatedIDs[ct.ID] = true
	}
	autoFrom := map[string]string{} // auto id -> file, to refuse silent merges
	for _, r := range raws {
		id, ok := owner[r.File]
		if !ok {
			id = slugID(r.Name)
			if curatedIDs[id] {
				return nil, nil, fmt.Errorf("LOLRMM file %s (%q) would become id %q, which a curated tool already uses: list it under that tool's lolrmm", r.File, r.Name, id)
			}
			if prev, dup := autoFrom[id]; dup {
				return nil, nil, fmt.Errorf("LOLRMM files %s and %s both become id %q: merge them under a curated tool", prev, r.File, id)
			}
			autoFrom[id] = r.File
		}
		a := tools[id]
		if a == nil {
			a = newAcc(id, r.Name)
			tools[id] = a
		} else {
			st.Merged++
		}
		if err := a.addRaw(r, &cur.Generic); err != nil {
			return nil, nil, err
		}
	}
	// 4b. curated facts
	for i := range cur.Tools {
		ct := &cur.Tools[i]
		a := tools[ct.ID]
		if a == nil {
			a = newAcc(ct.ID, ct.Name)
			tools[ct.ID] = a
		}
		a.curated = true
		if err := a.addCurated(ct, &cur.Generic); err != nil {
			return nil, nil, fmt.Errorf("curated tool %s: %w", ct.ID, err)
		}
	}
	// 5. output
	ids := make([]string, 0, len(tools))
	for id := range tools {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	c := &catalog.Catalog{Version: catalogVersion(cur.Date, commit)}
	c.Sources = append(c.Sources, struct {
		Name    string `json:"name"`
		License string `json:"license"`
		Ref     string `json:"ref"`
	}{
		Name:    "LOLRMM",
		License: "Apache-2.0",
		Ref:     "https://github.com/magicsword-io/LOLRMM/tree/" + commit + "/yaml (modified: de-duplicated, known-wrong entries fixed, merged with curated.yaml; see NOTICE)",
	})
	for _, s := range cur.Sources {
		c.Sources = append(c.Sources, struct {
			Name    string `json:"name"`
			License string `json:"license"`
			Ref     string `json:"ref"`
		}{s.Name, s.License, s.Ref})
	}
	for _, id := range ids {
		t, err := tools[id].tool()
		if err != nil {
			return nil, nil, err
		}
		if !hasIdentity(&t) {
			if tools[id].curated {
				return nil, nil, fmt.Errorf("curated tool %s has no identifying fact", id)
			}
			st.Dropped = append(st.Dropped, id+" ("+strings.Join(tools[id].files, ",")+")")
			continue
		}
		c.Tools = append(c.Tools, t)
	}
	st.Tools = len(c.Tools)
	return c, st, nil
}

func catalogVersion(date, commit string) string {
	if len(commit) > 12 {
		commit = commit[:12]
	}
	return strings.TrimSpace(date) + "+lolrmm." + commit
}

// applyFix drops or rewrites raw values; each named value must be present.
func applyFix(r *rawTool, fx *fix) error {
	known := map[string]bool{}
	for _, f := range rawFieldNames {
		known[f] = true
	}
	for field, vals := range fx.Drop {
		if !known[field] {
			return fmt.Errorf("drop: unknown field %q", field)
		}
		for _, v := range vals {
			n := 0
			kept := r.fields[field][:0]
			for _, have := range r.fields[field] {
				if strings.EqualFold(strings.TrimSpace(have), strings.TrimSpace(v)) {
					n++
					continue
				}
				kept = append(kept, have)
			}
			r.fields[field] = kept
			if n == 0 {
				return fmt.Errorf("drop %s %q: not in file", field, v)
			}
		}
	}
	for field, m := range fx.Replace {
		if !known[field] {
			return fmt.Errorf("replace: unknown field %q", field)
		}
		olds := make([]string, 0, len(m))
		for o := range m {
			olds = append(olds, o)
		}
		sort.Strings(olds)
		for _, o := range olds {
			n := 0
			for i, have := range r.fields[field] {
				if strings.EqualFold(strings.TrimSpace(have), strings.TrimSpace(o)) {
					r.fields[field][i] = m[o]
					n++
				}
			}
			if n == 0 {
				return fmt.Errorf("replace %s %q: not in file", field, o)
			}
		}
	}
	return nil
}

// hasIdentity: at least one fact that identifies the tool on a host.
func hasIdentity(t *catalog.Tool) bool {
	for _, names := range t.Processes {
		if len(names) > 0 {
			return true
		}
	}
	return len(t.OriginalFilenames)+len(t.Signers)+len(t.BundleIDs)+len(t.TeamIDs)+
		len(t.Services)+len(t.Paths)+len(t.Domains)+len(t.Markers)+len(t.GoModules)+len(t.Scripts) > 0
}
