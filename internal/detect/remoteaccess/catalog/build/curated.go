package build

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
)

// curatedFile is curated.yaml: farmwatch's overlay on LOLRMM.
type curatedFile struct {
	// Date is the curation date; with the LOLRMM commit it forms the
	// catalog version (kept in the file so the output is reproducible).
	Date    string         `yaml:"date"`
	Generic genericRules   `yaml:"generic"`
	Fixes   []fix          `yaml:"fixes"`
	Tools   []curatedTool  `yaml:"tools"`
	Sources []sourceRecord `yaml:"sources"`
}

// genericRules are cleaning rules applied to every LOLRMM file.
type genericRules struct {
	// IgnorePorts are LOLRMM ports too common to say anything about a tool.
	IgnorePorts []int `yaml:"ignore_ports"`
	// SharedDomains are shared-infrastructure domains: the domain and every
	// name under it are dropped.
	SharedDomains []string `yaml:"shared_domains"`
	// SharedSuffixes are shared parents under which only specific hosts may
	// be kept: the apex and any wildcard over it are dropped.
	SharedSuffixes []string `yaml:"shared_suffixes"`
}

// fix corrects one LOLRMM file before its facts are used. Every value named
// must occur in the file, so a fix that no longer applies fails the build.
type fix struct {
	File string `yaml:"file"`
	// Why cites the evidence (RESEARCH.md section or other source).
	Why string `yaml:"why"`
	// Drop removes values, per raw field (see rawFieldNames).
	Drop map[string][]string `yaml:"drop"`
	// Replace rewrites a value (typos), per raw field: old -> new.
	Replace map[string]map[string]string `yaml:"replace"`
}

// curatedTool adds to, or creates, one catalog tool.
type curatedTool struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name"`
	Report   string `yaml:"report"`
	Category string `yaml:"category"`
	Role     string `yaml:"role"`
	// LOLRMM lists the LOLRMM files merged into this tool (de-duplication).
	LOLRMM []string `yaml:"lolrmm"`
	// Replace names output fields whose LOLRMM-derived values are discarded
	// before the curated values are added.
	Replace           []string                 `yaml:"replace"`
	Processes         map[string][]string      `yaml:"processes"`
	OriginalFilenames []string                 `yaml:"original_filenames"`
	Products          []string                 `yaml:"products"`
	Companies         []string                 `yaml:"companies"`
	Signers           []string                 `yaml:"signers"`
	BundleIDs         []string                 `yaml:"bundle_ids"`
	TeamIDs           []string                 `yaml:"team_ids"`
	Services          []string                 `yaml:"services"`
	Paths             []string                 `yaml:"paths"`
	ListenPorts       []string                 `yaml:"listen_ports"`
	OutboundPorts     []string                 `yaml:"outbound_ports"`
	Domains           []string                 `yaml:"domains"`
	Sessions          []catalog.SessionPattern `yaml:"sessions"`
	Markers           []string                 `yaml:"markers"`
	GoModules         []string                 `yaml:"go_modules"`
	Scripts           []string                 `yaml:"scripts"`
	ConfigFiles       []catalog.ConfigFile     `yaml:"config_files"`
	Verified          []curatedVerified        `yaml:"verified"`
	Sources           []string                 `yaml:"sources"`
}

// curatedVerified is one identity fact read from a real binary (see
// catalog.VerifiedFact).
type curatedVerified struct {
	Kind   string `yaml:"kind"`
	Value  string `yaml:"value"`
	From   string `yaml:"from"`
	File   string `yaml:"file"`
	SHA256 string `yaml:"sha256"`
}

type sourceRecord struct {
	Name    string `yaml:"name"`
	License string `yaml:"license"`
	Ref     string `yaml:"ref"`
}

// parseCurated decodes curated.yaml strictly: unknown keys are errors, so a
// misspelt field cannot silently drop data.
func parseCurated(data []byte) (*curatedFile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c curatedFile
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("curated.yaml: %w", err)
	}
	return &c, nil
}
