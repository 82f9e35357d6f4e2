package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/region"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testMapping = Mapping{Locations: map[string]region.Region{"NYC HQ": {Country: "US"}, "Seoul Office": {Country: "KR"}}}

func TestParseExports(t *testing.T) {
	for _, tc := range []struct {
		file, format string
		n            int
		first        Record
	}{
		{"intune-devices.csv", FormatIntune, 3, Record{DeviceName: "LAP-0001", Serial: "PF3ABC01", User: "ada@example.com", UserName: "Ada Lovelace", Country: "US"}},
		{"intune-graph.json", FormatIntune, 2, Record{DeviceName: "LAP-0001", Serial: "PF3ABC01", User: "ada@example.com", UserName: "Ada Lovelace", Country: "US"}},
		{"jamf-computers.csv", FormatJamf, 2, Record{DeviceName: "mac-ada", Serial: "C02ADA001", User: "ada@example.com", UserName: "Ada Lovelace", Location: "NYC HQ"}},
		{"jamf-inventory.json", FormatJamf, 2, Record{DeviceName: "mac-ada", Serial: "C02ADA001", User: "ada@example.com", UserName: "Ada Lovelace", Location: "NYC HQ"}},
		{"kandji-devices.json", FormatKandji, 2, Record{DeviceName: "ada-mbp", Serial: "FVFXK001", User: "ada@example.com", UserName: "Ada Lovelace", Country: "US"}},
		{"kandji-devices.csv", FormatKandji, 1, Record{DeviceName: "ada-mbp", Serial: "FVFXK001", User: "ada@example.com", UserName: "Ada Lovelace", Country: "US"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			imp, err := Parse(read(t, tc.file), testMapping)
			if err != nil {
				t.Fatal(err)
			}
			if imp.Format != tc.format || len(imp.Records) != tc.n {
				t.Fatalf("format %s, %d rows; want %s, %d", imp.Format, len(imp.Records), tc.format, tc.n)
			}
			got := imp.Records[0]
			if got.DeviceName != tc.first.DeviceName || got.Serial != tc.first.Serial || got.User != tc.first.User ||
				got.UserName != tc.first.UserName || got.Country != tc.first.Country || got.Location != tc.first.Location {
				t.Fatalf("first row = %+v\nwant %+v", got, tc.first)
			}
			if got.Region.Country != "US" || !got.Region.TimeZoneOK("America/Chicago") || got.Region.TimeZoneOK("Asia/Pyongyang") || got.Region.LanguageOK("ko") {
				t.Fatalf("first row's region = %+v, want the US", got.Region)
			}
		})
	}
}

