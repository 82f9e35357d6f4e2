package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/internal/version"
)

func init() {
	commands["collect"] = command{summary: "record this host's raw sources into a snapshot directory", run: runCollect}
}

func runCollect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("collect", stderr)
	out := fs.String("out", "", "snapshot directory to create (required)")
	root := fs.String("root", "", "read live OS trees under this directory instead of /")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *out == "" {
		return usageError{errors.New("--out DIR is required")}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	src, err := source.NewLive(ctx, *root)
	if err != nil {
		return err
	}
	var errs []error
	if err := source.Record(ctx, src, *out, version.Version); err != nil {
		errs = append(errs, err)
	}
	for _, reg := range detect.All() {
		if reg.Collect == nil {
			continue
		}
		if err := reg.Collect(ctx, src, *out); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", reg.Name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("snapshot in %s is incomplete:\n  %s", *out, joinErrors(errs))
	}
	fmt.Fprintf(stdout, "snapshot written to %s\n", *out)
	return nil
}
