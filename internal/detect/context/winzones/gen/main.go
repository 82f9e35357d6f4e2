// Command gen regenerates zones_gen.go of package winzones from the CLDR
// files (run by go generate in internal/detect/context/winzones):
//
//	go run ./gen -cldr cldr -out zones_gen.go
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/farmwatch/farmwatch/internal/detect/context/winzones"
)

func main() {
	dir := flag.String("cldr", "cldr", "folder holding windowsZones.json and timezone.json")
	out := flag.String("out", "zones_gen.go", "output file")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	wz, err := os.ReadFile(filepath.Join(dir, "windowsZones.json"))
	if err != nil {
		return err
	}
	tz, err := os.ReadFile(filepath.Join(dir, "timezone.json"))
	if err != nil {
		return err
	}
	src, err := winzones.Generate(winzones.Source{WindowsZones: wz, Timezone: tz})
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, src, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Printf("gen: %s written\n", out)
	return nil
}
