package remoteaccess

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
	"github.com/farmwatch/farmwatch/internal/source"
)

// maxConfigBytes bounds how much of a tool's configuration file is read.
const maxConfigBytes = 64 << 10

// configEvidence reads the configuration files a tool keeps beside its
// executable (live hosts only) and returns the evidence they give: the
// server an agent reports to as "relay", its group id as "remote_id", and
// the file as "config_file". Unreadable or absent files give nothing.
func configEvidence(src source.Source, t *catalog.Tool, exe string) map[string]any {
	if len(t.ConfigFiles) == 0 || exe == "" || src.Snapshot() {
		return nil
	}
	dir := filepath.Dir(exe)
	if root := src.Root(); root != "" && root != "/" {
		dir = filepath.Join(root, dir)
	}
	stem := strings.TrimSuffix(filepath.Base(exe), filepath.Ext(exe))
	if !strings.EqualFold(filepath.Ext(exe), ".exe") {
		stem = filepath.Base(exe)
	}
	for _, cf := range t.ConfigFiles {
		path := filepath.Join(dir, strings.ReplaceAll(cf.Name, "{exe}", stem))
		data, err := readConfig(path)
		if err != nil {
			continue
		}
		kv := parseKeyValues(data)
		ev := map[string]any{}
		for key, field := range cf.Evidence {
			v, ok := kv[strings.ToLower(key)]
			if !ok || v == "" {
				continue
			}
			if field == "relay" {
				if u, err := url.Parse(v); err == nil && u.Host != "" {
					v = u.Host
				}
			}
			ev[field] = v
		}
		if len(ev) > 0 {
			ev["config_file"] = path
			return ev
		}
	}
	return nil
}

// readConfig reads at most maxConfigBytes of a regular file.
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat config: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("config %s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return data, nil
}

// parseKeyValues parses key=value lines (MeshAgent's .msh): keys are
// lowercased, the first occurrence wins, lines without '=' and '#'/';'
// comments are skipped; CR, surrounding space and a UTF-8 BOM are trimmed.
// Values keep at most 512 bytes.
func parseKeyValues(data []byte) map[string]string {
	out := map[string]string{}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxConfigBytes)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if len(v) > 512 {
			v = v[:512]
		}
		if _, seen := out[k]; !seen && k != "" {
			out[k] = v
		}
	}
	return out
}
