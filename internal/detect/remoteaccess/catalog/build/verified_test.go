package build

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
)

const sum = "460acbb38b0bdb3d227de65010b1a323f448ec196860ce4979c0b8314763eb56"

func assembleOne(t *testing.T, ct curatedTool) (*catalog.Catalog, error) {
	t.Helper()
	c, _, err := assemble(nil, &curatedFile{Date: "2026-01-01", Tools: []curatedTool{ct}}, strings.Repeat("a", 40))
	return c, err
}

func TestVerifiedProvenance(t *testing.T) {
	ct := curatedTool{
		ID: "agent", Name: "Agent", Processes: map[string][]string{"linux": {"agent-x"}},
		Products: []string{"Agent Product"}, Signers: []string{"Agent Corp"},
		Markers: []string{"AGENT_MARKER_1", "AGENT_MARKER_2"}, GoModules: []string{"example.com/agent"},
		Verified: []curatedVerified{
			{Kind: "marker", Value: "AGENT_MARKER_1", From: "npm agent@1.0.0", File: "bin/agent", SHA256: sum},
			{Kind: "product", Value: "agent product", From: "npm agent@1.0.0", File: "bin/agent.exe", SHA256: strings.ToUpper(sum)},
			{Kind: "absent", Value: "signer", From: "npm agent@1.0.0", File: "bin/agent.exe", SHA256: sum},
		},
	}
	c, err := assembleOne(t, ct)
	if err != nil {
		t.Fatal(err)
	}
	tl := c.Tools[0]
	want := []string{"go_module:example.com/agent", "marker:" + hex.EncodeToString([]byte("AGENT_MARKER_2")), "signer:Agent Corp"}
	if strings.Join(tl.FromWriteups, "|") != strings.Join(want, "|") {
		t.Errorf("from_writeups %q, want %q", tl.FromWriteups, want)
	}
	if len(tl.Verified) != 3 || tl.Verified[1].SHA256 != sum {
		t.Errorf("verified %+v", tl.Verified)
	}
	out, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	// Markers never appear in plain text (the agent embeds catalog.json).
	if bytes.Contains(out, []byte("AGENT_MARKER")) {
		t.Errorf("a marker is in plain text in the encoded catalog:\n%s", out)
	}
	back, err := catalog.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if back.Tools[0].Verified[0].Kind != "absent" || back.Tools[0].Verified[1].Value != "AGENT_MARKER_1" {
		t.Errorf("round trip: %+v", back.Tools[0].Verified)
	}
}

func TestVerifiedRejects(t *testing.T) {
	base := func() curatedTool {
		return curatedTool{ID: "agent", Name: "Agent", Processes: map[string][]string{"linux": {"agent-x"}}, Products: []string{"P"}}
	}
	bad := map[string]curatedVerified{
		"fact the tool does not use": {Kind: "product", Value: "Other", From: "npm a@1", File: "f", SHA256: sum},
		"unknown kind":               {Kind: "vibes", Value: "P", From: "npm a@1", File: "f", SHA256: sum},
		"no sha256":                  {Kind: "product", Value: "P", From: "npm a@1", File: "f"},
		"short sha256":               {Kind: "product", Value: "P", From: "npm a@1", File: "f", SHA256: "abc"},
		"no file":                    {Kind: "product", Value: "P", From: "npm a@1", SHA256: sum},
		"no from":                    {Kind: "product", Value: "P", File: "f", SHA256: sum},
		"no value":                   {Kind: "product", From: "npm a@1", File: "f", SHA256: sum},
	}
	for why, v := range bad {
		ct := base()
		ct.Verified = []curatedVerified{v}
		if _, err := assembleOne(t, ct); err == nil {
			t.Errorf("%s: accepted %+v", why, v)
		}
	}
	for _, m := range []string{"not a path", "Example.com/x", "example", ""} {
		ct := base()
		ct.GoModules = []string{m}
		if _, err := assembleOne(t, ct); err == nil {
			t.Errorf("go module %q accepted", m)
		}
	}
	ct := base()
	ct.Scripts = []string{"(unclosed"}
	if _, err := assembleOne(t, ct); err == nil {
		t.Error("a script pattern that does not compile was accepted")
	}
}
