package region

import "testing"

func TestCheck(t *testing.T) {
	us, ok := ForCountry("us")
	if !ok || us.Country != "US" {
		t.Fatalf("ForCountry(us) = %+v, %v", us, ok)
	}
	got := us.Check(Facts{TimeZone: "Asia/Pyongyang", Locales: []string{"en_US.UTF-8", "ko_KP.UTF-8", "C"},
		Inputs: []Input{{Name: "xkb:us", Lang: "en"}, {Name: "hangul", Lang: "ko", IME: true}, {Name: "hangul", Lang: "ko", IME: true}}})
	want := []Mismatch{{KindTimeZone, "Asia/Pyongyang", ""}, {KindLocale, "ko_KP.UTF-8", "ko"}, {KindIME, "hangul", "ko"}}
	if len(got) != len(want) {
		t.Fatalf("Check = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Check = %+v, want %+v", got, want)
		}
	}
	if m := us.Check(Facts{TimeZone: "America/Chicago", Locales: []string{"es_US.UTF-8"}}); len(m) != 0 {
		t.Fatalf("a US host disagrees: %+v", m)
	}
	if m := (Region{}).Check(Facts{TimeZone: "Asia/Pyongyang"}); len(m) != 0 {
		t.Fatalf("no expectation, yet %+v", m)
	}
	if _, ok := ForCountry("ZZ"); ok {
		t.Fatal("ZZ is a country")
	}
	if s := us.String(); s != "US (America/*, US/*, …; en, es)" {
		t.Fatalf("String = %q", s)
	}
}
