package traffic

import "testing"

func TestParseProcRoute(t *testing.T) {
	const route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n" +
		"wlan0\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n" +
		"tun0\t00000000\t00000000\t0001\t0\t0\t50\t00000080\t0\t0\t0\n"
	got := parseProcRoute(route)
	if len(got) != 2 || got[0] != "wlan0" || got[1] != "tun0" {
		t.Errorf("got %v", got)
	}
	if parseProcRoute("") != nil {
		t.Error("empty table gave interfaces")
	}
}
