package hostcontext

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

const fixtures = "../../../testdata/context"

var usRegion = Region{Country: "US", TimeZones: []string{"America/*"}, Languages: []string{"en"}}

func scan(t *testing.T, name string, s Settings) []report.Finding {
	t.Helper()
	src, err := source.OpenSnapshot(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := New(s)
	hi := src.Host()
	fs, err := d.Detect(context.Background(), detect.Env{Source: src, Host: report.Host{Name: hi.Hostname, ID: hi.HostID}, Logger: zap.NewNop(), Now: time.Now()})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for i := range fs {
		fs[i].Detector = Name
		if err := fs[i].Validate(); err != nil {
			t.Errorf("%s: invalid finding: %v", name, err)
		}
	}
	return fs
}

func dump(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s %s %s\n", f.Severity, f.Rule, f.Tool, f.Summary)
	}
	return b.String()
}

type want struct {
	rule, tool string
	sev        report.Severity
	summary    string // substring
}

func TestFixtures(t *testing.T) {
	cases := []struct {
		name  string
		wants []want
	}{
		{"windows-korean-ime", []want{
			{"context.session.remote_active", "rdp", report.SeverityMedium, "RDP session 2 (RDP-Tcp#3) for jsmith from 203.0.113.77"},
			{"context.activity.foreign_hours", "", report.SeverityLow, "UTC+9"},
			{"context.input.foreign_ime", "", report.SeverityLow, "Microsoft Korean IME"},
			{"context.input.foreign_layout", "", report.SeverityLow, "klid:00000412"},
			{"context.locale.unexpected", "", report.SeverityLow, "ko"},
			{"context.timezone.unexpected", "", report.SeverityLow, "Asia/Seoul"},
		}},
		{"macos-korean-ime", []want{
			{"context.session.remote_active", "screen-sharing", report.SeverityMedium, "198.51.100.9:51234"},
			{"context.activity.foreign_hours", "", report.SeverityLow, "Asia/Seoul"},
			{"context.input.foreign_ime", "", report.SeverityLow, "com.apple.inputmethod.Korean.2SetKorean"},
			{"context.locale.unexpected", "", report.SeverityLow, "ko-KR"},
			{"context.timezone.unexpected", "", report.SeverityLow, "Asia/Seoul"},
		}},
		{"linux-ibus-hangul", []want{
			{"context.session.remote_active", "vnc", report.SeverityMedium, "x11vnc"},
			{"context.activity.foreign_hours", "", report.SeverityLow, "UTC+9"},
			{"context.input.foreign_ime", "", report.SeverityLow, "hangul"},
			{"context.input.foreign_layout", "", report.SeverityLow, "xkb:kr"},
			{"context.locale.unexpected", "", report.SeverityLow, "ko_KR.UTF-8"},
			{"context.session.remote_login", "login", report.SeverityLow, "198.51.100.23"},
			{"context.timezone.unexpected", "", report.SeverityLow, "Asia/Seoul"},
		}},
		{"windows-clean", nil},
		{"macos-clean", nil},
		{"linux-clean", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := *DefaultSettings()
			s.ExpectedRegion = usRegion
			fs := scan(t, c.name, s)
			if len(fs) != len(c.wants) {
				t.Fatalf("got %d findings, want %d:\n%s", len(fs), len(c.wants), dump(fs))
			}
			got := append([]report.Finding(nil), fs...)
			for _, w := range c.wants {
				found := -1
				for i, f := range got {
					if f.Rule == w.rule && f.Tool == w.tool && f.Severity == w.sev && strings.Contains(f.Summary, w.summary) {
						found = i
						break
					}
				}
				if found < 0 {
					t.Errorf("missing %s %s %s %q in:\n%s", w.sev, w.rule, w.tool, w.summary, dump(fs))
					continue
				}
				got = append(got[:found], got[found+1:]...)
			}
			for _, f := range fs {
				if f.Rule == "context.session.remote_active" && f.Category != report.CategoryRemoteAccess {
					t.Errorf("%s: category %s", f.Rule, f.Category)
				}
			}
		})
	}
}

// Without an expected region only facts at info (and remote sessions).
func TestNoRegionInfoOnly(t *testing.T) {
	for _, name := range []string{"windows-korean-ime", "macos-korean-ime", "linux-ibus-hangul", "windows-clean", "macos-clean", "linux-clean"} {
		fs := scan(t, name, *DefaultSettings())
		var facts int
		for _, f := range fs {
			switch {
			case f.Rule == "context.region.facts":
				facts++
				if f.Severity != report.SeverityInfo {
					t.Errorf("%s: facts at %s", name, f.Severity)
				}
			case strings.HasPrefix(f.Rule, "context.session."):
			default:
				t.Errorf("%s: unexpected %s without a region:\n%s", name, f.Rule, dump(fs))
			}
		}
		if facts != 1 {
			t.Errorf("%s: %d facts findings:\n%s", name, facts, dump(fs))
		}
	}
}

