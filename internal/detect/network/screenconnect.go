package network

import "github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"

// screenconnectAnalyzer: the ScreenConnect relay hello (87 15|1c|12 10 00
// followed by zero bytes) as the client's first payload, any port.
var screenconnectAnalyzer = remoteTool("screenconnect", "ScreenConnect (ConnectWise Control)", true, func(v *view) (string, bool) {
	if v.f.Proto != 6 {
		return "", false
	}
	c, _, _, _ := firstPayloads(v)
	if wire.ScreenConnectHello(c) {
		return "ScreenConnect relay hello 87 xx 10 00 00 00", true
	}
	return "", false
})
