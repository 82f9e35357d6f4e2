//go:build windows

package hostcontext

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// liveIdle: on Windows the idle time comes with liveWindowsJSON.
func liveIdle(context.Context, string, *Facts) *time.Duration { return nil }

var (
	modwtsapi32                     = windows.NewLazySystemDLL("wtsapi32.dll")
	procWTSQuerySessionInformationW = modwtsapi32.NewProc("WTSQuerySessionInformationW")
)

// WTS_INFO_CLASS values used here.
const (
	wtsUserName           = 5
	wtsClientName         = 10
	wtsClientAddress      = 14
	wtsClientProtocolType = 16
	wtsSessionInfo        = 24
)

func wtsQuery(session uint32, class uint32) ([]byte, error) {
	if err := procWTSQuerySessionInformationW.Find(); err != nil {
		return nil, err
	}
	var buf *byte
	var n uint32
	r, _, e := procWTSQuerySessionInformationW.Call(0, uintptr(session), uintptr(class), uintptr(unsafe.Pointer(&buf)), uintptr(unsafe.Pointer(&n)))
	if r == 0 {
		return nil, e
	}
	defer windows.WTSFreeMemory(uintptr(unsafe.Pointer(buf)))
	if buf == nil || n == 0 {
		return nil, nil
	}
	return append([]byte(nil), unsafe.Slice(buf, n)...), nil
}

func utf16Bytes(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return windows.UTF16ToString(u)
}

var wtsStates = []string{"active", "connected", "connect-query", "shadow", "disconnected", "idle", "listen", "reset", "down", "init"}

// sessions enumerates WTS sessions with protocol, user, client and idle.
func sessions() ([]WTSSession, *int64, error) {
	var infos *windows.WTS_SESSION_INFO
	var count uint32
	if err := windows.WTSEnumerateSessions(0, 0, 1, &infos, &count); err != nil {
		return nil, nil, fmt.Errorf("WTSEnumerateSessions: %w", err)
	}
	defer windows.WTSFreeMemory(uintptr(unsafe.Pointer(infos)))
	var out []WTSSession
	var idle *int64
	for _, si := range unsafe.Slice(infos, count) {
		s := WTSSession{ID: int(si.SessionID), Station: windows.UTF16PtrToString(si.WindowStationName)}
		if int(si.State) < len(wtsStates) {
			s.State = wtsStates[si.State]
		}
		if b, err := wtsQuery(si.SessionID, wtsClientProtocolType); err == nil && len(b) >= 2 {
			switch binary.LittleEndian.Uint16(b) {
			case 0:
				s.Protocol = "console"
			case 1:
				s.Protocol = "ica"
			case 2:
				s.Protocol = "rdp"
			}
		}
		if b, err := wtsQuery(si.SessionID, wtsUserName); err == nil {
			s.User = utf16Bytes(b)
		}
		if b, err := wtsQuery(si.SessionID, wtsClientAddress); err == nil && len(b) >= 10 {
			if binary.LittleEndian.Uint32(b) == windows.AF_INET {
				s.Client = net.IP(b[6:10]).String()
			}
		}
		if s.Client == "" {
			if b, err := wtsQuery(si.SessionID, wtsClientName); err == nil {
				s.Client = utf16Bytes(b)
			}
		}
		// WTSINFOW: LastInputTime at 192, CurrentTime at 208 (100 ns).
		if si.State == windows.WTSActive && s.User != "" {
			if b, err := wtsQuery(si.SessionID, wtsSessionInfo); err == nil && len(b) >= 216 {
				last := int64(binary.LittleEndian.Uint64(b[192:]))
				cur := int64(binary.LittleEndian.Uint64(b[208:]))
				if last > 0 && cur >= last {
					sec := (cur - last) / 1e7
					if idle == nil || sec < *idle {
						idle = &sec
					}
				}
			}
		}
		out = append(out, s)
	}
	return out, idle, nil
}

// users reads the loaded user hives.
func users() []WindowsUser {
	k, err := registry.OpenKey(registry.USERS, "", registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return nil
	}
	defer k.Close()
	sids, _ := k.ReadSubKeyNames(-1)
	var out []WindowsUser
	for _, sid := range sids {
		if !strings.HasPrefix(sid, "S-1-5-21-") || strings.HasSuffix(sid, "_Classes") {
			continue
		}
		u := WindowsUser{SID: sid}
		if pk, err := registry.OpenKey(registry.USERS, sid+`\Keyboard Layout\Preload`, registry.QUERY_VALUE); err == nil {
			names, _ := pk.ReadValueNames(-1)
			for _, n := range names {
				if v, _, err := pk.GetStringValue(n); err == nil {
					u.Preload = append(u.Preload, v)
				}
			}
			pk.Close()
		}
		if ik, err := registry.OpenKey(registry.USERS, sid+`\Control Panel\International`, registry.QUERY_VALUE); err == nil {
			u.LocaleName, _, _ = ik.GetStringValue("LocaleName")
			ik.Close()
		}
		if pk, err := registry.OpenKey(registry.USERS, sid+`\Control Panel\International\User Profile`, registry.QUERY_VALUE); err == nil {
			u.Languages, _, _ = pk.GetStringsValue("Languages")
			pk.Close()
			for _, lang := range u.Languages {
				lk, err := registry.OpenKey(registry.USERS, sid+`\Control Panel\International\User Profile\`+lang, registry.QUERY_VALUE)
				if err != nil {
					continue
				}
				names, _ := lk.ReadValueNames(-1)
				for _, n := range names {
					if strings.Contains(n, ":") {
						u.InputMethodTips = append(u.InputMethodTips, n)
					}
				}
				lk.Close()
			}
		}
		out = append(out, u)
	}
	return out
}

// liveWindowsJSON reads the registry and WTS into context.json form.
func liveWindowsJSON(ctx context.Context) ([]byte, error) {
	wc := WindowsContext{}
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Control\TimeZoneInformation`, registry.QUERY_VALUE); err == nil {
		wc.TimeZoneKeyName, _, _ = k.GetStringValue("TimeZoneKeyName")
		k.Close()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	wc.Users = users()
	ss, idle, err := sessions()
	wc.Sessions = ss
	wc.IdleSeconds = idle
	b, merr := json.MarshalIndent(wc, "", "  ")
	if merr != nil {
		return nil, merr
	}
	return b, err
}
