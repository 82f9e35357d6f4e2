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
)

// ParseFormat accepts "table" or "json".
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case FormatTable, FormatJSON:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown format %q (want table or json)", s)
}

// Write renders findings in the given format. Findings are sorted first.
func Write(w io.Writer, format Format, fs []Finding) error {
	Sort(fs)
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
