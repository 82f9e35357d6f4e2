package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Format names an output rendering.
type Format string

// Output formats.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	// FormatOCSF is OCSF Detection Finding JSON Lines, rendered by
	// internal/report/ocsf (callers dispatch on it; Write refuses it).
	FormatOCSF Format = "ocsf"
)

// ParseFormat accepts "table", "json" or "ocsf".
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case FormatTable, FormatJSON, FormatOCSF:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown format %q (want table, json or ocsf)", s)
}

// Write renders findings in the given format. Findings are sorted first.
func Write(w io.Writer, format Format, fs []Finding) error {
	Sort(fs)
	if format == FormatOCSF {
		return fmt.Errorf("format ocsf is rendered by package ocsf, not report.Write")
	}
	if format == FormatJSON {
		return WriteJSONLines(w, fs)
	}
	return WriteTable(w, fs)
}

// WriteJSONLines writes one JSON object per line.
func WriteJSONLines(w io.Writer, fs []Finding) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range fs {
		if err := enc.Encode(&fs[i]); err != nil {
			return fmt.Errorf("write finding %s: %w", fs[i].ID, err)
		}
	}
	return nil
}

// WriteTable writes an aligned table, most severe first, for people.
func WriteTable(w io.Writer, fs []Finding) error {
	if len(fs) == 0 {
		_, err := fmt.Fprintln(w, "no findings")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tCONF\tCATEGORY\tTOOL\tRULE\tSUMMARY")
	for _, f := range fs {
		sev := f.Severity.String()
		if f.Allowed {
			sev += " (allowed)"
		}
		tool := f.Tool
		if tool == "" {
			tool = "-"
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s\t%s\t%s\n", sev, f.Confidence, f.Category, tool, f.Rule, oneLine(f.Summary))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// oneLine keeps hostile strings (process names, USB strings) from breaking
// the table layout or the terminal.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
