package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

type pages struct{ t map[string]*template.Template }

// timelineRow is one rendered timeline line.
type timelineRow struct {
	Event    store.Event
	Severity string
	Summary  string
}

func timelineRows(evs []store.Event) []timelineRow {
	out := make([]timelineRow, 0, len(evs))
	for _, e := range evs {
		row := timelineRow{Event: e}
		switch e.Kind {
		case store.KindFinding:
			var f report.Finding
			if json.Unmarshal([]byte(e.Payload), &f) == nil {
				row.Severity, row.Summary = f.Severity.String(), fmt.Sprintf("%s [%s] %s", f.Rule, f.Category, f.Summary)
			}
		case store.KindHeartbeat:
			var h store.Heartbeat
			if json.Unmarshal([]byte(e.Payload), &h) == nil {
				row.Summary = fmt.Sprintf("heartbeat: agent %s, uptime %.0fs, spool %d bytes, %d dropped", h.AgentVersion, h.UptimeSeconds, h.SpoolBytes, h.SpoolDropped)
				if h.Event != "" {
					row.Summary = "event " + h.Event + " — " + row.Summary
					row.Severity = "info"
				}
			}
		}
		out = append(out, row)
	}
	return out
}

var funcs = template.FuncMap{
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		d := now.Sub(t).Round(time.Second)
		if d < 0 {
			d = 0
		}
		return d.String() + " ago"
	},
	"join": func(xs []string) string {
		var b bytes.Buffer
		for i, x := range xs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(x)
		}
		return b.String()
	},
	"kindName":    alertKindName,
	"farmSummary": farmSummary,
	"farmKind":    func(k string) bool { return k == store.AlertSharedInfra || k == store.AlertCoLocation },
	"args": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			m[k] = kv[i+1]
		}
		return m
	},
	"json": func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	},
}

const layout = `{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} — farmwatch</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#222}header{background:#1d2b3a;color:#fff;padding:.6em 1em;display:flex;gap:1.5em;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}header form{margin-left:auto}main{padding:1em}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top;font-size:.92em}
th{background:#f3f5f7}.sev-critical,.lvl-critical{color:#fff;background:#8b0000}.sev-high,.lvl-high{color:#fff;background:#c0392b}.sev-medium,.lvl-medium{background:#f0ad4e}
.sev-low,.lvl-low{background:#d9edf7}.badge{padding:.1em .45em;border-radius:.3em;font-size:.85em}.muted{color:#777}form.inline{display:inline}
button{cursor:pointer}.err{color:#b00}
.state-ok{background:#dff0d8}.state-silent{color:#fff;background:#8b0000}.state-stopped{color:#fff;background:#c0392b}.state-event{background:#eee}
.farm{border:1px solid #c9d3dd;border-left:6px solid #c0392b;border-radius:.4em;padding:.2em 1em .6em;margin-bottom:1.5em;background:#fcfcfd}
.farm h2{font-size:1.15em}.farm h3{font-size:1em;margin:.6em 0 .3em}.cols{display:flex;flex-wrap:wrap;gap:1.5em}.cols>div{flex:1 1 28em;min-width:0}
.why{margin-bottom:.15em}.why b{color:#8b0000}.share{margin-bottom:.2em}td.reasons{min-width:24em}td.shares{min-width:16em}td.hosts{min-width:10em}td.when,td.kind{white-space:nowrap}code.hash{font-size:.85em}nav.sub{margin-bottom:1em}
</style></head><body>
{{if .P.User}}<header><a href="/fleet">farmwatch</a><a href="/fleet">Fleet</a><a href="/">Hosts</a><a href="/alerts">Alerts</a><a href="/inventory">Inventory</a>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{.P.CSRF}}"><span class="muted">{{.P.User}}</span> <button type="submit">Log out</button></form></header>{{end}}
<main>{{end}}
{{define "bottom"}}</main></body></html>{{end}}
{{define "agent"}}{{with .H}}{{if .Silent}}<span class="badge state-silent">silent</span> {{else if .Stopped}}<span class="badge state-stopped">{{.LastEvent}}</span> {{else if .LastEvent}}<span class="badge state-event">{{.LastEvent}}</span> {{else if not .LastHeartbeat.IsZero}}<span class="badge state-ok">reporting</span> {{end}}{{if .AgentVersion}}agent {{.AgentVersion}}{{end}}<br><span class="muted">heartbeat {{ago $.Now .LastHeartbeat}}</span>{{with .Heartbeat}}{{if .SpoolPending}}<br><span class="muted pending">{{.SpoolPending}} record(s) pending</span>{{end}}{{range .Capture}}{{if .KernelDrops}}<br><span class="muted drops">{{.Interface}}: {{.KernelDrops}} kernel drops</span>{{end}}{{end}}{{end}}{{end}}{{end}}
{{define "person"}}{{if .Person}}<span class="person">issued to {{.Person}}</span>{{if .Expected}}<br><span class="muted">expected in {{.Expected}}</span>{{end}}{{else}}<span class="muted">not in the inventory</span>{{end}}{{end}}
{{define "why"}}{{range .Reasons}}<div class="why"><b>+{{printf "%.0f" .Points}}</b> {{.Reason}}</div>{{else}}<span class="muted">no open findings</span>{{end}}{{if .More}}<div class="muted">and {{.More}} more</div>{{end}}{{end}}
{{define "shares"}}{{range .Shares}}<div class="share"><a href="/hosts/{{.Host.ID}}">{{.Host.Label}}</a> <span class="muted">{{join .What}}</span></div>{{else}}<span class="muted">—</span>{{end}}{{end}}`

