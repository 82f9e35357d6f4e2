package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector"
	"github.com/farmwatch/farmwatch/internal/collector/inventory"
)

// inventoryImport replaces the stored inventory with an export file and
// prints how it matched the known hosts.
func inventoryImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("farmwatch-collector inventory import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var common commonFlags
	common.register(fs)
	asJSON := fs.Bool("json", false, "print the matching as JSON")
	file, rest := splitName(args)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if file == "" {
		return fmt.Errorf("%w: inventory import FILE", errUsage)
	}
	cfg, err := common.load()
	if err != nil {
		return err
	}
	if err := cfg.Inventory.Mapping.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("inventory import: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(f, inventory.MaxBytes+1))
	f.Close()
	if err != nil {
		return fmt.Errorf("inventory import: read %s: %w", file, err)
	}
	imp, err := inventory.Parse(b, cfg.Inventory.Mapping)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	st, err := collector.OpenStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.ReplaceInventory(ctx, imp, time.Now()); err != nil {
		return err
	}
	m, _, err := st.InventoryMatching(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	fmt.Fprintf(stdout, "imported %s from %s\n", imp.Summary(), file)
	fmt.Fprintf(stdout, "matched %d hosts:\n", len(m.Matched))
	for _, x := range m.Matched {
		fmt.Fprintf(stdout, "  %s (%s)  by %s  → %s, expected %s\n", x.Host.Name, x.Host.ID, x.By, x.Record.Person(), x.Record.Region.String())
	}
	fmt.Fprintf(stdout, "inventory rows matching no host: %d\n", len(m.UnmatchedRecords))
	for _, r := range m.UnmatchedRecords {
		fmt.Fprintf(stdout, "  line %d: %s serial %s → %s\n", r.Line, r.DeviceName, r.Serial, r.Person())
	}
	fmt.Fprintf(stdout, "hosts not in the inventory: %d\n", len(m.UnmatchedHosts))
	for _, h := range m.UnmatchedHosts {
		fmt.Fprintf(stdout, "  %s (%s) serial %s\n", h.Name, h.ID, h.Serial)
	}
	return nil
}
