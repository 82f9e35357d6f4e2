package hostcontext

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/context/winzones"
)

// FileWindows is the Windows snapshot file: the registry and WTS facts.
const FileWindows = "context.json"

// WindowsContext is what the Windows seam reads (and context.json holds).
type WindowsContext struct {
	// TimeZoneKeyName of HKLM\SYSTEM\CurrentControlSet\Control\TimeZoneInformation.
	TimeZoneKeyName string        `json:"time_zone_key_name"`
	Users           []WindowsUser `json:"users"`
	Sessions        []WTSSession  `json:"sessions"`
	// IdleSeconds is the least idle time of the active sessions (absent
	// when unknown).
	IdleSeconds *int64 `json:"idle_seconds,omitempty"`
}

// WindowsUser is one loaded user hive (HKU\<sid>).
type WindowsUser struct {
	SID string `json:"sid"`
	// Preload are the values of Keyboard Layout\Preload (KLIDs "00000409").
	Preload []string `json:"preload"`
	// Languages of Control Panel\International\User Profile.
	Languages []string `json:"languages"`
	// InputMethodTips per language ("0412:{...}{...}").
	InputMethodTips []string `json:"input_method_tips"`
	LocaleName      string   `json:"locale_name,omitempty"`
}

// WTSSession is one WTSEnumerateSessions entry.
type WTSSession struct {
	ID       int    `json:"id"`
	Station  string `json:"station"`
	State    string `json:"state"` // active, connected, disconnected, listen, ...
	User     string `json:"user,omitempty"`
	Client   string `json:"client,omitempty"`
	Protocol string `json:"protocol,omitempty"` // console, rdp
}

// parseWindowsContext decodes context.json.
func parseWindowsContext(b []byte) (*WindowsContext, error) {
	var wc WindowsContext
	if err := json.Unmarshal(b, &wc); err != nil {
		return nil, fmt.Errorf("%s: %w", FileWindows, err)
	}
	return &wc, nil
}

// winLangs maps primary language ids (low 10 bits of a LANGID) to ISO 639-1.
var winLangs = map[uint16]string{
	0x01: "ar", 0x04: "zh", 0x07: "de", 0x09: "en", 0x0a: "es", 0x0c: "fr", 0x10: "it", 0x11: "ja", 0x12: "ko",
	0x13: "nl", 0x15: "pl", 0x16: "pt", 0x19: "ru", 0x1e: "th", 0x1f: "tr", 0x22: "uk", 0x23: "be", 0x29: "fa",
	0x2a: "vi", 0x39: "hi",
}

// langIDLang returns the language of a hex LANGID or KLID ("0412",
// "00000409", "e0010412").
func langIDLang(hex string) string {
	hex = strings.TrimSpace(hex)
	if len(hex) < 4 {
		return ""
	}
	v, err := strconv.ParseUint(hex[len(hex)-4:], 16, 16)
	if err != nil {
		return ""
	}
	return winLangs[uint16(v)&0x3ff]
}

// windowsIMEs are known text-service CLSIDs (the first GUID of an
// InputMethodTip is the profile's CLSID).
var windowsIMEs = map[string]string{
	"{A028AE76-01B1-46C2-99C4-ACD9858AE02F}": "Microsoft Korean IME",
	"{81D4E9C9-1D3B-41BC-9E6C-4B40BF79E35E}": "Microsoft Pinyin",
	"{531FDEBF-9B4C-4A43-A2AA-960E8FCDC732}": "Microsoft Bopomofo",
	"{03B5835F-F03C-411B-9CE2-AA23E1171E36}": "Microsoft Japanese IME",
}

// Facts turns the Windows facts into the common model.
func (wc *WindowsContext) Facts() *Facts {
	f := &Facts{OS: "windows", TimeZoneRaw: wc.TimeZoneKeyName, TimeZone: winzones.IANA(wc.TimeZoneKeyName)}
	seenLoc := map[string]bool{}
	users := append([]WindowsUser(nil), wc.Users...)
	sort.SliceStable(users, func(i, j int) bool { return users[i].SID < users[j].SID })
	for _, u := range users {
		where := `HKU\` + u.SID
		for _, l := range append([]string{u.LocaleName}, u.Languages...) {
			if l != "" && localeLang(l) != "" && !seenLoc[l] {
				seenLoc[l] = true
				f.Locales = append(f.Locales, l)
			}
		}
		for _, k := range u.Preload {
			k = strings.TrimSpace(k)
			if k == "" {
				continue
			}
			f.Inputs = append(f.Inputs, InputSource{Name: "klid:" + strings.ToLower(k), Lang: langIDLang(k), Where: where + `\Keyboard Layout\Preload`})
		}
		for _, tip := range u.InputMethodTips {
			lid, rest, ok := strings.Cut(strings.TrimSpace(tip), ":")
			if !ok || rest == "" {
				continue
			}
			clsid := rest
			if i := strings.Index(rest[1:], "{"); i >= 0 {
				clsid = rest[:i+1]
			}
			name, ime := windowsIMEs[strings.ToUpper(clsid)]
			if !ime {
				if strings.HasPrefix(rest, "0000") || !strings.Contains(rest, "{") {
					// "0409:00000409" is a plain keyboard layout.
					name = "klid:" + strings.ToLower(rest)
				} else {
					name = "tip:" + strings.ToLower(lid) + ":" + strings.ToUpper(clsid)
					ime = true
				}
			}
			f.Inputs = append(f.Inputs, InputSource{Name: name, Lang: langIDLang(lid), IME: ime, Where: where + `\Control Panel\International\User Profile`})
		}
	}
	for _, s := range wc.Sessions {
		proto := strings.ToLower(s.Protocol)
		if proto == "" && strings.HasPrefix(strings.ToLower(s.Station), "rdp-tcp#") {
			proto = "rdp"
		}
		if proto != "rdp" {
			continue
		}
		f.Sessions = append(f.Sessions, Session{User: s.User, Line: s.Station, Host: s.Client, Protocol: "rdp", Active: strings.EqualFold(s.State, "active"), ID: s.ID})
	}
	return f
}
