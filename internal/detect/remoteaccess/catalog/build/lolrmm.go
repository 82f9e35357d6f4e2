package build

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// lolrmmFile is the part of a LOLRMM yaml/<tool>.yaml file the catalog uses
// (schema: shared/data/rmm/lolrmm/SCHEMA.json). Fields whose shape varies
// between files (PEMetadata object or list, ports as numbers or strings) are
// decoded through yaml.Node.
type lolrmmFile struct {
	Name     string `yaml:"Name"`
	Category string `yaml:"Category"`
	Details  struct {
		PEMetadata        yaml.Node `yaml:"PEMetadata"`
		SupportedOS       []string  `yaml:"SupportedOS"`
		InstallationPaths []string  `yaml:"InstallationPaths"`
	} `yaml:"Details"`
	Artifacts struct {
		EventLog []map[string]any `yaml:"EventLog"`
		Registry []struct {
			Path string `yaml:"Path"`
		} `yaml:"Registry"`
		Network []struct {
			Domains []string    `yaml:"Domains"`
			Ports   []yaml.Node `yaml:"Ports"`
		} `yaml:"Network"`
	} `yaml:"Artifacts"`
	CodeSigning *struct {
		SignerNames  []string `yaml:"signer_names"`
		CompanyNames []string `yaml:"company_names"`
		Certificates []struct {
			SignerName     string `yaml:"signer_name"`
			SrcFileCompany string `yaml:"src_file_company"`
		} `yaml:"certificates"`
	} `yaml:"CodeSigning"`
}

type peMeta struct {
	Filename         string `yaml:"Filename"`
	OriginalFileName string `yaml:"OriginalFileName"`
	Product          string `yaml:"Product"`
	Company          string `yaml:"Company"`
}

// rawTool holds one LOLRMM file's facts as written in the file (trimmed,
// nothing else), grouped under the field names curated.yaml's fixes use.
type rawTool struct {
	File        string
	Name        string
	SupportedOS []string
	fields      map[string][]string
}

// Field names a fix can address.
const (
	fPaths     = "paths"      // Details.InstallationPaths
	fPEFiles   = "pe_files"   // PEMetadata Filename
	fOrigNames = "orig_names" // PEMetadata OriginalFileName
	fProducts  = "products"   // PEMetadata Product
	fCompanies = "companies"  // PEMetadata Company, CodeSigning company_names, certificates[].src_file_company
	fSigners   = "signers"    // CodeSigning signer_names, certificates[].signer_name
	fServices  = "services"   // EventLog ServiceName, Registry ...\Services\<name>
	fDomains   = "domains"    // Artifacts.Network[].Domains
	fPorts     = "ports"      // Artifacts.Network[].Ports
)

var rawFieldNames = []string{fPaths, fPEFiles, fOrigNames, fProducts, fCompanies, fSigners, fServices, fDomains, fPorts}

// parseLOLRMM decodes one LOLRMM YAML file.
func parseLOLRMM(file string, data []byte) (*rawTool, error) {
	var f lolrmmFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("lolrmm %s: %w", file, err)
	}
	name := strings.TrimSpace(f.Name)
	if name == "" {
		return nil, fmt.Errorf("lolrmm %s: no Name", file)
	}
	rt := &rawTool{File: file, Name: name, fields: map[string][]string{}}
	add := func(field, v string) {
		v = strings.TrimSpace(v)
		if v == "" {
			return
		}
		rt.fields[field] = append(rt.fields[field], v)
	}
	for _, s := range f.Details.SupportedOS {
		rt.SupportedOS = append(rt.SupportedOS, strings.TrimSpace(s))
	}
	for _, p := range f.Details.InstallationPaths {
		add(fPaths, p)
	}
	var pes []peMeta
	switch f.Details.PEMetadata.Kind {
	case yaml.MappingNode:
		var m peMeta
		if err := f.Details.PEMetadata.Decode(&m); err != nil {
			return nil, fmt.Errorf("lolrmm %s: PEMetadata: %w", file, err)
		}
		pes = append(pes, m)
	case yaml.SequenceNode:
		if err := f.Details.PEMetadata.Decode(&pes); err != nil {
			return nil, fmt.Errorf("lolrmm %s: PEMetadata: %w", file, err)
		}
	}
	for _, m := range pes {
		add(fPEFiles, m.Filename)
		add(fOrigNames, m.OriginalFileName)
		add(fProducts, m.Product)
		add(fCompanies, m.Company)
	}
	for _, e := range f.Artifacts.EventLog {
		if s, ok := e["ServiceName"].(string); ok {
			add(fServices, s)
		}
	}
	for _, r := range f.Artifacts.Registry {
		if s := serviceFromRegistry(r.Path); s != "" {
			add(fServices, s)
		}
	}
	for _, n := range f.Artifacts.Network {
		for _, d := range n.Domains {
			add(fDomains, d)
		}
		for _, p := range n.Ports {
			if p.Kind == yaml.ScalarNode {
				add(fPorts, p.Value)
			}
		}
	}
	if cs := f.CodeSigning; cs != nil {
		for _, s := range cs.SignerNames {
			add(fSigners, s)
		}
		for _, s := range cs.CompanyNames {
			add(fCompanies, s)
		}
		for _, c := range cs.Certificates {
			add(fSigners, c.SignerName)
			add(fCompanies, c.SrcFileCompany)
		}
	}
	return rt, nil
}

// serviceFromRegistry returns <name> from HKLM\SYSTEM\CurrentControlSet\Services\<name>[\...].
func serviceFromRegistry(p string) string {
	segs := strings.Split(strings.ReplaceAll(p, `\\`, `\`), `\`)
	for i := 1; i+1 < len(segs); i++ {
		prev := strings.ToLower(segs[i-1])
		if !strings.EqualFold(segs[i], "services") || (prev != "currentcontrolset" && !strings.HasPrefix(prev, "controlset")) {
			continue
		}
		name := strings.TrimSpace(segs[i+1])
		if name == "" || strings.EqualFold(name, "eventlog") || strings.ContainsAny(name, "*?") {
			return ""
		}
		return name
	}
	return ""
}

// portNumber parses a LOLRMM port value; ranges and junk are rejected.
func portNumber(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, false
	}
	return n, true
}
