package network

import (
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"
)

// xdmcpAnalyzer: X Display Manager Control Protocol on UDP 177 (version
// 1 header with a consistent length). A remote X login offered by or to
// this host.
var xdmcpAnalyzer = remoteTool("xdmcp", "XDMCP (remote X11 login)", false, func(v *view) (string, bool) {
	if v.f.Proto != 17 || v.f.Server.Port != 177 {
		return "", false
	}
	if anyDatagram(v, func(b []byte, n int) bool { return len(b) == n && wire.XDMCP(b) }) {
		return "XDMCP version 1 message on UDP 177", true
	}
	return "", false
})
