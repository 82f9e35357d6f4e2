package network

import "github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"

// radminAnalyzer: the Radmin client handshake 01 00 00 00 01 00 00 00 08 08.
var radminAnalyzer = remoteTool("radmin", "Radmin", false, func(v *view) (string, bool) {
	if v.f.Proto != 6 {
		return "", false
	}
	c, _, _, _ := firstPayloads(v)
	if wire.RadminHello(c) {
		return "Radmin handshake 01 00 00 00 01 00 00 00 08 08", true
	}
	return "", false
})
