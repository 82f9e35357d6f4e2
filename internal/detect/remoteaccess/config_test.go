package remoteaccess

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
)

const sampleMsh = "\xef\xbb\xbfMeshName=farm\r\nMeshType=2\r\nMeshID=0xABCDEF\r\n# comment\r\nServerID=1234ABCD\r\nMeshServer=wss://relay.example.net:4443/agent.ashx\r\nMeshServer=wss://second.example/agent.ashx\r\nnoequals\r\n"

func TestParseKeyValues(t *testing.T) {
	got := parseKeyValues([]byte(sampleMsh))
	want := map[string]string{"meshname": "farm", "meshtype": "2", "meshid": "0xABCDEF", "serverid": "1234ABCD", "meshserver": "wss://relay.example.net:4443/agent.ashx"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if len(parseKeyValues(nil)) != 0 || len(parseKeyValues([]byte("=x\n\n"))) != 0 {
		t.Fatal("empty input or empty keys gave values")
	}
}

func FuzzParseKeyValues(f *testing.F) {
	f.Add([]byte(sampleMsh))
	f.Add([]byte("a=b=c\n=\n\xef\xbb\xbf"))
	f.Add([]byte(strings.Repeat("k", 70000) + "=v\nx=y"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for k, v := range parseKeyValues(in) {
			if k == "" || k != strings.ToLower(k) || len(v) > 512 {
				t.Fatalf("bad pair %q=%q", k, v)
			}
		}
	})
}

// liveDirSource is a live (non-snapshot) source rooted at "/".
type liveDirSource struct{ fakeSource }

func (liveDirSource) Snapshot() bool { return false }
func (liveDirSource) Root() string   { return "/" }

func TestConfigEvidenceMeshAgent(t *testing.T) {
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	var mesh *catalog.Tool
	for i := range c.Tools {
		if c.Tools[i].ID == "meshcentral" {
			mesh = &c.Tools[i]
		}
	}
	if mesh == nil || len(mesh.ConfigFiles) == 0 {
		t.Fatal("catalog meshcentral has no config file")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "updater")
	if err := os.WriteFile(filepath.Join(dir, "updater.msh"), []byte(sampleMsh), 0o600); err != nil {
		t.Fatal(err)
	}
	ev := configEvidence(liveDirSource{}, mesh, exe)
	if ev["relay"] != "relay.example.net:4443" || ev["remote_id"] != "0xABCDEF" || ev["config_file"] != filepath.Join(dir, "updater.msh") {
		t.Fatalf("evidence %v", ev)
	}
	// Windows names: MeshAgent.exe keeps MeshAgent.msh.
	if err := os.WriteFile(filepath.Join(dir, "MeshAgent.msh"), []byte("MeshServer=wss://w.example/agent.ashx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ev := configEvidence(liveDirSource{}, mesh, filepath.Join(dir, "MeshAgent.exe")); ev["relay"] != "w.example" {
		t.Fatalf("windows evidence %v", ev)
	}
	if ev := configEvidence(fakeSource{}, mesh, exe); ev != nil {
		t.Fatalf("a snapshot source read files: %v", ev)
	}
	if ev := configEvidence(liveDirSource{}, mesh, filepath.Join(dir, "other")); ev != nil {
		t.Fatalf("no config beside the exe, got %v", ev)
	}
}
