package hostcontext

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/farmwatch/farmwatch/internal/source/hostpath"
)

// Linux files read under the root (and copied into snapshots).
const (
	linuxTimezone      = "etc/timezone"
	linuxLocaltime     = "etc/localtime"
	linuxLocaltimeLink = "etc/localtime.link" // snapshot: the symlink target as text
	linuxDefaultLocale = "etc/default/locale"
	linuxLocaleConf    = "etc/locale.conf"
	linuxKeyboard      = "etc/default/keyboard"
	linuxIbusDir       = "usr/share/ibus/component"
	linuxFcitx5Dir     = "usr/share/fcitx5/addon"
	linuxFcitxDir      = "usr/share/fcitx/addon"
)

var linuxUtmp = []string{"var/run/utmp", "run/utmp"}

const maxFile = 1 << 20

func readSmall(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFile))
}

// parseKeyValues parses shell-style KEY=VALUE files (/etc/default/locale,
// /etc/locale.conf, /etc/default/keyboard).
func parseKeyValues(b []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "export ")
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		if k != "" {
			out[k] = v
		}
	}
	return out
}

// localesFromEnv returns the distinct locale names of LANG/LC_*/LANGUAGE.
func localesFromEnv(kv map[string]string) []string {
	var out []string
	seen := map[string]bool{}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "LANG" && k != "LANGUAGE" && !strings.HasPrefix(k, "LC_") {
			continue
		}
		for _, v := range strings.Split(kv[k], ":") {
			v = strings.TrimSpace(v)
			if v == "" || localeLang(v) == "" || seen[v] {
				continue
			}
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// xkbLang maps XKB layout codes to languages.
var xkbLang = map[string]string{
	"us": "en", "gb": "en", "au": "en", "ca": "en", "kr": "ko", "kp": "ko", "cn": "zh", "tw": "zh",
	"jp": "ja", "ru": "ru", "ua": "uk", "by": "be", "vn": "vi", "de": "de", "fr": "fr", "es": "es",
	"latam": "es", "it": "it", "pt": "pt", "br": "pt", "th": "th", "ir": "fa", "ara": "ar", "in": "hi",
	"pl": "pl", "nl": "nl", "tr": "tr",
}

// parseXkbLayouts returns keyboard layouts of /etc/default/keyboard.
func parseXkbLayouts(b []byte) []InputSource {
	kv := parseKeyValues(b)
	var out []InputSource
	for _, l := range strings.Split(kv["XKBLAYOUT"], ",") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		out = append(out, InputSource{Name: "xkb:" + l, Lang: xkbLang[l], Where: "/" + linuxKeyboard})
	}
	return out
}

// imeLang maps ibus/fcitx engine names to languages.
var imeLang = []struct{ key, lang string }{
	{"hangul", "ko"}, {"libpinyin", "zh"}, {"pinyin", "zh"}, {"chewing", "zh"}, {"rime", "zh"}, {"sunpinyin", "zh"},
	{"googlepinyin", "zh"}, {"table", ""}, {"cangjie", "zh"}, {"quick", "zh"}, {"wubi", "zh"}, {"zhuyin", "zh"},
	{"anthy", "ja"}, {"mozc", "ja"}, {"kkc", "ja"}, {"skk", "ja"}, {"unikey", "vi"}, {"bamboo", "vi"},
	{"thai", "th"}, {"m17n", ""},
}

// imeFromFile turns an ibus component / fcitx addon file name into an input
// method; ok is false for files that are not input engines.
func imeFromFile(name, where string) (InputSource, bool) {
	base := strings.ToLower(name)
	for _, ext := range []string{".xml", ".conf"} {
		base = strings.TrimSuffix(base, ext)
	}
	base = strings.TrimPrefix(base, "fcitx-")
	for _, m := range imeLang {
		if strings.Contains(base, m.key) {
			return InputSource{Name: base, Lang: m.lang, IME: true, Where: where}, true
		}
	}
	return InputSource{}, false
}

// UtmpEntry is one record of a Linux utmp file.
type UtmpEntry struct {
	Type int16
	PID  int32
	Line string
	User string
	Host string
	Sec  int32
}

const (
	utmpSize        = 384
	utmpUserProcess = 7
)

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "?")
}

// parseUtmp parses a glibc utmp file (x86_64/arm64 little-endian layout).
// It ignores a trailing partial record.
func parseUtmp(b []byte) []UtmpEntry {
	var out []UtmpEntry
	for off := 0; off+utmpSize <= len(b); off += utmpSize {
		r := b[off : off+utmpSize]
		out = append(out, UtmpEntry{
			Type: int16(binary.LittleEndian.Uint16(r[0:2])),
			PID:  int32(binary.LittleEndian.Uint32(r[4:8])),
			Line: cstr(r[8:40]),
			User: cstr(r[44:76]),
			Host: cstr(r[76:332]),
			Sec:  int32(binary.LittleEndian.Uint32(r[340:344])),
		})
	}
	return out
}

// utmpSessions returns the live user sessions of a utmp file.
func utmpSessions(b []byte) []Session {
	var out []Session
	for _, e := range parseUtmp(b) {
		if e.Type != utmpUserProcess || e.User == "" {
			continue
		}
		out = append(out, Session{User: e.User, Line: e.Line, Host: e.Host, Active: true, ID: int(e.PID)})
	}
	return out
}

// readLocaltime returns the IANA zone of etc/localtime (a symlink, or the
// recorded target in a snapshot).
func readLocaltime(root string) string {
	target, err := os.Readlink(hostpath.Root(root).File(linuxLocaltime))
	if err != nil {
		b, _ := readSmall(hostpath.Root(root).File(linuxLocaltimeLink))
		target = strings.TrimSpace(string(b))
	}
	return zoneFromPath(target)
}

// zoneFromPath extracts the zone from a zoneinfo path.
func zoneFromPath(target string) string {
	target = filepath.ToSlash(target)
	if i := strings.Index(target, "zoneinfo/"); i >= 0 {
		return target[i+len("zoneinfo/"):]
	}
	return ""
}

// readLinuxFacts reads a Linux tree under root.
func readLinuxFacts(root string) (*Facts, error) {
	f := &Facts{OS: "linux"}
	var errs []error
	read := func(rel string) []byte {
		b, err := readSmall(hostpath.Root(root).File(rel))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		return b
	}
	if b := read(linuxTimezone); len(b) > 0 {
		f.TimeZoneRaw = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	}
	if z := readLocaltime(root); z != "" {
		if f.TimeZoneRaw == "" {
			f.TimeZoneRaw = z
		}
	}
	f.TimeZone = f.TimeZoneRaw
	kv := parseKeyValues(read(linuxDefaultLocale))
	for k, v := range parseKeyValues(read(linuxLocaleConf)) {
		if _, ok := kv[k]; !ok {
			kv[k] = v
		}
	}
	f.Locales = localesFromEnv(kv)
	f.Inputs = append(f.Inputs, parseXkbLayouts(read(linuxKeyboard))...)
	for _, dir := range []string{linuxIbusDir, linuxFcitx5Dir, linuxFcitxDir} {
		ents, err := os.ReadDir(hostpath.Root(root).File(dir))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if ime, ok := imeFromFile(e.Name(), "/"+dir+"/"+e.Name()); ok {
				f.Inputs = append(f.Inputs, ime)
			}
		}
	}
	for _, u := range linuxUtmp {
		if b := read(u); len(b) > 0 {
			f.Sessions = utmpSessions(b)
			break
		}
	}
	return f, errors.Join(errs...)
}
