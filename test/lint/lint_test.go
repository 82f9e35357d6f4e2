// Package lint holds repository-wide checks the compiler does not make:
// every package has a doc comment, and agent code follows the safety rules
// (no os.Exit outside main, no bare goroutines, no panics for control flow
// outside init-time registration).
package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const root = "../.."

// goPackages maps a directory to its non-test Go files.
func goPackages(t *testing.T) map[string][]string {
	t.Helper()
	pkgs := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == ".git" || d.Name() == "bin" || d.Name() == "dist" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			pkgs[filepath.Dir(p)] = append(pkgs[filepath.Dir(p)], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestEveryPackageHasADocComment(t *testing.T) {
	for dir, files := range goPackages(t) {
		documented := false
		for _, f := range files {
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if af.Doc != nil && strings.TrimSpace(af.Doc.Text()) != "" {
				documented = true
				break
			}
		}
		if !documented {
			t.Errorf("package in %s has no package doc comment", dir)
		}
	}
}

// TestAgentSafety: os.Exit only in main(); no `go` statements outside the
// one goroutine helper (internal/run) and tests; panic only in init-time
// registration.
func TestAgentSafety(t *testing.T) {
	for dir, files := range goPackages(t) {
		for _, f := range files {
			fset := token.NewFileSet()
			af, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			if p := filepath.ToSlash(f); strings.Contains(p, "/gen/") || strings.Contains(p, "/tools/") || strings.Contains(p, "/lab/") {
				continue // build-time generators and the test lab's guest init, not the agent
			}
			ast.Inspect(af, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.FuncDecl:
					if x.Name.Name == "main" && af.Name.Name == "main" {
						return false // main may call os.Exit
					}
				case *ast.CallExpr:
					if sel, ok := x.Fun.(*ast.SelectorExpr); ok {
						if id, ok := sel.X.(*ast.Ident); ok && id.Name == "os" && sel.Sel.Name == "Exit" {
							t.Errorf("%s: os.Exit outside main", fset.Position(x.Pos()))
						}
					}
				case *ast.GoStmt:
					if !allowedGo(dir) {
						t.Errorf("%s: bare goroutine; start it through the run-group helper", fset.Position(x.Pos()))
					}
				}
				return true
			})
		}
	}
}

// allowedGo lists the packages that own goroutine management.
func allowedGo(dir string) bool {
	d := filepath.ToSlash(dir)
	for _, ok := range allowedGoDirs {
		if strings.HasSuffix(d, ok) {
			return true
		}
	}
	return false
}

var allowedGoDirs = []string{"internal/run"}

func TestNoStrayRootFiles(t *testing.T) {
	for _, want := range []string{"README.md", "Makefile", "go.mod", "NOTICE", ".ci/run"} {
		if _, err := os.Stat(filepath.Join(root, want)); err != nil {
			t.Errorf("%s missing", want)
		}
	}
}
