// Command gen regenerates the embedded remote-access catalog:
//
//	go run ./internal/detect/remoteaccess/catalog/gen -shared ../shared \
//	    -out internal/detect/remoteaccess/catalog/catalog.json
//
// It reads the LOLRMM YAML files under <shared>/data/rmm/lolrmm and the
// curated overlay, and writes catalog.json (see package build).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog/build"
)

func main() {
	shared := flag.String("shared", "../shared", "path to the shared/ folder (LOLRMM data under data/rmm)")
	curated := flag.String("curated", "internal/detect/remoteaccess/catalog/curated.yaml", "curated overlay")
	out := flag.String("out", "internal/detect/remoteaccess/catalog/catalog.json", "output file")
	verbose := flag.Bool("v", false, "list dropped LOLRMM tools")
	flag.Parse()

	c, data, st, err := build.BuildStats(*shared, *curated)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Printf("gen: %s: %d tools (version %s) from %d LOLRMM files: %d merged as duplicates, %d fixes applied, %d dropped without identifying facts\n",
		*out, len(c.Tools), c.Version, st.LOLRMMFiles, st.Merged, st.FixesApplied, len(st.Dropped))
	if *verbose {
		for _, d := range st.Dropped {
			fmt.Println("  dropped:", d)
		}
	}
}
