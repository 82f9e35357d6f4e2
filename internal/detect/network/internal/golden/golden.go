// Package golden defines the -update test flag shared by every test
// package under internal/detect/network, so that
// `go test ./internal/detect/network/... -update` (which passes the flag
// to each package) rewrites the golden files instead of failing on an
// unknown flag in packages that have none.
package golden

import "flag"

// Update is true when the tests should rewrite golden files.
var Update = flag.Bool("update", false, "rewrite golden files (testdata/network/golden)")
