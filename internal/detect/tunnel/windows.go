package tunnel

import (
	"fmt"
	"strings"
)

// Snapshot files shared by macOS and Windows hosts (and written on Linux
// too, for the addresses sysfs does not hold).
const (
	FileInterfaces       = "interfaces.json"        // []Interface
	FileRoutes           = "routes.json"            // []Route (Windows)
	FileInternetSettings = "internet-settings.json" // []InternetSettings (Windows)
	FilePortProxy        = "portproxy.json"         // []PortProxy (Windows)
	FileTunOwners        = "tun-owners.json"        // []TunOwner (Linux)
	FileToolFiles        = "tool-files.json"        // []string: indicator files that exist
)

// InternetSettings is one user's WinINet proxy configuration, from
// HKU\<sid>\Software\Microsoft\Windows\CurrentVersion\Internet Settings.
type InternetSettings struct {
	User          string `json:"user"`
	ProxyEnable   int    `json:"proxy_enable"`
	ProxyServer   string `json:"proxy_server,omitempty"`
	ProxyOverride string `json:"proxy_override,omitempty"`
	AutoConfigURL string `json:"auto_config_url,omitempty"`
}

// internetSettingsProxies turns WinINet settings into proxy settings. A
// ProxyServer is only in force with ProxyEnable=1; AutoConfigURL always is.
func internetSettingsProxies(ss []InternetSettings) []ProxySetting {
	var out []ProxySetting
	for _, s := range ss {
		src := fmt.Sprintf(`HKU\%s\Software\Microsoft\Windows\CurrentVersion\Internet Settings`, s.User)
		if s.ProxyEnable != 0 && strings.TrimSpace(s.ProxyServer) != "" {
			for _, part := range strings.Split(s.ProxyServer, ";") {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				kind, val := "all", part
				if k, v, ok := strings.Cut(part, "="); ok {
					kind, val = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
				}
				if val != "" {
					out = append(out, ProxySetting{Source: src, Kind: kind, Value: redactURL(val)})
				}
			}
		}
		if u := strings.TrimSpace(s.AutoConfigURL); u != "" {
			out = append(out, ProxySetting{Source: src, Kind: "pac", Value: redactURL(u)})
		}
		if len(out) >= maxProxyEntries {
			break
		}
	}
	return out
}

// parsePortProxyValue parses one value of
// HKLM\SYSTEM\CurrentControlSet\Services\PortProxy\<type>\tcp: the name is
// "listenaddress/listenport", the data "connectaddress/connectport".
func parsePortProxyValue(typ, name, data string) (PortProxy, bool) {
	la, lp, ok1 := cutLast(name, "/")
	ca, cp, ok2 := cutLast(data, "/")
	if !ok1 || !ok2 || lp == "" || cp == "" {
		return PortProxy{}, false
	}
	return PortProxy{Type: typ, ListenAddress: la, ListenPort: lp, ConnectAddr: ca, ConnectPort: cp}, true
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(sep):], true
}

// resolveRouteIfaces fills route interface names from their indexes.
func resolveRouteIfaces(routes []Route, ifs []Interface) {
	byIndex := map[int]string{}
	for _, i := range ifs {
		if i.Index != 0 {
			byIndex[i.Index] = i.Name
		}
	}
	for k := range routes {
		if routes[k].Interface == "" {
			routes[k].Interface = byIndex[routes[k].InterfaceIndex]
		}
	}
}

// addInterfaceMetrics makes Windows route metrics effective: the route's
// metric plus its interface's metric decide which default route wins.
func addInterfaceMetrics(routes []Route, ifs []Interface) {
	byIndex := map[int]int{}
	for _, i := range ifs {
		byIndex[i.Index] = i.Metric
	}
	for k := range routes {
		routes[k].Metric += byIndex[routes[k].InterfaceIndex]
	}
}
