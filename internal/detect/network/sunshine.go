package network

import "github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"

// sunshineAnalyzer: Sunshine/Moonlight (GameStream) — an RTSP request on
// TCP 48010, or the pairing/control ports 47984/47989 with HTTP(S).
var sunshineAnalyzer = remoteTool("sunshine", "Sunshine/Moonlight game streaming", false, func(v *view) (string, bool) {
	if v.f.Proto != 6 {
		return "", false
	}
	c, _, _, _ := firstPayloads(v)
	switch v.f.Server.Port {
	case 48010:
		if wire.RTSPRequest(c) {
			return "RTSP stream setup on TCP 48010", true
		}
	case 47984, 47989:
		if len(c) > 4 && (string(c[:4]) == "GET " || c[0] == 0x16) {
			return "GameStream pairing/control request on TCP 47984/47989", true
		}
	}
	return "", false
})
