// Package cef holds what the agent's and the collector's SIEM outputs share:
// ArcSight CEF escaping and the mapping of farmwatch severities to CEF
// (0–10) and RFC 5424 syslog severities.
package cef

import (
	"strings"

	"github.com/farmwatch/farmwatch/internal/report"
)

var (
	header = strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\n", " ", "\r", " ")
	value  = strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\n", `\n`, "\r", `\r`)
)

// Header escapes a CEF header field: backslash and pipe; newlines become
// spaces.
func Header(s string) string { return header.Replace(s) }

// Value escapes a CEF extension value: backslash, equals and newlines.
func Value(s string) string { return value.Replace(s) }

// Severity maps a farmwatch severity to CEF's 0..10.
func Severity(s report.Severity) int {
	return [...]int{1, 3, 5, 8, 10}[max(0, min(int(s), 4))]
}

// SyslogSeverity maps a farmwatch severity to RFC 5424 (critical 2 … info 6).
func SyslogSeverity(s report.Severity) int {
	return [...]int{6, 5, 4, 3, 2}[max(0, min(int(s), 4))]
}
