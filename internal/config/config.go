// Package config loads farmwatch's YAML configuration strictly: an unknown
// key or a value of the wrong type is an error naming the file, the line and
// the key. It holds per-detector settings and the sanctioned-tool allowlist.
package config

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/farmwatch/farmwatch/internal/allowlist"
	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report/pipeline"
	"github.com/farmwatch/farmwatch/internal/source/codesign"
	"github.com/farmwatch/farmwatch/internal/source/macho"
)

// Config is the whole configuration file (docs/config.md).
type Config struct {
	// Path is the file it was loaded from ("" for defaults).
	Path      string                      `yaml:"-"`
	Log       Log                         `yaml:"log"`
	Detectors map[string]DetectorSettings `yaml:"detectors"`
	Allowlist allowlist.List              `yaml:"allowlist"`
	// Report configures where the running agent sends findings.
	Report pipeline.Config `yaml:"report"`
	// CodeSigning configures how executables' signatures are checked.
	CodeSigning CodeSigning `yaml:"code_signing"`
}

// CodeSigning configures signature verification (docs/config.md).
type CodeSigning struct {
	// TrustedRoots are PEM files of root (or intermediate) certificates
	// trusted in addition to the OS store and the embedded Apple root.
	TrustedRoots []string `yaml:"trusted_roots"`
}

// Trust returns what executables' signatures are checked against: the OS
// roots, the embedded Apple root and the configured trusted roots.
func (c CodeSigning) Trust() (*codesign.Trust, error) {
	roots := macho.AppleRoots()
	for _, f := range c.TrustedRoots {
		certs, err := readPEMCerts(f)
		if err != nil {
			return nil, err
		}
		roots = append(roots, certs...)
	}
	return &codesign.Trust{Roots: roots}, nil
}

func readPEMCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return out, nil
}

// Log configures the agent's own logging.
type Log struct {
	Level string `yaml:"level"` // debug, info, warn, error
}

// DetectorSettings are the keys every detector takes, plus its own under
// settings.
type DetectorSettings struct {
	Enabled *bool         `yaml:"enabled"`
	Timeout time.Duration `yaml:"timeout"`
	// Interval is how often the running agent runs the detector.
	Interval time.Duration `yaml:"interval"`
	Settings yaml.Node     `yaml:"settings"`
}

// Error is a configuration problem at a place in a file.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": key %q", e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Default returns the configuration used without a file.
func Default() *Config { return &Config{Log: Log{Level: "info"}} }

// Load reads and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", err)}
	}
	return Parse(path, data)
}

// Parse validates config bytes; name labels errors.
func Parse(name string, data []byte) (*Config, error) {
	cfg := Default()
	cfg.Path = name
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, nil, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, &root, err)
	}
	if err := cfg.validate(name, &root); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *Config) validate(name string, root *yaml.Node) error {
	switch strings.ToLower(c.Log.Level) {
	case "", "debug", "info", "warn", "error":
	default:
		return &Error{File: name, Line: lineOf(root, "log", "level"), Key: "log.level", Msg: fmt.Sprintf("unknown level %q (want debug, info, warn or error)", c.Log.Level)}
	}
	for det, ds := range c.Detectors {
		reg, ok := detect.Lookup(det)
		if !ok {
			return &Error{File: name, Line: lineOf(root, "detectors", det), Key: "detectors." + det, Msg: "unknown detector (known: " + strings.Join(detectorNames(), ", ") + ")"}
		}
		if ds.Interval < 0 || (ds.Interval > 0 && ds.Interval < time.Second) {
			return &Error{File: name, Line: lineOf(root, "detectors", det, "interval"), Key: "detectors." + det + ".interval", Msg: "must be at least 1s"}
		}
		if ds.Timeout < 0 {
			return &Error{File: name, Line: lineOf(root, "detectors", det, "timeout"), Key: "detectors." + det + ".timeout", Msg: "must be positive"}
		}
		if ds.Settings.Kind != 0 {
			if reg.NewSettings == nil {
				return &Error{File: name, Line: ds.Settings.Line, Key: "detectors." + det + ".settings", Msg: "this detector takes no settings"}
			}
			if _, err := c.decodeSettings(reg, ds); err != nil {
				return err
			}
		}
	}
	r := c.Report
	if r.DedupWindow < 0 || r.ReportEvery < 0 || r.HeartbeatInterval < 0 || r.SpoolMaxBytes < 0 {
		return &Error{File: name, Line: lineOf(root, "report"), Key: "report", Msg: "durations and sizes must not be negative"}
	}
	if err := pipeline.ValidateFormat(r.Format); err != nil {
		return &Error{File: name, Line: lineOf(root, "report", "format"), Key: "report.format", Msg: fmt.Sprintf("unknown format %q (want json or ocsf)", r.Format)}
	}
	if (r.Collector != nil && r.Collector.URL != "" || r.Syslog != nil && r.Syslog.Address != "") && r.SpoolDir == "" {
		return &Error{File: name, Line: lineOf(root, "report"), Key: "report.spool_dir", Msg: "required with a collector or syslog output"}
	}
	if _, err := c.CodeSigning.Trust(); err != nil {
		return &Error{File: name, Line: lineOf(root, "code_signing"), Key: "code_signing.trusted_roots", Msg: err.Error()}
	}
	for i, e := range c.Allowlist {
		if err := e.Validate(); err != nil {
			return &Error{File: name, Line: lineOfSeq(root, i, "allowlist"), Key: fmt.Sprintf("allowlist[%d]", i), Msg: err.Error()}
		}
	}
	return nil
}

