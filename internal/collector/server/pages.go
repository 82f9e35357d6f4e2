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
</style></head><body>
{{if .P.User}}<header><a href="/">farmwatch</a><a href="/">Hosts</a><a href="/alerts">Alerts</a>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{.P.CSRF}}"><span class="muted">{{.P.User}}</span> <button type="submit">Log out</button></form></header>{{end}}
<main>{{end}}
{{define "bottom"}}</main></body></html>{{end}}`

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
<h1>Hosts</h1><p><a href="/alerts">{{.OpenAlerts}} open alert(s)</a></p>
<table id="hosts"><thead><tr><th>Risk</th><th>Host</th><th>Open findings</th><th>Last seen</th><th>Last heartbeat</th><th>Agent</th><th>Event</th></tr></thead><tbody>
{{range .Hosts}}<tr class="host" data-host="{{.ID}}"><td><span class="badge lvl-{{.Risk.Level}}">{{.Risk.Score}} {{.Risk.Level}}</span></td>
<td><a href="/hosts/{{.ID}}">{{if .Name}}{{.Name}}{{else}}{{.ID}}{{end}}</a><br><span class="muted">{{.ID}}</span></td>
<td>{{.OpenFindings}}</td><td title="{{ts .LastSeen}}">{{ago $.Now .LastSeen}}</td><td>{{ago $.Now .LastHeartbeat}}</td><td>{{.AgentVersion}}</td><td>{{.LastEvent}}</td></tr>
{{else}}<tr><td colspan="7" class="muted">No hosts have reported yet.</td></tr>{{end}}
</tbody></table>
{{template "bottom"}}`,
	"host": `{{template "top" dict "Title" .Host.ID "P" .P}}
<h1>{{if .Host.Name}}{{.Host.Name}}{{else}}{{.Host.ID}}{{end}} <span class="badge lvl-{{.Host.Risk.Level}}" id="risk">risk {{.Host.Risk.Score}} ({{.Host.Risk.Level}})</span></h1>
<p class="muted">id {{.Host.ID}} · agent {{.Host.AgentVersion}} · first seen {{ts .Host.FirstSeen}} · last seen {{ago .Now .Host.LastSeen}} · last heartbeat {{ago .Now .Host.LastHeartbeat}}{{if .Host.LastEvent}} ({{.Host.LastEvent}}){{end}}</p>
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
	"alerts": `{{template "top" dict "Title" "Alerts" "P" .P}}
<h1>Alerts</h1>
<p>Show: <a href="/alerts">open</a> · <a href="/alerts?status=acknowledged">acknowledged</a> · <a href="/alerts?status=closed">closed</a> · <a href="/alerts?status=all">all</a></p>
<table id="alerts"><thead><tr><th>Severity</th><th>Alert</th><th>Hosts</th><th>Raised</th><th>Status</th><th>Delivery</th><th></th></tr></thead><tbody>
{{range .Alerts}}<tr class="alert" data-alert="{{.ID}}"><td><span class="badge sev-{{.Severity}}">{{.Severity}}</span></td>
<td><strong>{{.Title}}</strong><br><span class="muted">{{.Kind}}</span> {{.Detail}}</td>
<td>{{range .Hosts}}<a href="/hosts/{{.}}">{{.}}</a> {{end}}</td><td>{{ts .CreatedAt}}</td>
<td>{{.Status}}{{if .AckedBy}} by {{.AckedBy}}{{end}}{{if .ClosedBy}}, closed by {{.ClosedBy}}{{end}}</td><td>{{.Delivery}}{{if .LastError}}<br><span class="muted">{{.LastError}}</span>{{end}}</td>
<td>{{if eq .Status "open"}}<form class="inline" method="post" action="/alerts/{{.ID}}/ack"><input type="hidden" name="csrf" value="{{$.P.CSRF}}"><input type="hidden" name="next" value="/alerts"><button type="submit" class="ack">Acknowledge</button></form>{{end}}
{{if ne .Status "closed"}}<form class="inline" method="post" action="/alerts/{{.ID}}/close"><input type="hidden" name="csrf" value="{{$.P.CSRF}}"><input type="hidden" name="next" value="/alerts"><button type="submit" class="close">Close</button></form>{{end}}</td></tr>
{{else}}<tr><td colspan="7" class="muted">No alerts.</td></tr>{{end}}
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