func TestRegionColumns(t *testing.T) {
	imp, err := Parse(read(t, "intune-graph.json"), testMapping)
	if err != nil {
		t.Fatal(err)
	}
	// A time zone alone: that zone and its area.
	if r := imp.Records[1].Region; !r.TimeZoneOK("Europe/Berlin") || !r.TimeZoneOK("Europe/Paris") || r.TimeZoneOK("Asia/Seoul") {
		t.Fatalf("time-zone column region = %+v", r)
	}
	imp, err = Parse(read(t, "jamf-computers.csv"), testMapping)
	if err != nil {
		t.Fatal(err)
	}
	if r := imp.Records[1].Region; r.Country != "KR" || !r.TimeZoneOK("Asia/Seoul") {
		t.Fatalf("building → region = %+v", r)
	}
	// No mapped value and no default: nothing expected.
	imp, _ = Parse(read(t, "intune-devices.csv"), testMapping)
	if r := imp.Records[2].Region; r.Set() {
		t.Fatalf("row without a country has region %+v", r)
	}
	imp, _ = Parse(read(t, "intune-devices.csv"), Mapping{Default: region.Region{Country: "US", TimeZones: []string{"America/*"}}})
	if r := imp.Records[2].Region; r.Country != "US" {
		t.Fatalf("default region not applied: %+v", r)
	}
	// Configured column names.
	csv := "Device name,Serial number,Primary user UPN,Office TZ\nLAP-9,S9,x@example.com,Asia/Tokyo\n"
	imp, err = Parse([]byte(csv), Mapping{TimeZoneFields: []string{"Office TZ"}})
	if err != nil || !imp.Records[0].Region.TimeZoneOK("Asia/Tokyo") {
		t.Fatalf("configured time-zone column: %v %+v", err, imp)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "  \n", "empty export"},
		{"no device column", "Foo,Bar\n1,2\n", "line 1: no device column"},
		{"ragged row", "Device name,Serial number\nA,1\nB\n", "line 3: wrong number of fields"},
		{"bad quote", "Device name,Serial number\nA,\"1\n", "line 2"},
		{"duplicate column", "Serial number,Serial Number\n1,2\n", `line 1, field "Serial Number": column appears twice`},
		{"duplicate serial", "Device name,Serial number\nA,S1\nB,s1\n", `line 3, field "serial": serial number "s1" already on line/element 2`},
		{"empty row", "Device name,Serial number,Primary user UPN\n,,x@example.com\n", "line 2: row has no serial number"},
		{"unknown country", "Device name,Country\nA,ZZ\n", `line 2, field "Country": country "ZZ"`},
		{"bad zone", "Device name,Time Zone\nA,Pyongyang\n", `line 2, field "Time Zone": time zone "Pyongyang"`},
		{"control char", "Device name,Serial number\nA,\"S\x01\"\n", `line 2, field "Serial number": control character`},
		{"header only", "Device name,Serial number\n", "no device rows"},
		{"json garbage", "[{\"deviceName\": 1", "json:"},
		{"json trailing", "[] []", "trailing data"},
		{"json scalar element", "[1]", "element 1: want an object"},
		{"json unknown device", `[{"name":"x"}]`, "element 1: not an Intune"},
		{"json non-string", `[{"deviceName":"A","serialNumber":["x"]}]`, `element 1, field "serialNumber": want a string`},
		{"json mixed", `[{"deviceName":"A"},{"device_name":"B"}]`, "element 2: a kandji device among intune devices"},
		{"json wrong holder", `{"value": 3}`, `field "value": want an array`},
		{"json object", `{"x": []}`, `without "value"`},
		{"jamf path through number", `{"results":[{"general":3,"hardware":{"serialNumber":"S"}}]}`, `element 1, field "general": want an object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), Mapping{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	recs := []Record{
		{Line: 2, Serial: "PF3ABC01", DeviceName: "LAP-0001", User: "ada"},
		{Line: 3, Serial: "To be filled by O.E.M.", DeviceName: "lap-0002", User: "grace"},
		{Line: 4, DeviceName: "dup"}, {Line: 5, DeviceName: "DUP"},
		{Line: 6, HostID: "hid-7", User: "alan"},
		{Line: 7, Serial: "GONE01", User: "nobody"},
	}
	hosts := []Host{
		{ID: "h1", Name: "renamed", Serial: "pf3abc01"},
		{ID: "h2", Name: "LAP-0002.corp.example.com", Serial: "To be filled by O.E.M."},
		{ID: "h3", Name: "dup"},
		{ID: "hid-7", Name: "x"},
		{ID: "h9", Name: "stranger", Serial: "XYZ"},
	}
	m := Match(recs, hosts)
	got := map[string]string{}
	for _, x := range m.Matched {
		got[x.Host.ID] = x.By + ":" + x.Record.User
	}
	want := map[string]string{"h1": "serial:ada", "h2": "hostname:grace", "hid-7": "host_id:alan"}
	if len(got) != len(want) {
		t.Fatalf("matched %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("matched %v, want %v", got, want)
		}
	}
	if len(m.UnmatchedRecords) != 3 || len(m.UnmatchedHosts) != 2 {
		t.Fatalf("unmatched rows %+v hosts %+v", m.UnmatchedRecords, m.UnmatchedHosts)
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"intune-devices.csv", "intune-graph.json", "jamf-computers.csv", "jamf-inventory.json", "kandji-devices.json", "kandji-devices.csv"} {
		f.Add(read(f, n))
	}
	f.Add([]byte("Device name,Serial number\nA,\"1\n"))
	f.Add([]byte(`{"results":[{"general":{"name":"a"},"userAndLocation":{"building":"NYC HQ"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		imp, err := Parse(b, testMapping)
		if err != nil {
			return
		}
		for _, r := range imp.Records {
			if r.Serial == "" && r.DeviceName == "" && r.HostID == "" {
				t.Fatalf("row without identity accepted: %+v", r)
			}
		}
		Match(imp.Records, []Host{{ID: "a", Name: "a", Serial: "1"}})
	})
}
