package cef

import (
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
)

func TestEscapingAndSeverities(t *testing.T) {
	if got := Header(`a|b\c` + "\nd"); got != `a\|b\\c d` {
		t.Errorf("Header = %q", got)
	}
	if got := Value("k=v\\x\n"); got != `k\=v\\x\n` {
		t.Errorf("Value = %q", got)
	}
	for s, want := range map[report.Severity][2]int{
		report.SeverityInfo: {1, 6}, report.SeverityLow: {3, 5}, report.SeverityMedium: {5, 4},
		report.SeverityHigh: {8, 3}, report.SeverityCritical: {10, 2},
	} {
		if Severity(s) != want[0] || SyslogSeverity(s) != want[1] {
			t.Errorf("%s: cef %d syslog %d, want %v", s, Severity(s), SyslogSeverity(s), want)
		}
	}
}
