package winzones

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
	_ "time/tzdata" // LoadLocation must not depend on the test machine's zoneinfo
)

func readSource(t testing.TB) Source {
	t.Helper()
	wz, err := os.ReadFile(filepath.Join("cldr", "windowsZones.json"))
	if err != nil {
		t.Fatal(err)
	}
	tz, err := os.ReadFile(filepath.Join("cldr", "timezone.json"))
	if err != nil {
		t.Fatal(err)
	}
	return Source{WindowsZones: wz, Timezone: tz}
}

// TestGeneratedUpToDate regenerates zones_gen.go from the checked-in CLDR
// files and compares byte for byte.
func TestGeneratedUpToDate(t *testing.T) {
	want, err := Generate(readSource(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("zones_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("zones_gen.go is stale: run go generate ./internal/detect/context/winzones")
	}
}

// TestEveryWindowsZone: every Windows zone name in the CLDR data maps to
// the canonical IANA name of its territory-001 zone, and Go can load it.
func TestEveryWindowsZone(t *testing.T) {
	src := readSource(t)
	var doc windowsZonesDoc
	if err := json.Unmarshal(src.WindowsZones, &doc); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, e := range doc.Supplemental.WindowsZones.MapTimezones {
		if e.MapZone.Territory == DefaultTerritory {
			names[e.MapZone.Other] = e.MapZone.Type
		} else if _, ok := names[e.MapZone.Other]; !ok {
			names[e.MapZone.Other] = ""
		}
	}
	if len(names) < 130 || Len() != len(names) {
		t.Fatalf("%d Windows zones in CLDR, %d in the table", len(names), Len())
	}
	for name, def := range names {
		got := IANA(name)
		if got == "" {
			t.Errorf("%q: no IANA zone", name)
			continue
		}
		loc, err := time.LoadLocation(got)
		if err != nil {
			t.Errorf("%q → %q: %v", name, got, err)
			continue
		}
		// The canonical name and CLDR's territory-001 id are the same zone.
		orig, err := time.LoadLocation(def)
		if err != nil {
			t.Errorf("%q: CLDR 001 zone %q: %v", name, def, err)
			continue
		}
		at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
		_, o1 := at.In(loc).Zone()
		_, o2 := at.In(orig).Zone()
		if o1 != o2 {
			t.Errorf("%q: %s offset %d, CLDR's %s %d", name, got, o1, def, o2)
		}
	}
}

func TestKnownNames(t *testing.T) {
	for win, iana := range map[string]string{
		"Greenwich Standard Time":  "Atlantic/Reykjavik", // was missing before the generated table
		"GMT Standard Time":        "Europe/London",
		"India Standard Time":      "Asia/Kolkata", // CLDR's id is Asia/Calcutta
		"FLE Standard Time":        "Europe/Kyiv",  // CLDR's id is Europe/Kiev
		"US Eastern Standard Time": "America/Indiana/Indianapolis",
		"UTC":                      "Etc/UTC",
		"Dateline Standard Time":   "Etc/GMT+12",
		"Korea Standard Time":      "Asia/Seoul",
		"Pacific Standard Time":    "America/Los_Angeles",
	} {
		if got := IANA(win); got != iana {
			t.Errorf("IANA(%q) = %q, want %q", win, got, iana)
		}
	}
	for _, bad := range []string{"", "greenwich standard time", "Nowhere Standard Time"} {
		if got := IANA(bad); got != "" {
			t.Errorf("IANA(%q) = %q, want empty", bad, got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	src := readSource(t)
	for name, s := range map[string]Source{
		"bad windowsZones": {WindowsZones: []byte("{"), Timezone: src.Timezone},
		"bad timezone":     {WindowsZones: src.WindowsZones, Timezone: []byte("[")},
		"empty":            {WindowsZones: []byte(`{}`), Timezone: []byte(`{}`)},
		"no 001": {WindowsZones: []byte(`{"supplemental":{"windowsZones":{"mapTimezones":[
			{"mapZone":{"_other":"X Standard Time","_type":"Etc/UTC","_territory":"ZZ"}}]}}}`), Timezone: []byte(`{}`)},
		"two zones in 001": {WindowsZones: []byte(`{"supplemental":{"windowsZones":{"mapTimezones":[
			{"mapZone":{"_other":"X Standard Time","_type":"Etc/UTC Etc/GMT","_territory":"001"}}]}}}`), Timezone: []byte(`{}`)},
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	src := readSource(f)
	f.Add(src.WindowsZones[:2000], src.Timezone[:2000])
	f.Add([]byte(`{"supplemental":{"windowsZones":{"mapTimezones":[{"mapZone":{"_other":"A","_type":"B","_territory":"001"}}]}}}`),
		[]byte(`{"keyword":{"u":{"tz":{"x":{"_alias":"B C","_iana":"C"}}}}}`))
	f.Fuzz(func(t *testing.T, wz, tz []byte) {
		if _, err := Generate(Source{WindowsZones: wz, Timezone: tz}); err != nil {
			return
		}
	})
}
