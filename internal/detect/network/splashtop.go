package network

import "github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"

// splashtopAnalyzer: the 4-byte session start 01 00 34 12 (or keepalive)
// on TCP 6783/6784.
var splashtopAnalyzer = remoteTool("splashtop", "Splashtop", true, func(v *view) (string, bool) {
	if v.f.Proto != 6 || (v.f.Server.Port != 6783 && v.f.Server.Port != 6784) {
		return "", false
	}
	c, cn, _, _ := firstPayloads(v)
	if len(c) >= 4 && wire.SplashtopStart(c[:4], 4) && (cn == 4 || v.f.Dir[0].MaxPayload >= 4) {
		return "Splashtop session start 01 00 34 12 to TCP 6783/6784", true
	}
	return "", false
})
