package network

import "github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"

// rustdeskAnalyzer: RustDesk rendezvous protobuf messages to TCP/UDP
// 21115-21119 (NAT test, RegisterPeer, RegisterPk, ping).
var rustdeskAnalyzer = remoteTool("rustdesk", "RustDesk", true, func(v *view) (string, bool) {
	if p := v.f.Server.Port; p < 21115 || p > 21119 {
		return "", false
	}
	c, _, _, _ := firstPayloads(v)
	if wire.RustDesk(c) {
		return "RustDesk rendezvous message to port 21115-21119", true
	}
	return "", false
})
