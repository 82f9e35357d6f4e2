//go:build windows

package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// liveFiles is the Windows acquisition seam: adapters with descriptions
// (GetAdaptersAddresses), the route table (GetIpForwardTable2), every
// loaded user hive's WinINet proxy settings, portproxy rules from the
// registry, and Astrill's files.
func liveFiles(ctx context.Context, root, hostOS string) (fileSet, error) {
	ls, err := newLiveSet(hostOS)
	if err != nil {
		return nil, err
	}
	ifs, err := adapters()
	if err != nil {
		ls.fail(err)
	} else {
		ls.put(FileInterfaces, ifs)
	}
	if err := ctx.Err(); err != nil {
		return ls.files, err
	}
	routes, err := routeTable()
	if err != nil {
		ls.fail(err)
	} else {
		ls.put(FileRoutes, routes)
	}
	is, err := internetSettings()
	ls.fail(err)
	if is == nil {
		is = []InternetSettings{}
	}
	ls.put(FileInternetSettings, is)
	pp, err := portProxies()
	ls.fail(err)
	if pp == nil {
		pp = []PortProxy{}
	}
	ls.put(FilePortProxy, pp)
	tf := existingToolFiles(root, hostOS)
	if tf == nil {
		tf = []string{}
	}
	ls.put(FileToolFiles, tf)
	return ls.done()
}

func adapters() ([]Interface, error) {
	size := uint32(16 << 10)
	var buf []byte
	for i := 0; i < 5; i++ {
		buf = make([]byte, size)
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, windows.GAA_FLAG_INCLUDE_PREFIX, 0,
			(*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0])), &size)
		if err == nil {
			break
		}
		if !errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) || i == 4 {
			return nil, fmt.Errorf("GetAdaptersAddresses: %w", err)
		}
	}
	var out []Interface
	for aa := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0])); aa != nil; aa = aa.Next {
		x := Interface{
			Name:        windows.UTF16PtrToString(aa.FriendlyName),
			Description: windows.UTF16PtrToString(aa.Description),
			Index:       int(aa.IfIndex),
			Up:          aa.OperStatus == windows.IfOperStatusUp,
			MTU:         int(aa.Mtu),
			IfType:      int(aa.IfType),
			Metric:      int(aa.Ipv4Metric),
		}
		if x.Index == 0 {
			x.Index = int(aa.Ipv6IfIndex)
		}
		if n := int(aa.PhysicalAddressLength); n > 0 && n <= len(aa.PhysicalAddress) {
			x.Hardware = net.HardwareAddr(aa.PhysicalAddress[:n]).String()
		}
		for ua := aa.FirstUnicastAddress; ua != nil; ua = ua.Next {
			ip := ua.Address.IP()
			if ip == nil {
				continue
			}
			a, ok := netip.AddrFromSlice(ip)
			if !ok {
				continue
			}
			a = a.Unmap()
			if p, err := a.Prefix(int(ua.OnLinkPrefixLength)); err == nil {
				x.Addresses = append(x.Addresses, netip.PrefixFrom(a, p.Bits()).String())
			} else {
				x.Addresses = append(x.Addresses, a.String())
			}
		}
		out = append(out, x)
	}
	return out, nil
}

func sockaddrAddr(s *windows.RawSockaddrInet) (netip.Addr, bool) {
	switch s.Family {
	case windows.AF_INET:
		return netip.AddrFrom4((*windows.RawSockaddrInet4)(unsafe.Pointer(s)).Addr), true
	case windows.AF_INET6:
		return netip.AddrFrom16((*windows.RawSockaddrInet6)(unsafe.Pointer(s)).Addr), true
	}
	return netip.Addr{}, false
}

func routeTable() ([]Route, error) {
	var t *windows.MibIpForwardTable2
	if err := windows.GetIpForwardTable2(windows.AF_UNSPEC, &t); err != nil {
		return nil, fmt.Errorf("GetIpForwardTable2: %w", err)
	}
	defer windows.FreeMibTable(unsafe.Pointer(t))
	var out []Route
	for i, r := range t.Rows() {
		if i >= maxRoutes {
			break
		}
		dst, ok := sockaddrAddr(&r.DestinationPrefix.Prefix)
		if !ok {
			continue
		}
		p, err := dst.Prefix(int(r.DestinationPrefix.PrefixLength))
		if err != nil {
			continue
		}
		rt := Route{Destination: p.String(), InterfaceIndex: int(r.InterfaceIndex), Metric: int(r.Metric)}
		if gw, ok := sockaddrAddr(&r.NextHop); ok && !gw.IsUnspecified() {
			rt.Gateway = gw.String()
		}
		out = append(out, rt)
	}
	return out, nil
}

const internetSettingsKey = `Software\Microsoft\Windows\CurrentVersion\Internet Settings`

// internetSettings reads WinINet proxy values from every loaded user hive
// (the agent runs as a service, so HKCU would be its own).
func internetSettings() ([]InternetSettings, error) {
	users, err := registry.USERS.ReadSubKeyNames(-1)
	if err != nil {
		return nil, fmt.Errorf("list HKU: %w", err)
	}
	var out []InternetSettings
	for _, sid := range users {
		if strings.HasSuffix(sid, "_Classes") || sid == ".DEFAULT" {
			continue
		}
		k, err := registry.OpenKey(registry.USERS, sid+`\`+internetSettingsKey, registry.QUERY_VALUE)
		if err != nil {
			continue
		}
		s := InternetSettings{User: sid}
		if v, _, err := k.GetIntegerValue("ProxyEnable"); err == nil {
			s.ProxyEnable = int(v)
		}
		s.ProxyServer, _, _ = k.GetStringValue("ProxyServer")
		s.ProxyOverride, _, _ = k.GetStringValue("ProxyOverride")
		s.AutoConfigURL, _, _ = k.GetStringValue("AutoConfigURL")
		k.Close()
		out = append(out, s)
	}
	return out, nil
}

// portProxies reads netsh interface portproxy rules.
func portProxies() ([]PortProxy, error) {
	var out []PortProxy
	for _, typ := range []string{"v4tov4", "v4tov6", "v6tov4", "v6tov6"} {
		k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\PortProxy\`+typ+`\tcp`, registry.QUERY_VALUE)
		if err != nil {
			continue
		}
		names, _ := k.ReadValueNames(-1)
		for _, n := range names {
			v, _, err := k.GetStringValue(n)
			if err != nil {
				continue
			}
			if pp, ok := parsePortProxyValue(typ, n, v); ok {
				out = append(out, pp)
			}
		}
		k.Close()
	}
	return out, nil
}
