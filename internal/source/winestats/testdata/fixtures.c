/*
 * fixtures.c: the byte fixtures of the winestats tests, laid out by the
 * compiler from the real Windows SDK structures (mingw-w64 headers). Each
 * object sits in its own section; fixtures.sh compiles this file (never runs
 * it) and extracts every section's raw bytes with objcopy into a .bin file.
 * The expected decoded values are repeated in winestats_test.go.
 */
#define _WIN32_WINNT 0x0601
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <tcpestats.h>

#define SECTION(s) __attribute__((section(s), used))

/* TCP_ESTATS_DATA_ROD_v0 with a distinct value in every field. */
SECTION(".fwdrod") const TCP_ESTATS_DATA_ROD_v0 fw_data_rod = {
	.DataBytesOut = 123456789012ULL,
	.DataSegsOut = 100001,
	.DataBytesIn = 987654321ULL,
	.DataSegsIn = 200002,
	.SegsOut = 300003,
	.SegsIn = 400004,
	.SoftErrors = 5,
	.SoftErrorReason = 6,
	.SndUna = 0x11111111,
	.SndNxt = 0x22222222,
	.SndMax = 0x33333333,
	.ThruBytesAcked = 0x0123456789ABCDEFULL,
	.RcvNxt = 0x44444444,
	.ThruBytesReceived = 0xFEDCBA9876543210ULL,
};

/* TCP_ESTATS_PATH_ROD_v0: field number i (from 0) holds 0x1000+i, except
 * the RTT fields, which hold plausible milliseconds. */
SECTION(".fwprod") const TCP_ESTATS_PATH_ROD_v0 fw_path_rod = {
	.FastRetran = 0x1000, .Timeouts = 0x1001, .SubsequentTimeouts = 0x1002,
	.CurTimeoutCount = 0x1003, .AbruptTimeouts = 0x1004, .PktsRetrans = 0x1005,
	.BytesRetrans = 0x1006, .DupAcksIn = 0x1007, .SacksRcvd = 0x1008,
	.SackBlocksRcvd = 0x1009, .CongSignals = 0x100a, .PreCongSumCwnd = 0x100b,
	.PreCongSumRtt = 0x100c, .PostCongSumRtt = 0x100d, .PostCongCountRtt = 0x100e,
	.EcnSignals = 0x100f, .EceRcvd = 0x1010, .SendStall = 0x1011,
	.QuenchRcvd = 0x1012, .RetranThresh = 0x1013, .SndDupAckEpisodes = 0x1014,
	.SumBytesReordered = 0x1015, .NonRecovDa = 0x1016, .NonRecovDaEpisodes = 0x1017,
	.AckAfterFr = 0x1018, .DsackDups = 0x1019,
	.SampleRtt = 31, .SmoothedRtt = 23, .RttVar = 5, .MaxRtt = 140, .MinRtt = 9,
	.SumRtt = 0x101f, .CountRtt = 0x1020, .CurRto = 0x1021, .MaxRto = 0x1022,
	.MinRto = 0x1023, .CurMss = 0x1024, .MaxMss = 0x1025, .MinMss = 0x1026,
	.SpuriousRtoDetections = 0x1027,
};

/* The rows as the Windows documentation describes them: addresses in
 * network byte order in memory, ports in network byte order in the low 16
 * bits of a DWORD (so on little-endian Windows the DWORD holds the swapped
 * port). */
#define NPORT(p) ((DWORD)((((p) & 0xff) << 8) | (((p) >> 8) & 0xff)))

/* 192.168.1.10:51234 -> 203.0.113.7:443, established. */
SECTION(".fwrow4") const MIB_TCPROW fw_row4 = {
	.dwState = MIB_TCP_STATE_ESTAB,
	.dwLocalAddr = 192 | 168 << 8 | 1 << 16 | (DWORD)10 << 24,
	.dwLocalPort = NPORT(51234),
	.dwRemoteAddr = 203 | 0 << 8 | 113 << 16 | (DWORD)7 << 24,
	.dwRemotePort = NPORT(443),
};

/* [2001:db8::1%0]:50000 -> [fe80::abcd%12]:3389, established. */
SECTION(".fwrow6") const MIB_TCP6ROW fw_row6 = {
	.State = MIB_TCP_STATE_ESTAB,
	.LocalAddr = {{.Byte = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}},
	.dwLocalScopeId = 0,
	.dwLocalPort = NPORT(50000),
	.RemoteAddr = {{.Byte = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd}}},
	.dwRemoteScopeId = 12,
	.dwRemotePort = NPORT(3389),
};
