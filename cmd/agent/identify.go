package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess"
	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/internal/source/fileid"
)

// identifyResult is one file as `identify` reports it.
type identifyResult struct {
	*fileid.Identity
	Match *remoteaccess.FileMatch `json:"match,omitempty"`
	Error string                  `json:"error,omitempty"`
}

func init() {
	commands["identify"] = command{summary: "what the identity readers and the remote-access catalog make of executable files (PE, Mach-O, ELF) on any OS", run: runIdentify}
}

func runIdentify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("identify", stderr)
	format := fs.String("format", "table", "output format: table or json (one JSON object per line)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: farmwatch-agent identify [--format table|json] FILE...")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usageError{fmt.Errorf("--format %q: want table or json", *format)}
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("identify: name at least one file")}
	}
	det, err := remoteaccess.New(remoteaccess.Settings{ScanBinaries: true, MaxBinaryBytes: 64 << 20})
	if err != nil {
		return fmt.Errorf("load the remote-access catalog: %w", err)
	}
	trust := source.CodeSigningTrust()
	var results []identifyResult
	failed := 0
	for _, path := range fs.Args() {
		if err := ctx.Err(); err != nil {
			return err
		}
		id, err := fileid.Read(path, trust)
		if err != nil {
			failed++
			results = append(results, identifyResult{Identity: &fileid.Identity{Path: path}, Error: err.Error()})
			continue
		}
		hostOS := map[string]string{fileid.FormatPE: "windows", fileid.FormatMachO: "darwin", fileid.FormatMachOUn: "darwin", fileid.FormatELF: "linux"}[id.Format]
		r := identifyResult{Identity: id}
		if hostOS != "" {
			r.Match = det.IdentifyFile(ctx, hostOS, source.Process{
				Exe: path, Signer: id.Signer, Company: id.Company, Product: id.Product,
				OriginalFilename: id.OriginalFilename, BundleID: id.BundleID, TeamID: id.TeamID,
				Signature: string(id.Signature.Status),
			})
		}
		results = append(results, r)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	} else if err := identifyTable(stdout, results); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be read", failed, len(results))
	}
	return nil
}

func identifyTable(w io.Writer, results []identifyResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(tw, "%s\t%s\n", k, v)
			}
		}
		row("file", r.Path)
		if r.Error != "" {
			row("error", r.Error)
			continue
		}
		row("format", r.Format)
		row("size", fmt.Sprint(r.Size))
		row("sha256", r.SHA256)
		if r.Match != nil {
			row("tool", fmt.Sprintf("%s (%s, %s, confidence %.2f)", r.Match.Tool, r.Match.Product, r.Match.Category, r.Match.Confidence))
			row("matched", strings.Join(r.Match.Traits, "; "))
		} else {
			row("tool", "none in the catalog")
		}
		row("signature", r.Signature.String())
		row("signer", r.Signer)
		if r.Signature.Timestamp != nil {
			row("timestamp", r.Signature.Timestamp.Format("2006-01-02T15:04:05Z"))
		}
		row("team_id", r.TeamID)
		row("identifier", r.Identifier)
		row("bundle_id", r.BundleID)
		row("original_filename", r.OriginalFilename)
		row("product", r.Product)
		row("company", r.Company)
		row("file_description", r.FileDescription)
		row("file_version", r.FileVersion)
		row("machine", r.Machine)
		row("build_id", r.BuildID)
		for _, e := range r.Errors {
			row("note", e)
		}
	}
	return tw.Flush()
}
