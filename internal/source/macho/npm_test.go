package macho

import (
	"bytes"
	"compress/gzip"
	"debug/macho"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// npmFixtures are Mach-O files from real npm packages (testdata/npm-fixtures.md
// says which, who published them and how they were trimmed; every byte of the
// code signatures is as published).
var npmFixtures = []struct {
	file       string
	fat        bool
	identifier string
	teamID     string
	flags      uint32
	version    uint32
	signerName string
	signerOrg  string
	// slices of a universal binary: the identifier of each signed slice
	// ("" = that slice is not signed).
	slices map[macho.Cpu]string
}{
	// Xcode-built node addon, universal, ad hoc (linker-signed).
	{"npm-fsevents.node.gz", true, "", "", FlagAdHoc | FlagLinkerSigned, 0x20400, "", "",
		// Only the arm64 slice is signed (arm64 requires it; x86_64 does not).
		map[macho.Cpu]string{macho.CpuAmd64: "", macho.CpuArm64: "fsevents.node"}},
	// Rust napi-rs addon, thin arm64, linker-signed ad hoc.
	{"npm-rollup-darwin-arm64.node.gz", false, "libbindings_napi.dylib", "", FlagAdHoc | FlagLinkerSigned, 0x20400, "", "", nil},
	// Go program: Go's linker signs darwin/arm64 ad hoc as "a.out".
	{"npm-esbuild-darwin-arm64.gz", false, "a.out", "", FlagAdHoc | FlagLinkerSigned, 0x20400, "", "", nil},
	// Developer ID signed and notarised universal binary, hardened runtime.
	// Sentry (npm scope @sentry, repository getsentry/sentry-cli) signs as
	// GetSentry LLC, team 97JCY7859U.
	{"npm-sentry-cli-darwin.gz", true, "", "97JCY7859U", flagRuntime, 0x20500,
		"Developer ID Application: GetSentry LLC (97JCY7859U)", "GetSentry LLC",
		// The two slices were signed with different identifiers.
		map[macho.Cpu]string{macho.CpuAmd64: "sentry-cli-Darwin-universal", macho.CpuArm64: "sentry_cli-ed605fe0983d3ac0"}},
}

const flagRuntime = 0x10000 // CS_RUNTIME (hardened runtime)

func gunzipFixture(t *testing.T, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNPMMachO(t *testing.T) {
	for _, fx := range npmFixtures {
		t.Run(fx.file, func(t *testing.T) {
			data := gunzipFixture(t, fx.file)
			check := func(where, identifier string, s *Signature, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				if s.Identifier != identifier || s.TeamID != fx.teamID || s.Flags != fx.flags || s.Version != fx.version ||
					s.SignerName != fx.signerName || s.SignerOrg != fx.signerOrg || s.CMSError != "" {
					t.Errorf("%s: got %+v", where, *s)
				}
				if s.AdHoc() != (fx.teamID == "") {
					t.Errorf("%s: AdHoc() = %v with team %q", where, s.AdHoc(), fx.teamID)
				}
			}
			// Through the file path, as the live source reads it.
			path := filepath.Join(t.TempDir(), "bin")
			if err := os.WriteFile(path, data, 0o755); err != nil {
				t.Fatal(err)
			}
			s, err := ParseFile(path)
			want := fx.identifier
			if fx.fat {
				// Parse prefers this machine's slice, then the others.
				want = fx.slices[hostCPU()]
				if want == "" {
					want = fx.slices[macho.CpuArm64]
				}
			}
			check("ParseFile", want, s, err)
			// Every slice of a universal binary carries the same identity.
			ff, err := macho.NewFatFile(bytes.NewReader(data))
			if fx.fat != (err == nil) {
				t.Fatalf("universal: %v (%v)", err == nil, err)
			}
			if ff != nil {
				if len(ff.Arches) != 2 {
					t.Errorf("%d slices", len(ff.Arches))
				}
				for _, a := range ff.Arches {
					id, ok := fx.slices[a.Cpu]
					if !ok {
						t.Errorf("unexpected %v slice", a.Cpu)
						continue
					}
					s, err := Parse(io.NewSectionReader(bytes.NewReader(data), int64(a.Offset), int64(a.Size)))
					if id == "" {
						if !errors.Is(err, ErrNotSigned) {
							t.Errorf("%v slice: %v, want ErrNotSigned", a.Cpu, err)
						}
						continue
					}
					check(a.Cpu.String()+" slice", id, s, err)
				}
			}
		})
	}
}
