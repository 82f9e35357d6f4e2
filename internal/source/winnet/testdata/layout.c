/*
 * layout.c: sizes and field offsets of the Windows SDK structures that the
 * winnet package decodes, as the mingw-w64 headers (netioapi.h, wlanapi.h)
 * define them. Compiled, never run, by layout.sh: each _Static_assert repeats
 * a constant of winnet.go, so a mismatch fails compilation.
 */
#define _WIN32_WINNT 0x0601
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>
#include <wlanapi.h>
#include <stddef.h>

#define V(name, expr, want) \
	const unsigned long long fw_##name = (expr); \
	_Static_assert((expr) == (want), #name " is not " #want);

V(SOCKADDR_INET_size, sizeof(SOCKADDR_INET), 28)
V(SOCKADDR_IN_family, offsetof(SOCKADDR_IN, sin_family), 0)
V(SOCKADDR_IN_addr, offsetof(SOCKADDR_IN, sin_addr), 4)
V(SOCKADDR_IN6_addr, offsetof(SOCKADDR_IN6, sin6_addr), 8)
V(AF_INET6_value, AF_INET6, 23)

V(MIB_IPFORWARD_TABLE2_Table, offsetof(MIB_IPFORWARD_TABLE2, Table), 8)
V(MIB_IPFORWARD_ROW2_size, sizeof(MIB_IPFORWARD_ROW2), 104)
V(MIB_IPFORWARD_ROW2_InterfaceLuid, offsetof(MIB_IPFORWARD_ROW2, InterfaceLuid), 0)
V(MIB_IPFORWARD_ROW2_InterfaceIndex, offsetof(MIB_IPFORWARD_ROW2, InterfaceIndex), 8)
V(MIB_IPFORWARD_ROW2_DestinationPrefix, offsetof(MIB_IPFORWARD_ROW2, DestinationPrefix), 12)
V(MIB_IPFORWARD_ROW2_PrefixLength, offsetof(MIB_IPFORWARD_ROW2, DestinationPrefix.PrefixLength), 40)
V(MIB_IPFORWARD_ROW2_NextHop, offsetof(MIB_IPFORWARD_ROW2, NextHop), 44)
V(MIB_IPFORWARD_ROW2_Metric, offsetof(MIB_IPFORWARD_ROW2, Metric), 84)
V(MIB_IPFORWARD_ROW2_Loopback, offsetof(MIB_IPFORWARD_ROW2, Loopback), 92)

V(MIB_IPNET_TABLE2_Table, offsetof(MIB_IPNET_TABLE2, Table), 8)
V(MIB_IPNET_ROW2_size, sizeof(MIB_IPNET_ROW2), 88)
V(MIB_IPNET_ROW2_Address, offsetof(MIB_IPNET_ROW2, Address), 0)
V(MIB_IPNET_ROW2_InterfaceIndex, offsetof(MIB_IPNET_ROW2, InterfaceIndex), 28)
V(MIB_IPNET_ROW2_InterfaceLuid, offsetof(MIB_IPNET_ROW2, InterfaceLuid), 32)
V(MIB_IPNET_ROW2_PhysicalAddress, offsetof(MIB_IPNET_ROW2, PhysicalAddress), 40)
V(MIB_IPNET_ROW2_PhysicalAddressLength, offsetof(MIB_IPNET_ROW2, PhysicalAddressLength), 72)
V(MIB_IPNET_ROW2_State, offsetof(MIB_IPNET_ROW2, State), 76)
V(MIB_IPNET_ROW2_Flags, offsetof(MIB_IPNET_ROW2, Flags), 80)
V(NlnsIncomplete_value, NlnsIncomplete, 1)
V(NlnsReachable_value, NlnsReachable, 5)
V(NlnsPermanent_value, NlnsPermanent, 6)

V(WLAN_INTERFACE_INFO_LIST_InterfaceInfo, offsetof(WLAN_INTERFACE_INFO_LIST, InterfaceInfo), 8)
V(WLAN_INTERFACE_INFO_size, sizeof(WLAN_INTERFACE_INFO), 532)
V(WLAN_INTERFACE_INFO_isState, offsetof(WLAN_INTERFACE_INFO, isState), 528)
V(WLAN_CONNECTION_ATTRIBUTES_size, sizeof(WLAN_CONNECTION_ATTRIBUTES), 604)
V(WLAN_CONNECTION_ATTRIBUTES_isState, offsetof(WLAN_CONNECTION_ATTRIBUTES, isState), 0)
V(WLAN_CONNECTION_ATTRIBUTES_uSSIDLength, offsetof(WLAN_CONNECTION_ATTRIBUTES, wlanAssociationAttributes.dot11Ssid.uSSIDLength), 520)
V(WLAN_CONNECTION_ATTRIBUTES_ucSSID, offsetof(WLAN_CONNECTION_ATTRIBUTES, wlanAssociationAttributes.dot11Ssid.ucSSID), 524)
V(WLAN_CONNECTION_ATTRIBUTES_dot11Bssid, offsetof(WLAN_CONNECTION_ATTRIBUTES, wlanAssociationAttributes.dot11Bssid), 560)
V(wlan_interface_state_connected_value, wlan_interface_state_connected, 1)
V(wlan_intf_opcode_current_connection_value, wlan_intf_opcode_current_connection, 7)
