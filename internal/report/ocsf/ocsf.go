// Package ocsf renders farmwatch findings and collector alerts as OCSF
// Detection Finding events (class 2004, schema 1.9.0-dev): the format SIEMs
// and data lakes (Security Lake, Splunk, Sentinel) ingest without a custom
// parser. The mapping is documented in docs/findings.md ("OCSF"); the tests
// validate every rule's real output against the schema's source files.
package ocsf

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
)

// SchemaVersion is the OCSF schema version the events follow.
const SchemaVersion = "1.9.0-dev"

// Class constants of Detection Finding.
const (
	CategoryUID = 2    // Findings
	ClassUID    = 2004 // Detection Finding
	ActivityNew = 1    // Create
)

// Event is one OCSF event, ready for json.Marshal.
type Event map[string]any

// Detection is what an OCSF Detection Finding is built from: a finding of
// one host or a collector alert spanning several.
type Detection struct {
	UID        string
	Title      string
	Desc       string
	Types      []string // finding_info.types: category, tool
	Rule       string   // analytic uid/name
	Severity   report.Severity
	Time       time.Time
	FirstSeen  time.Time
	LastSeen   time.Time
	Count      int
	Confidence float64 // 0..1; <0 when unknown
	Suppressed bool    // allowlisted
	Closed     bool
	Hosts      []report.Host
	Category   string
	Evidence   map[string]any
}

// FromFinding maps an agent finding.
func FromFinding(f report.Finding) Detection {
	d := Detection{
		UID: f.ID, Title: f.Summary, Desc: f.Summary, Rule: f.Rule, Severity: f.Severity,
		Time: f.Time, FirstSeen: f.Time, LastSeen: f.Time, Count: f.Count, Confidence: f.Confidence,
		Suppressed: f.Allowed, Hosts: []report.Host{f.Host}, Category: string(f.Category), Evidence: f.Evidence,
	}
	if f.LastSeen != nil {
		d.LastSeen = *f.LastSeen
	}
	d.Types = []string{string(f.Category)}
	if f.Tool != "" {
		d.Types = append(d.Types, f.Tool)
	}
	d.Title = f.Rule + ": " + oneLine(f.Summary, 200)
	return d
}

var severityIDs = map[report.Severity]int{
	report.SeverityInfo: 1, report.SeverityLow: 2, report.SeverityMedium: 3,
	report.SeverityHigh: 4, report.SeverityCritical: 5,
}

var severityNames = map[int]string{0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}

// remediations per finding category: what the analyst does next.
var remediations = map[string]string{
	"remote-access":          "Confirm the remote-access tool is sanctioned for this user; otherwise remove it and review who connected.",
	"remote-access-hardware": "Physically inspect the laptop for an IP-KVM or capture device; it must not be driven by a second machine.",
	"vpn":                    "Check that the VPN is a sanctioned corporate VPN; unsanctioned VPNs hide where the laptop is.",
	"tunnel":                 "Identify who operates the tunnel's far end; reverse tunnels let another machine drive this laptop.",
	"proxy":                  "Identify the proxy and whether traffic from this laptop is relayed for someone else.",
	"relay":                  "Identify the relay's far end; relayed sessions hide the real operator's location.",
	"lan-device":             "Identify the device on the laptop's network; IP-KVMs and many company laptops on one LAN indicate a farm.",
	"context":                "Compare the laptop's time zone, keyboard and location with the assigned user's expected region.",
}