var pageSrc = map[string]string{
	"login": `{{template "top" dict "Title" "Log in" "P" nil}}
<h1>farmwatch — log in</h1>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="next" value="{{.Next}}">
<p><label>User <input name="username" id="username" autocomplete="username" required autofocus></label></p>
<p><label>Password <input name="password" id="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit" id="login">Log in</button></p></form>
{{if .ProxyAuth}}<p class="muted">Single sign-on through the reverse proxy is also enabled.</p>{{end}}
{{template "bottom"}}`,
	"hosts": `{{template "top" dict "Title" "Hosts" "P" .P}}
<h1>Hosts</h1><p><a href="/fleet">{{.Farms}} farm(s) found</a> · <a href="/alerts">{{.OpenAlerts}} open alert(s)</a></p>
<table id="hosts"><thead><tr><th>Risk</th><th>Host</th><th>Issued to</th><th>Why</th><th>Agent</th><th>Shares infrastructure with</th><th>Open findings</th><th>Last seen</th></tr></thead><tbody>
{{range .Hosts}}<tr class="host" data-host="{{.ID}}"><td><span class="badge lvl-{{.Risk.Level}}">{{.Risk.Score}} {{.Risk.Level}}</span>{{if .Farm}}<br><a href="/fleet#farm-{{.Farm}}">farm {{.Farm}}</a>{{end}}</td>
<td><a href="/hosts/{{.ID}}">{{.Label}}</a><br><span class="muted">{{.ID}}</span></td><td class="who">{{template "person" .}}</td>
<td class="reasons">{{template "why" .}}</td><td class="agent">{{template "agent" args "H" . "Now" $.Now}}</td><td class="shares">{{template "shares" .}}</td>
<td>{{.OpenFindings}}</td><td title="{{ts .LastSeen}}">{{ago $.Now .LastSeen}}</td></tr>
{{else}}<tr><td colspan="8" class="muted">No hosts have reported yet.</td></tr>{{end}}
</tbody></table>
{{template "bottom"}}`,
	"fleet": `{{template "top" dict "Title" "Fleet" "P" .P}}
<h1>Fleet</h1>
<p id="fleet-summary">{{len .Farms}} farm(s) found · {{.InFarms}} of {{.HostCount}} host(s) in a farm · <a href="/alerts">{{.OpenAlerts}} open alert(s)</a></p>
{{range .Farms}}<section class="farm" id="farm-{{.N}}" data-farm="{{.N}}">
<h2><span class="badge sev-{{.Severity}}">{{.Severity}}</span> Farm {{.N}}: {{farmSummary .}}</h2>
<p class="muted">first alert {{ts .Since}} · last change {{ago $.Now .Updated}}</p>
<div class="cols"><div><h3>Hosts</h3>
<table class="farm-hosts"><thead><tr><th>Risk</th><th>Host</th><th>Issued to</th><th>Agent</th><th>Why</th></tr></thead><tbody>
{{range .Hosts}}<tr class="host" data-host="{{.ID}}"><td><span class="badge lvl-{{.Risk.Level}}">{{.Risk.Score}} {{.Risk.Level}}</span></td>
<td><a href="/hosts/{{.ID}}">{{.Label}}</a><br><span class="muted">{{.ID}}</span></td><td class="who">{{template "person" .}}</td>
<td class="agent">{{template "agent" args "H" . "Now" $.Now}}</td><td class="reasons">{{template "why" .}}</td></tr>
{{end}}</tbody></table></div>
<div><h3>What links them</h3>
<table class="links"><thead><tr><th>Shared</th><th>Hosts</th><th>Seen</th><th>Alert</th></tr></thead><tbody>
{{range .Links}}<tr class="link" data-kind="{{.Kind}}"><td>{{.What}}</td><td>{{range .Hosts}}<a href="/hosts/{{.ID}}">{{.Label}}</a> {{end}}</td><td>since {{ts .FirstSeen}}<br><span class="muted">last {{ago $.Now .LastSeen}}</span></td><td>{{.AlertKind}}</td></tr>
{{end}}</tbody></table>
<h3>Alerts</h3><ul>{{range .Alerts}}<li class="farm-alert"><span class="badge sev-{{.Severity}}">{{.Severity}}</span> {{.Title}} <span class="muted">({{.Status}})</span></li>{{end}}</ul>
</div></div></section>
{{else}}<p class="muted" id="no-farms">No farm found: no open shared-infrastructure or co-location alert.</p>{{end}}
{{template "bottom"}}`,
	"host": `{{template "top" dict "Title" .Host.ID "P" .P}}
<h1>{{if .Host.Name}}{{.Host.Name}}{{else}}{{.Host.ID}}{{end}} <span class="badge lvl-{{.Host.Risk.Level}}" id="risk">risk {{.Host.Risk.Score}} ({{.Host.Risk.Level}})</span></h1>
<p class="muted">id {{.Host.ID}} · agent {{.Host.AgentVersion}} · first seen {{ts .Host.FirstSeen}} · last seen {{ago .Now .Host.LastSeen}} · last heartbeat {{ago .Now .Host.LastHeartbeat}}{{if .Host.LastEvent}} ({{.Host.LastEvent}}){{end}}</p>
<p id="agent-state">{{template "agent" args "H" .Row "Now" .Now}}</p>
<p id="issued-to">{{template "person" .Row}}</p>
{{if .Row.Farm}}<h2>Shares infrastructure with (<a href="/fleet#farm-{{.Row.Farm}}">farm {{.Row.Farm}}</a>)</h2>
<div id="shares">{{template "shares" .Row}}</div>{{end}}
<h2>Why this risk</h2>
<table id="risk-explanation"><thead><tr><th>Points</th><th>Reason</th><th>Rule</th></tr></thead><tbody>
{{range .Host.Risk.Contributions}}<tr><td>{{printf "%.1f" .Points}}</td><td>{{.Reason}}</td><td>{{.Rule}}</td></tr>{{else}}<tr><td colspan="3" class="muted">No open findings.</td></tr>{{end}}
</tbody></table>
<h2>Findings</h2>
<table id="findings"><thead><tr><th>Severity</th><th>Category</th><th>Tool</th><th>Rule</th><th>Summary</th><th>Count</th><th>First / last seen</th><th>Status</th><th></th></tr></thead><tbody>
{{range .Findings}}<tr class="finding" data-finding="{{.ID}}"><td><span class="badge sev-{{.Severity}}">{{.Severity}}</span>{{if .Allowed}} (allowed){{end}}</td><td>{{.Category}}</td><td>{{.Tool}}</td><td>{{.Rule}}</td>
<td>{{.Summary}}<details><summary class="muted">evidence</summary><code>{{json .Evidence}}</code></details></td><td>{{.Count}}</td><td>{{ts .FirstSeen}}<br>{{ts (deref .LastSeen)}}</td><td>{{.Status}}{{if .ClosedBy}} by {{.ClosedBy}}{{end}}</td>
<td>{{if ne .Status "closed"}}<form class="inline" method="post" action="/hosts/{{$.Host.ID}}/findings/{{.ID}}/close"><input type="hidden" name="csrf" value="{{$.P.CSRF}}"><button type="submit">Close</button></form>{{end}}</td></tr>
{{else}}<tr><td colspan="9" class="muted">No findings.</td></tr>{{end}}
</tbody></table>
<h2>Timeline</h2>
<table id="timeline"><thead><tr><th>Observed</th><th>Received</th><th>Seq</th><th>Kind</th><th>What</th></tr></thead><tbody>
{{range .Timeline}}<tr><td>{{ts .Event.ObservedAt}}</td><td>{{ts .Event.ReceivedAt}}</td><td>{{.Event.Seq}}</td><td>{{.Event.Kind}}{{if .Severity}} <span class="badge sev-{{.Severity}}">{{.Severity}}</span>{{end}}</td><td>{{.Summary}}</td></tr>
{{else}}<tr><td colspan="5" class="muted">Nothing received yet.</td></tr>{{end}}
</tbody></table>
{{template "bottom"}}`,
	"inventory": `{{template "top" dict "Title" "Inventory" "P" .P}}
<h1>Inventory</h1>
{{with .Inv}}{{if .Format}}<p id="inventory-summary">{{.Devices}} device(s) imported ({{.Format}} export{{if .ImportedAt}}, {{.ImportedAt}}{{end}}) · {{len .Matched}} matched to a host · {{len .UnmatchedRecords}} device(s) with no agent · {{len .UnmatchedHosts}} host(s) the inventory does not list</p>
{{else}}<p class="muted" id="inventory-summary">No inventory imported: <code>farmwatch-collector inventory import FILE</code> or <code>PUT /api/v1/inventory</code> (docs/inventory.md).</p>{{end}}
<h2>Hosts the inventory does not list</h2>
<p class="muted">An agent reports from these, but no inventory row names their serial, hostname or host id: nobody is known to have them.</p>
<table id="unmatched-hosts"><thead><tr><th>Host</th><th>Serial</th></tr></thead><tbody>
{{range .UnmatchedHosts}}<tr class="unmatched-host" data-host="{{.ID}}"><td><a href="/hosts/{{.ID}}">{{if .Name}}{{.Name}}{{else}}{{.ID}}{{end}}</a><br><span class="muted">{{.ID}}</span></td><td>{{.Serial}}</td></tr>
{{else}}<tr><td colspan="2" class="muted">None.</td></tr>{{end}}</tbody></table>
<h2>Devices with no agent</h2>
<p class="muted">Inventory rows no host reports as: not enrolled, or the agent is not installed.</p>
<table id="unmatched-records"><thead><tr><th>Device</th><th>Serial</th><th>Issued to</th><th>Expected region</th><th>Row</th></tr></thead><tbody>
{{range .UnmatchedRecords}}<tr class="unmatched-record"><td>{{.DeviceName}}</td><td>{{.Serial}}</td><td>{{.Person}}</td><td>{{.Region}}</td><td>{{.Format}} line {{.Line}}</td></tr>
{{else}}<tr><td colspan="5" class="muted">None.</td></tr>{{end}}</tbody></table>
<h2>Matched</h2>
<table id="matched"><thead><tr><th>Host</th><th>Matched by</th><th>Issued to</th><th>Expected region</th><th>Device</th><th>Serial</th></tr></thead><tbody>
{{range .Matched}}<tr class="matched" data-host="{{.Host.ID}}"><td><a href="/hosts/{{.Host.ID}}">{{if .Host.Name}}{{.Host.Name}}{{else}}{{.Host.ID}}{{end}}</a></td><td>{{.By}}</td><td>{{.Record.Person}}</td><td>{{.Record.Region}}</td><td>{{.Record.DeviceName}}</td><td>{{.Record.Serial}}</td></tr>
{{else}}<tr><td colspan="6" class="muted">None.</td></tr>{{end}}</tbody></table>{{end}}
{{template "bottom"}}`,
	"alerts": `{{template "top" dict "Title" "Alerts" "P" .P}}
<h1>Alerts</h1>
<p>Show: <a href="/alerts">open</a> · <a href="/alerts?status=acknowledged">acknowledged</a> · <a href="/alerts?status=closed">closed</a> · <a href="/alerts?status=all">all</a></p>
<table id="alerts"><thead><tr><th>Severity</th><th>Kind</th><th>Alert</th><th>Hosts</th><th>Since / last seen</th><th>Status</th><th>Delivery</th><th></th></tr></thead><tbody>
{{range .Alerts}}<tr class="alert" data-alert="{{.ID}}"><td><span class="badge sev-{{.Severity}}">{{.Severity}}</span></td>
<td class="kind">{{kindName .Alert}}{{if ne (kindName .Alert) .Kind}}<br><span class="muted">{{.Kind}}</span>{{end}}</td>
<td><strong>{{.Title}}</strong><details {{if farmKind .Kind}}open{{end}}><summary class="muted">detail</summary>{{.Detail}}</details></td>
<td class="hosts"><b>{{len .HostRefs}}</b> host(s):{{range .HostRefs}}<br><a href="/hosts/{{.ID}}">{{.Label}}</a>{{end}}</td><td class="when">since {{ts .CreatedAt}}<br><span class="muted">last seen {{ago $.Now .LastSeen}}</span></td>
<td>{{.Status}}{{if .AckedBy}} by {{.AckedBy}}{{end}}{{if .ClosedBy}}, closed by {{.ClosedBy}}{{end}}</td><td>{{.Delivery}}{{if .LastError}}<br><span class="muted">{{.LastError}}</span>{{end}}</td>
<td>{{if eq .Status "open"}}<form class="inline" method="post" action="/alerts/{{.ID}}/ack"><input type="hidden" name="csrf" value="{{$.P.CSRF}}"><input type="hidden" name="next" value="/alerts"><button type="submit" class="ack">Acknowledge</button></form>{{end}}
{{if ne .Status "closed"}}<form class="inline" method="post" action="/alerts/{{.ID}}/close"><input type="hidden" name="csrf" value="{{$.P.CSRF}}"><input type="hidden" name="next" value="/alerts"><button type="submit" class="close">Close</button></form>{{end}}</td></tr>
{{else}}<tr><td colspan="8" class="muted">No alerts.</td></tr>{{end}}
</tbody></table>
{{template "bottom"}}`,
}

func newPages() (*pages, error) {
	f := template.FuncMap{
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				k, _ := kv[i].(string)
				m[k] = kv[i+1]
			}
			if p, ok := m["P"].(principal); ok {
				m["P"] = p
			} else {
				m["P"] = principal{}
			}
			return m
		},
		"deref": func(t *time.Time) time.Time {
			if t == nil {
				return time.Time{}
			}
			return *t
		},
	}
	for k, v := range funcs {
		f[k] = v
	}
	p := &pages{t: map[string]*template.Template{}}
	for name, src := range pageSrc {
		t, err := template.New(name).Funcs(f).Parse(layout)
		if err != nil {
			return nil, fmt.Errorf("parse layout: %w", err)
		}
		if t, err = t.Parse(src); err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		p.t[name] = t
	}
	return p, nil
}

func (s *Server) render(w http.ResponseWriter, code int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.t[name].ExecuteTemplate(&buf, name, data); err != nil {
		s.pageError(w, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	buf.WriteTo(w) //nolint:errcheck
}
