package correlate

import (
	"reflect"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
)

func TestIndicators(t *testing.T) {
	f := report.Finding{Tool: "rustdesk", Evidence: map[string]any{
		"usb_serial":  " ABC123 ",
		"edid_serial": []any{"MON-9", "0"},
		"peer":        "203.0.113.7:21116",
		"remote_addr": "127.0.0.1:5900",
		"relay":       "[2001:db8::1]:443",
		"remote_id":   float64(123456789),
		"pid":         42,
	}}
	got := Indicators(f)
	want := []Indicator{
		{KindEDIDSerial, "mon-9"},
		{KindPeer, "203.0.113.7"},
		{KindRelay, "2001:db8::1"},
		{KindRemoteID, "rustdesk:123456789"},
		{KindUSBSerial, "abc123"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Indicators = %v\nwant %v", got, want)
	}
	f.Allowed = true
	if Indicators(f) != nil {
		t.Fatal("allowlisted finding yields indicators")
	}
}

func TestDescribe(t *testing.T) {
	if got := Describe(KindRemoteID, "42", "anydesk"); got != "anydesk id 42" {
		t.Fatal(got)
	}
	if got := Describe(KindUSBSerial, "x", ""); got != `USB serial "x"` {
		t.Fatal(got)
	}
}