// Encode builds the Detection Finding event. version is farmwatch's own.
func Encode(d Detection, version string) Event {
	sev := severityIDs[d.Severity]
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	fi := map[string]any{"uid": d.UID, "title": d.Title}
	if d.Desc != "" {
		fi["desc"] = d.Desc
	}
	if len(d.Types) > 0 {
		fi["types"] = d.Types
	}
	if d.Rule != "" {
		fi["analytic"] = map[string]any{"uid": d.Rule, "name": d.Rule, "type_id": 1, "type": "Rule"}
	}
	if !d.FirstSeen.IsZero() {
		fi["first_seen_time"] = ms(d.FirstSeen)
	}
	if !d.LastSeen.IsZero() {
		fi["last_seen_time"] = ms(d.LastSeen)
	}
	status, statusID := "New", 1
	switch {
	case d.Closed:
		status, statusID = "Resolved", 4
	case d.Suppressed:
		status, statusID = "Suppressed", 3
	}
	e := Event{
		"activity_id": ActivityNew, "activity_name": "Create",
		"category_uid": CategoryUID, "category_name": "Findings",
		"class_uid": ClassUID, "class_name": "Detection Finding",
		"type_uid": ClassUID*100 + ActivityNew, "type_name": "Detection Finding: Create",
		"severity_id": sev, "severity": severityNames[sev],
		"status_id": statusID, "status": status,
		"time":         ms(d.Time),
		"message":      d.Desc,
		"is_alert":     !d.Suppressed && !d.Closed,
		"finding_info": fi,
		"metadata": map[string]any{
			"uid":     d.UID,
			"version": SchemaVersion,
			"product": map[string]any{"name": "farmwatch", "vendor_name": "farmwatch", "version": version},
		},
	}
	if !d.FirstSeen.IsZero() {
		e["start_time"] = ms(d.FirstSeen)
	}
	if !d.LastSeen.IsZero() {
		e["end_time"] = ms(d.LastSeen)
	}
	if d.Count > 0 {
		e["count"] = d.Count
	}
	if d.Confidence >= 0 && d.Confidence <= 1 {
		score := int(d.Confidence*100 + 0.5)
		e["confidence_score"] = score
		switch {
		case score >= 80:
			e["confidence_id"], e["confidence"] = 3, "High"
		case score >= 50:
			e["confidence_id"], e["confidence"] = 2, "Medium"
		default:
			e["confidence_id"], e["confidence"] = 1, "Low"
		}
	}
	if r, ok := remediations[d.Category]; ok {
		e["remediation"] = map[string]any{"desc": r}
	}
	var hosts []report.Host
	for _, h := range d.Hosts {
		if h.ID != "" || h.Name != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 1 {
		e["device"] = device(hosts[0])
	}
	if len(hosts) > 1 {
		var rs []any
		for _, h := range hosts {
			r := map[string]any{"type": "host"}
			if h.ID != "" {
				r["uid"] = h.ID
			}
			if h.Name != "" {
				r["name"] = h.Name
			}
			rs = append(rs, r)
		}
		e["resources"] = rs
	}
	ev, obs := evidences(d.Evidence)
	if ev != nil {
		e["evidences"] = []any{ev}
	}
	for _, h := range hosts {
		if h.Name != "" {
			obs = append(obs, observable("device.hostname", 1, h.Name))
		}
	}
	if len(obs) > 0 {
		e["observables"] = obs
	}
	return e
}

func device(h report.Host) map[string]any {
	dv := map[string]any{"type_id": 0, "type": "Unknown"}
	if h.Name != "" {
		dv["hostname"], dv["name"] = h.Name, h.Name
	}
	if h.ID != "" {
		dv["uid"] = h.ID
	}
	return dv
}

func observable(name string, typeID int, value string) map[string]any {
	return map[string]any{"name": name, "type_id": typeID, "value": value}
}

// evidences maps the finding's evidence vocabulary (report.Ev*) onto an
// OCSF evidences object: the process (pid, name, file path, SHA-256,
// command line), the flow's endpoints, and the raw evidence as data.
func evidences(ev map[string]any) (map[string]any, []any) {
	if len(ev) == 0 {
		return nil, nil
	}
	out := map[string]any{"data": ev}
	var obs []any
	proc := map[string]any{}
	if pid, ok := toInt(ev[report.EvPID]); ok {
		proc["pid"] = pid
	} else if pids := list(ev[report.EvPIDs]); len(pids) > 0 {
		if pid, ok := toInt(pids[0]); ok {
			proc["pid"] = pid
		}
	}
	name := str(ev[report.EvProcess])
	if name == "" {
		name = str(ev[report.EvName])
	}
	exe := str(ev[report.EvExe])
	if exe == "" {
		exe = str(ev[report.EvPath])
	}
	if name != "" && len(proc) > 0 || name != "" && exe != "" {
		proc["name"] = name
		obs = append(obs, observable("evidences.process.name", 9, name))
	}
	cl := str(ev[report.EvCmdline])
	if cl == "" {
		var parts []string
		for _, a := range list(ev[report.EvCmdline]) {
			parts = append(parts, fmt.Sprint(a))
		}
		cl = strings.Join(parts, " ")
	}
	if cl != "" && len(proc) > 0 {
		proc["cmd_line"] = cl
	}
	if exe != "" && len(proc) > 0 {
		file := map[string]any{"name": baseName(exe), "path": exe, "type_id": 1, "type": "Regular File"}
		if h := str(ev[report.EvExeSHA256]); h != "" {
			file["hashes"] = []any{map[string]any{"algorithm_id": 3, "algorithm": "SHA-256", "value": h}}
			obs = append(obs, observable("evidences.process.file.hashes.value", 8, h))
		}
		proc["file"] = file
		obs = append(obs, observable("evidences.process.file.path", 45, exe))
	}
	if _, ok := proc["pid"]; ok {
		out["process"] = proc
	}
	src, dst := ev[report.EvClient], ev[report.EvServer]
	if src == nil && dst == nil {
		src, dst = ev[report.EvControlled], ev[report.EvControllerSide]
	}
	for key, v := range map[string]any{"src_endpoint": src, "dst_endpoint": dst} {
		if ep, ip := endpoint(str(v)); ep != nil {
			out[key] = ep
			obs = append(obs, observable("evidences."+key+".ip", 2, ip))
		}
	}
	sort.Slice(obs, func(i, j int) bool {
		return obs[i].(map[string]any)["name"].(string) < obs[j].(map[string]any)["name"].(string)
	})
	return out, obs
}

// endpoint parses "ip:port" (or a bare ip) into a network_endpoint.
func endpoint(s string) (map[string]any, string) {
	if s == "" {
		return nil, ""
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, ""
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, ""
	}
	ep := map[string]any{"ip": ip.String()}
	if p, err := strconv.Atoi(port); err == nil && p >= 0 && p <= 65535 {
		ep["port"] = p
	}
	return ep, ip.String()
}

func baseName(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if b := path.Base(p); b != "." && b != "/" {
		return b
	}
	return p
}

// list returns the elements of any slice value ([]any after a JSON round
// trip, []int or []string in-process).
func list(v any) []any {
	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Slice {
		return nil
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// WriteLines writes findings as OCSF events, one JSON object per line.
func WriteLines(w io.Writer, fs []report.Finding, version string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range fs {
		if err := enc.Encode(Encode(FromFinding(fs[i]), version)); err != nil {
			return fmt.Errorf("write OCSF finding %s: %w", fs[i].ID, err)
		}
	}
	return nil
}