// decodeSettings decodes a detector's settings strictly into its own type.
func (c *Config) decodeSettings(reg detect.Registration, ds DetectorSettings) (any, error) {
	settings := reg.NewSettings()
	if ds.Settings.Kind == 0 {
		return settings, nil
	}
	out, err := yaml.Marshal(&ds.Settings)
	if err != nil {
		return nil, &Error{File: c.Path, Line: ds.Settings.Line, Key: "detectors." + reg.Name + ".settings", Msg: err.Error()}
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(settings); err != nil && !errors.Is(err, io.EOF) {
		// Errors refer to lines of the re-encoded block: find the key path
		// there, then its line in the original file.
		var rel yaml.Node
		_ = yaml.Unmarshal(out, &rel)
		e := yamlError(c.Path, &rel, err).(*Error)
		keys := strings.Split(e.Key, ".")
		if e.Key == "" {
			keys = nil
		}
		wrapped := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{&ds.Settings}}
		e.Line = ds.Settings.Line
		if l := lineOf(wrapped, keys...); l > 0 {
			e.Line = l
		}
		e.Key = strings.TrimSuffix("detectors."+reg.Name+".settings."+e.Key, ".")
		return nil, e
	}
	return settings, nil
}

// Instances builds the enabled detectors, in name order.
func (c *Config) Instances() ([]detect.Instance, error) {
	var out []detect.Instance
	for _, reg := range detect.All() {
		ds := c.Detectors[reg.Name]
		enabled := !reg.DisabledByDefault
		if ds.Enabled != nil {
			enabled = *ds.Enabled
		}
		if !enabled {
			continue
		}
		var settings any
		if reg.NewSettings != nil {
			s, err := c.decodeSettings(reg, ds)
			if err != nil {
				return nil, err
			}
			settings = s
		}
		d, err := reg.New(settings)
		if err != nil {
			return nil, fmt.Errorf("detector %s: %w", reg.Name, err)
		}
		timeout := reg.DefaultTimeout
		if ds.Timeout > 0 {
			timeout = ds.Timeout
		}
		interval := reg.DefaultInterval
		if ds.Interval > 0 {
			interval = ds.Interval
		}
		out = append(out, detect.Instance{Name: reg.Name, Timeout: timeout, Interval: interval, Detector: d})
	}
	return out, nil
}

func detectorNames() []string {
	var ns []string
	for _, r := range detect.All() {
		ns = append(ns, r.Name)
	}
	return ns
}

var (
	reLine     = regexp.MustCompile(`line (\d+):`)
	reNotFound = regexp.MustCompile(`field (\S+) not found in type`)
	reCannot   = regexp.MustCompile("cannot unmarshal !!(\\w+) `?([^`]*)`? into (\\S+)")
)

