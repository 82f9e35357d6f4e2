/*
 * fixtures.c: the buffers that GetIpForwardTable2, GetIpNetTable2,
 * WlanEnumInterfaces and WlanQueryInterface(wlan_intf_opcode_current_connection)
 * hand back, laid out by the mingw-w64 compiler from the SDK structures
 * (netioapi.h, wlanapi.h). Compiled, never run: fixtures.sh extracts each
 * section into a .bin file. winnet_test.go repeats the values below.
 */
#define _WIN32_WINNT 0x0601
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>
#include <wlanapi.h>

#define SEC(s) __attribute__((section(".fw" s), used))
#define IN4(a, b, c, d) { .Ipv4 = { .sin_family = AF_INET, .sin_addr = { .S_un = { .S_un_b = { a, b, c, d } } } } }
#define MAC(a, b, c, d, e, f) { a, b, c, d, e, f }

struct { ULONG NumEntries; MIB_IPFORWARD_ROW2 Table[4]; } fwd SEC("fwd") = {
	.NumEntries = 4,
	.Table = {
		/* the VPN's default route: a worse metric */
		{ .InterfaceLuid = { .Value = 0x0083000000000000ULL }, .InterfaceIndex = 12,
		  .DestinationPrefix = { .Prefix = IN4(0, 0, 0, 0), .PrefixLength = 0 },
		  .NextHop = IN4(10, 8, 0, 1), .Metric = 256, .Protocol = MIB_IPPROTO_NETMGMT,
		  .ValidLifetime = 0xffffffff, .PreferredLifetime = 0xffffffff, .Origin = NlroManual },
		/* the on-link subnet */
		{ .InterfaceLuid = { .Value = 0x0047000000000000ULL }, .InterfaceIndex = 7,
		  .DestinationPrefix = { .Prefix = IN4(192, 168, 50, 0), .PrefixLength = 24 },
		  .NextHop = IN4(0, 0, 0, 0), .Metric = 256, .Protocol = MIB_IPPROTO_LOCAL },
		/* the Wi-Fi's DHCP default route */
		{ .InterfaceLuid = { .Value = 0x0047000000000000ULL }, .InterfaceIndex = 7,
		  .DestinationPrefix = { .Prefix = IN4(0, 0, 0, 0), .PrefixLength = 0 },
		  .NextHop = IN4(192, 168, 50, 1), .Metric = 0, .Protocol = MIB_IPPROTO_NT_AUTOSTATIC,
		  .ValidLifetime = 86400, .PreferredLifetime = 86400, .Origin = NlroDHCP },
		/* loopback */
		{ .InterfaceLuid = { .Value = 0x0018000000000000ULL }, .InterfaceIndex = 1,
		  .DestinationPrefix = { .Prefix = IN4(127, 0, 0, 0), .PrefixLength = 8 },
		  .NextHop = IN4(0, 0, 0, 0), .Metric = 256, .Protocol = MIB_IPPROTO_LOCAL, .Loopback = 1 },
	},
};

struct { ULONG NumEntries; MIB_IPNET_ROW2 Table[6]; } net SEC("net") = {
	.NumEntries = 6,
	.Table = {
		{ .Address = IN4(192, 168, 50, 1), .InterfaceIndex = 7, .InterfaceLuid = { .Value = 0x0047000000000000ULL },
		  .PhysicalAddress = MAC(0xf4, 0x92, 0xbf, 0x01, 0x02, 0x03), .PhysicalAddressLength = 6,
		  .State = NlnsReachable, .IsRouter = 1 },
		{ .Address = IN4(192, 168, 50, 23), .InterfaceIndex = 7, .InterfaceLuid = { .Value = 0x0047000000000000ULL },
		  .PhysicalAddress = MAC(0xdc, 0xa6, 0x32, 0x11, 0x22, 0x33), .PhysicalAddressLength = 6,
		  .State = NlnsStale },
		{ .Address = IN4(192, 168, 50, 99), .InterfaceIndex = 7, .InterfaceLuid = { .Value = 0x0047000000000000ULL },
		  .PhysicalAddressLength = 0, .State = NlnsIncomplete },
		{ .Address = IN4(224, 0, 0, 22), .InterfaceIndex = 7, .InterfaceLuid = { .Value = 0x0047000000000000ULL },
		  .PhysicalAddress = MAC(0x01, 0x00, 0x5e, 0x00, 0x00, 0x16), .PhysicalAddressLength = 6,
		  .State = NlnsPermanent },
		{ .Address = IN4(192, 168, 50, 255), .InterfaceIndex = 7, .InterfaceLuid = { .Value = 0x0047000000000000ULL },
		  .PhysicalAddress = MAC(0xff, 0xff, 0xff, 0xff, 0xff, 0xff), .PhysicalAddressLength = 6,
		  .State = NlnsPermanent },
		{ .Address = IN4(10, 8, 0, 5), .InterfaceIndex = 12, .InterfaceLuid = { .Value = 0x0083000000000000ULL },
		  .PhysicalAddress = MAC(0x02, 0x00, 0x00, 0x00, 0x00, 0x05), .PhysicalAddressLength = 6,
		  .State = NlnsReachable },
	},
};

struct { DWORD dwNumberOfItems; DWORD dwIndex; WLAN_INTERFACE_INFO InterfaceInfo[1]; } ifl SEC("ifl") = {
	.dwNumberOfItems = 1,
	.InterfaceInfo = { {
		.InterfaceGuid = { 0x5f2a3c1b, 0x8d4e, 0x4a6f, { 0x9b, 0x1c, 0x2d, 0x3e, 0x4f, 0x50, 0x61, 0x72 } },
		.strInterfaceDescription = L"Intel(R) Wi-Fi 6 AX201 160MHz",
		.isState = wlan_interface_state_connected,
	} },
};

WLAN_CONNECTION_ATTRIBUTES conn SEC("conn") = {
	.isState = wlan_interface_state_connected,
	.wlanConnectionMode = wlan_connection_mode_profile,
	.strProfileName = L"Farm 5G",
	.wlanAssociationAttributes = {
		.dot11Ssid = { .uSSIDLength = 7, .ucSSID = "Farm 5G" },
		.dot11BssType = dot11_BSS_type_infrastructure,
		.dot11Bssid = MAC(0xf4, 0x92, 0xbf, 0xaa, 0x00, 0x01),
		.dot11PhyType = dot11_phy_type_ht,
		.wlanSignalQuality = 88,
		.ulRxRate = 1201000,
		.ulTxRate = 1201000,
	},
	.wlanSecurityAttributes = { .bSecurityEnabled = TRUE, .dot11AuthAlgorithm = DOT11_AUTH_ALGO_RSNA_PSK,
		.dot11CipherAlgorithm = DOT11_CIPHER_ALGO_CCMP },
};
