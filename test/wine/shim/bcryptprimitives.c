/*
 * Test-only stand-in for Windows' bcryptprimitives.dll, for running the Go
 * Windows build under Wine 8.0 (Debian 12), which lacks the DLL. Go's
 * Windows runtime (Go >= 1.24) loads bcryptprimitives.dll at start and calls
 * ProcessPrng for its random numbers; without the DLL every Go program dies
 * with "fatal error: bcryptprimitives.dll not found".
 *
 * ProcessPrng fills the buffer from advapi32's RtlGenRandom
 * (SystemFunction036), which Wine implements over the host's random source.
 * This DLL is built by the Wine test lane (test/wine) with mingw-w64 and
 * installed only into the throw-away Wine prefix the tests create; it is
 * never shipped. Real Windows 10+ has its own bcryptprimitives.dll.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	(void)inst; (void)reason; (void)reserved;
	return TRUE;
}