// yamlError turns a yaml.v3 error into an Error with the line and the key
// path found in the parsed node tree.
func yamlError(name string, root *yaml.Node, err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	e := &Error{File: name, Msg: strings.TrimPrefix(msg, "yaml: ")}
	if m := reLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = strings.TrimSpace(msg[strings.Index(msg, m[0])+len(m[0]):])
	}
	if m := reNotFound.FindStringSubmatch(msg); m != nil {
		e.Key = joinKey(keyPathAt(root, e.Line, true), m[1])
		e.Msg = "unknown key"
	} else if m := reCannot.FindStringSubmatch(msg); m != nil {
		e.Key = strings.Join(keyPathAt(root, e.Line, false), ".")
		e.Msg = fmt.Sprintf("wrong type: got %s %q, want %s", m[1], m[2], friendlyType(m[3]))
	} else if e.Line > 0 {
		e.Key = strings.Join(keyPathAt(root, e.Line, false), ".")
	}
	return e
}

func friendlyType(t string) string {
	switch {
	case t == "time.Duration":
		return "a duration like 30s"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case strings.HasPrefix(t, "*"):
		return friendlyType(t[1:])
	case strings.Contains(t, "."):
		return "a mapping"
	}
	return t
}

func joinKey(parent []string, k string) string {
	return strings.Join(append(parent, k), ".")
}

// keyPathAt returns the key path of the mapping entry on line; with parent
// set, the path of the mapping that holds that line's key.
func keyPathAt(root *yaml.Node, line int, parent bool) []string {
	if root == nil || line == 0 {
		return nil
	}
	var found []string
	var walk func(n *yaml.Node, path []string)
	walk = func(n *yaml.Node, path []string) {
		if found != nil {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := append(append([]string{}, path...), k.Value)
				if k.Line == line || (v.Line == line && v.Kind == yaml.ScalarNode) {
					if parent {
						found = path
					} else {
						found = p
					}
					return
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := append([]string{}, path...)
				if len(p) > 0 {
					p[len(p)-1] += fmt.Sprintf("[%d]", i)
				}
				if c.Line == line && c.Kind == yaml.ScalarNode {
					found = p
					return
				}
				walk(c, p)
			}
		}
	}
	walk(root, nil)
	if found == nil {
		return []string{}
	}
	return found
}

// lineOf finds the line of a key path in the tree (0 if absent).
func lineOf(root *yaml.Node, keys ...string) int {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line, next = n.Content[i].Line, n.Content[i+1]
				break
			}
		}
		n = next
	}
	return line
}

// lineOfSeq finds the line of item i of the sequence at keys.
func lineOfSeq(root *yaml.Node, i int, keys ...string) int {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return 0
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == k {
				next = n.Content[j+1]
			}
		}
		n = next
	}
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return 0
	}
	return n.Content[i].Line
}

// DetectorKey identifies a detector's effective configuration (enabled,
// timeout, interval and its own settings): two configs with the same key run
// the detector the same way, so the running agent restarts a streaming
// detector or trigger on reload exactly when its key changes.
func (c *Config) DetectorKey(name string) string {
	ds := c.Detectors[name]
	var b strings.Builder
	fmt.Fprintf(&b, "timeout=%s interval=%s", ds.Timeout, ds.Interval)
	if ds.Enabled != nil {
		fmt.Fprintf(&b, " enabled=%t", *ds.Enabled)
	}
	if ds.Settings.Kind != 0 {
		out, err := yaml.Marshal(&ds.Settings)
		if err != nil {
			// Unreachable for a node that parsed; never equal to a real key.
			return fmt.Sprintf("%s unencodable=%v", b.String(), err)
		}
		b.WriteString(" settings=")
		b.Write(out)
	}
	return b.String()
}

// RestartSettings names the top-level settings that differ between c and
// next and take effect only when the agent restarts (report outputs, spool,
// heartbeat interval, log level); a reload keeps the old values of these.
func (c *Config) RestartSettings(next *Config) []string {
	var out []string
	if c.Log != next.Log {
		out = append(out, "log.level")
	}
	a, b := reflect.ValueOf(c.Report), reflect.ValueOf(next.Report)
	for i := range a.NumField() {
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			tag, _, _ := strings.Cut(a.Type().Field(i).Tag.Get("yaml"), ",")
			out = append(out, "report."+tag)
		}
	}
	return out
}