// Clean fixtures have nothing at medium or above, with or without region.
func TestCleanNothingMedium(t *testing.T) {
	for _, name := range []string{"windows-clean", "macos-clean", "linux-clean"} {
		for _, r := range []Region{{}, usRegion} {
			s := *DefaultSettings()
			s.ExpectedRegion = r
			for _, f := range scan(t, name, s) {
				if f.Severity >= report.SeverityMedium {
					t.Errorf("%s: %s at %s", name, f.Rule, f.Severity)
				}
			}
		}
	}
}

func histOf(hours map[int]int) *Histogram {
	h := &Histogram{}
	for k, v := range hours {
		h.Hours[k] = v
	}
	return h
}

func span(from, to, n int) map[int]int {
	m := map[int]int{}
	for h := from; h != to; h = (h + 1) % 24 {
		m[h] = n
	}
	return m
}

func TestForeignHours(t *testing.T) {
	us := expectedOffsets(usRegion)
	cases := []struct {
		name     string
		hist     *Histogram
		expected []float64
		min      int
		want     bool
		offset   float64
	}{
		{"korea business hours", histOf(span(0, 9, 6)), us, 40, true, 9},
		{"china business hours", histOf(span(1, 10, 6)), us, 40, true, 8},
		{"moscow business hours", histOf(span(6, 15, 6)), us, 40, true, 3},
		{"us eastern business hours", histOf(span(14, 23, 6)), us, 40, false, 0},
		{"us pacific business hours", histOf(span(17, 2, 6)), us, 40, false, 0},
		{"too few samples", histOf(span(0, 9, 2)), us, 40, false, 0},
		{"round the clock", histOf(span(0, 0, 3)), us, 40, false, 0},
		{"no expected zones", histOf(span(0, 9, 6)), nil, 40, false, 0},
		{"empty", &Histogram{}, us, 0, false, 0},
		{"nil", nil, us, 0, false, 0},
	}
	for _, c := range cases {
		m, ok := ForeignHours(c.hist, c.expected, c.min)
		if ok != c.want {
			t.Errorf("%s: ok=%v want %v (%+v)", c.name, ok, c.want, m)
			continue
		}
		if ok && m.Best.Offset != c.offset {
			t.Errorf("%s: best offset %v want %v (%+v)", c.name, m.Best.Offset, c.offset, m)
		}
	}
}

func TestExpectedOffsets(t *testing.T) {
	got := expectedOffsets(usRegion)
	sort.Float64s(got)
	want := []float64{-9, -8, -7, -6, -5, -4, -3}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v want %v", got, want)
	}
}

func TestHistogramAddAndState(t *testing.T) {
	dir := t.TempDir()
	s := *DefaultSettings()
	s.StateDir = dir
	h := &Histogram{}
	t0 := time.Date(2026, 11, 20, 1, 10, 0, 0, time.UTC)
	if !h.Add(t0, true) || h.Add(t0.Add(20*time.Minute), true) {
		t.Fatal("one sample per clock hour")
	}
	if !h.Add(t0.Add(time.Hour), false) || h.Total() != 1 || h.Samples != 2 || h.Hours[1] != 1 {
		t.Fatalf("%+v", h)
	}
	p := filepath.Join(dir, FileActivity)
	if err := saveHistogram(p, h); err != nil {
		t.Fatal(err)
	}
	back, err := loadHistogram(p)
	if err != nil || back.Hours != h.Hours || back.LastSlot != h.LastSlot {
		t.Fatalf("%+v %v", back, err)
	}
	if h2, err := loadHistogram(filepath.Join(dir, "missing.json")); h2 != nil || err != nil {
		t.Fatal("missing state is not an error")
	}
}

