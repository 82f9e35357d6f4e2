package main

import (
	"io"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/ocsf"
	"github.com/farmwatch/farmwatch/internal/version"
)

// writeFindings renders findings for scan and pcap in the chosen format.
func writeFindings(w io.Writer, f report.Format, fs []report.Finding) error {
	if f == report.FormatOCSF {
		report.Sort(fs)
		return ocsf.WriteLines(w, fs, version.Version)
	}
	return report.Write(w, f, fs)
}
