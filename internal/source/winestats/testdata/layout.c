/*
 * layout.c: sizes and field offsets of the Windows SDK structures that the
 * winestats package encodes and decodes, as the mingw-w64 headers define
 * them. Compiled (never run) by layout.sh, which reads the values back out
 * of the generated assembly. The _Static_asserts repeat the constants of
 * winestats.go so that a mismatch fails compilation.
 */
#define _WIN32_WINNT 0x0601
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <tcpestats.h>
#include <stddef.h>

#define V(name, expr, want) \
	const unsigned long long fw_##name = (expr); \
	_Static_assert((expr) == (want), #name " is not " #want);

V(MIB_TCPROW_size, sizeof(MIB_TCPROW), 20)
V(MIB_TCPROW_dwState, offsetof(MIB_TCPROW, dwState), 0)
V(MIB_TCPROW_dwLocalAddr, offsetof(MIB_TCPROW, dwLocalAddr), 4)
V(MIB_TCPROW_dwLocalPort, offsetof(MIB_TCPROW, dwLocalPort), 8)
V(MIB_TCPROW_dwRemoteAddr, offsetof(MIB_TCPROW, dwRemoteAddr), 12)
V(MIB_TCPROW_dwRemotePort, offsetof(MIB_TCPROW, dwRemotePort), 16)

V(MIB_TCP6ROW_size, sizeof(MIB_TCP6ROW), 52)
V(MIB_TCP6ROW_State, offsetof(MIB_TCP6ROW, State), 0)
V(MIB_TCP6ROW_LocalAddr, offsetof(MIB_TCP6ROW, LocalAddr), 4)
V(MIB_TCP6ROW_dwLocalScopeId, offsetof(MIB_TCP6ROW, dwLocalScopeId), 20)
V(MIB_TCP6ROW_dwLocalPort, offsetof(MIB_TCP6ROW, dwLocalPort), 24)
V(MIB_TCP6ROW_RemoteAddr, offsetof(MIB_TCP6ROW, RemoteAddr), 28)
V(MIB_TCP6ROW_dwRemoteScopeId, offsetof(MIB_TCP6ROW, dwRemoteScopeId), 44)
V(MIB_TCP6ROW_dwRemotePort, offsetof(MIB_TCP6ROW, dwRemotePort), 48)
V(MIB_TCP_STATE_ESTAB, MIB_TCP_STATE_ESTAB, 5)
V(sizeof_MIB_TCP_STATE, sizeof(MIB_TCP_STATE), 4)

V(DATA_ROD_size, sizeof(TCP_ESTATS_DATA_ROD_v0), 96)
V(DATA_ROD_DataBytesOut, offsetof(TCP_ESTATS_DATA_ROD_v0, DataBytesOut), 0)
V(DATA_ROD_DataSegsOut, offsetof(TCP_ESTATS_DATA_ROD_v0, DataSegsOut), 8)
V(DATA_ROD_DataBytesIn, offsetof(TCP_ESTATS_DATA_ROD_v0, DataBytesIn), 16)
V(DATA_ROD_DataSegsIn, offsetof(TCP_ESTATS_DATA_ROD_v0, DataSegsIn), 24)
V(DATA_ROD_SegsOut, offsetof(TCP_ESTATS_DATA_ROD_v0, SegsOut), 32)
V(DATA_ROD_SegsIn, offsetof(TCP_ESTATS_DATA_ROD_v0, SegsIn), 40)
V(DATA_ROD_SoftErrors, offsetof(TCP_ESTATS_DATA_ROD_v0, SoftErrors), 48)
V(DATA_ROD_SoftErrorReason, offsetof(TCP_ESTATS_DATA_ROD_v0, SoftErrorReason), 52)
V(DATA_ROD_SndUna, offsetof(TCP_ESTATS_DATA_ROD_v0, SndUna), 56)
V(DATA_ROD_SndNxt, offsetof(TCP_ESTATS_DATA_ROD_v0, SndNxt), 60)
V(DATA_ROD_SndMax, offsetof(TCP_ESTATS_DATA_ROD_v0, SndMax), 64)
V(DATA_ROD_ThruBytesAcked, offsetof(TCP_ESTATS_DATA_ROD_v0, ThruBytesAcked), 72)
V(DATA_ROD_RcvNxt, offsetof(TCP_ESTATS_DATA_ROD_v0, RcvNxt), 80)
V(DATA_ROD_ThruBytesReceived, offsetof(TCP_ESTATS_DATA_ROD_v0, ThruBytesReceived), 88)

V(DATA_RW_size, sizeof(TCP_ESTATS_DATA_RW_v0), 1)
V(PATH_RW_size, sizeof(TCP_ESTATS_PATH_RW_v0), 1)

V(PATH_ROD_size, sizeof(TCP_ESTATS_PATH_ROD_v0), 160)
V(PATH_ROD_SampleRtt, offsetof(TCP_ESTATS_PATH_ROD_v0, SampleRtt), 104)
V(PATH_ROD_SmoothedRtt, offsetof(TCP_ESTATS_PATH_ROD_v0, SmoothedRtt), 108)
V(PATH_ROD_RttVar, offsetof(TCP_ESTATS_PATH_ROD_v0, RttVar), 112)
V(PATH_ROD_MaxRtt, offsetof(TCP_ESTATS_PATH_ROD_v0, MaxRtt), 116)
V(PATH_ROD_MinRtt, offsetof(TCP_ESTATS_PATH_ROD_v0, MinRtt), 120)
V(PATH_ROD_SumRtt, offsetof(TCP_ESTATS_PATH_ROD_v0, SumRtt), 124)
V(PATH_ROD_CountRtt, offsetof(TCP_ESTATS_PATH_ROD_v0, CountRtt), 128)
V(PATH_ROD_CurRto, offsetof(TCP_ESTATS_PATH_ROD_v0, CurRto), 132)
V(PATH_ROD_CurMss, offsetof(TCP_ESTATS_PATH_ROD_v0, CurMss), 144)
V(PATH_ROD_SpuriousRtoDetections, offsetof(TCP_ESTATS_PATH_ROD_v0, SpuriousRtoDetections), 156)

V(TcpConnectionEstatsData, TcpConnectionEstatsData, 1)
V(TcpConnectionEstatsPath, TcpConnectionEstatsPath, 3)
V(ERROR_NOT_FOUND, ERROR_NOT_FOUND, 1168)
V(ERROR_ACCESS_DENIED, ERROR_ACCESS_DENIED, 5)
V(ERROR_INVALID_PARAMETER, ERROR_INVALID_PARAMETER, 87)
V(ERROR_NOT_SUPPORTED, ERROR_NOT_SUPPORTED, 50)