func TestWindowsFacts(t *testing.T) {
	wc := &WindowsContext{TimeZoneKeyName: "China Standard Time", Users: []WindowsUser{{
		SID: "S-1-5-21-1-2-3-1001", Preload: []string{"00000409", "00000804"}, Languages: []string{"en-US", "zh-Hans-CN"},
		InputMethodTips: []string{"0804:{81D4E9C9-1D3B-41BC-9E6C-4B40BF79E35E}{FA550B04-5AD7-411F-A5AC-CA038EC515D7}", "0409:00000409", "bogus"},
	}}}
	f := wc.Facts()
	if f.TimeZone != "Asia/Shanghai" {
		t.Errorf("tz %q", f.TimeZone)
	}
	// Zones the hand-written table of 28 lacked come from the CLDR table.
	if g := (&WindowsContext{TimeZoneKeyName: "Greenwich Standard Time"}).Facts(); g.TimeZone != "Atlantic/Reykjavik" || g.TimeZoneRaw != "Greenwich Standard Time" {
		t.Errorf("Greenwich Standard Time: %q / %q", g.TimeZone, g.TimeZoneRaw)
	}
	var got []string
	for _, in := range f.Inputs {
		got = append(got, fmt.Sprintf("%s/%s/%v", in.Name, in.Lang, in.IME))
	}
	want := "[klid:00000409/en/false klid:00000804/zh/false Microsoft Pinyin/zh/true klid:00000409/en/false]"
	if fmt.Sprint(got) != want {
		t.Errorf("inputs %v\nwant %s", got, want)
	}
	if fmt.Sprint(f.Locales) != "[en-US zh-Hans-CN]" {
		t.Errorf("locales %v", f.Locales)
	}
}

func TestLangHelpers(t *testing.T) {
	for in, want := range map[string]string{"en_US.UTF-8": "en", "ko-KR": "ko", "C.UTF-8": "", "POSIX": "", "zh-Hans-CN": "zh", "": "", "ja": "ja"} {
		if got := localeLang(in); got != want {
			t.Errorf("localeLang(%q)=%q want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"00000412": "ko", "0412": "ko", "e0010412": "ko", "00000409": "en", "0804": "zh", "zz": "", "0411": "ja"} {
		if got := langIDLang(in); got != want {
			t.Errorf("langIDLang(%q)=%q want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"com.apple.inputmethod.Korean.2SetKorean": "ko", "com.apple.inputmethod.SCIM.ITABC": "zh", "com.apple.inputmethod.Kotoeri.RomajiTyping.Japanese": "ja", "ABC": "en", "U.S.": "en", "Russian - Phonetic": "ru"} {
		if got := macInputLang(in); got != want {
			t.Errorf("macInputLang(%q)=%q want %q", in, got, want)
		}
	}
	for _, c := range []struct{ file, lang string }{{"hangul.xml", "ko"}, {"libpinyin.xml", "zh"}, {"mozc.xml", "ja"}, {"anthy.xml", "ja"}, {"fcitx-hangul.conf", "ko"}, {"unikey.conf", "vi"}} {
		in, ok := imeFromFile(c.file, "")
		if !ok || in.Lang != c.lang || !in.IME {
			t.Errorf("imeFromFile(%q) = %+v %v", c.file, in, ok)
		}
	}
	if _, ok := imeFromFile("simple.xml", ""); ok {
		t.Error("simple.xml is not an IME")
	}
}

func TestUtmp(t *testing.T) {
	b, err := readSmall(filepath.Join(fixtures, "linux-ibus-hangul/var/run/utmp"))
	if err != nil {
		t.Fatal(err)
	}
	ss := utmpSessions(b)
	if len(ss) != 2 || ss[0].User != "jsmith" || ss[0].Line != "pts/0" || ss[0].Host != "198.51.100.23" || ss[1].Host != ":0" {
		t.Fatalf("%+v", ss)
	}
	if es := parseUtmp(b[:500]); len(es) != 1 || es[0].User != "reboot" {
		t.Fatalf("partial: %+v", es)
	}
}

func TestIoregIdle(t *testing.T) {
	x := `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><array><dict><key>IOClass</key><string>IOHIDSystem</string><key>HIDIdleTime</key><integer>5000000000</integer></dict></array></plist>`
	d, ok := parseIoregIdle([]byte(x))
	if !ok || d != 5*time.Second {
		t.Fatalf("%v %v", d, ok)
	}
	if _, ok := parseIoregIdle([]byte("<plist><array/></plist>")); ok {
		t.Fatal("no idle")
	}
}

func TestKeyValues(t *testing.T) {
	kv := parseKeyValues([]byte("# c\nexport LANG=\"en_US.UTF-8\"\nLANGUAGE=en_US:ko\nLC_ALL='C'\nbroken\n=x\n"))
	if kv["LANG"] != "en_US.UTF-8" || kv["LC_ALL"] != "C" || len(kv) != 3 {
		t.Fatalf("%v", kv)
	}
	if got := localesFromEnv(kv); fmt.Sprint(got) != "[en_US.UTF-8 en_US ko]" {
		t.Fatalf("%v", got)
	}
}

func TestZoneFromPath(t *testing.T) {
	if z := zoneFromPath("/usr/share/zoneinfo/Asia/Seoul"); z != "Asia/Seoul" {
		t.Fatal(z)
	}
	if z := zoneFromPath("/etc/foo"); z != "" {
		t.Fatal(z)
	}
}
