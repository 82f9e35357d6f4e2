package network

import "github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"

// teamviewerAnalyzer: TCP framing 0x17 0x24 / 0x11 0x30 (on 5938 or the
// 80/443 fallback) from both sides, and UDP peer-to-peer datagrams with
// 0x17 0x24 at offset 11.
var teamviewerAnalyzer = remoteTool("teamviewer", "TeamViewer", true, func(v *view) (string, bool) {
	c, _, s, _ := firstPayloads(v)
	if v.f.Proto == 6 {
		if wire.TeamViewerTCP(c) && (len(s) == 0 || wire.TeamViewerTCP(s)) {
			return "TeamViewer TCP framing 17 24 / 11 30 at payload start", true
		}
		return "", false
	}
	if v.f.Proto == 17 && anyDatagram(v, func(b []byte, _ int) bool { return wire.TeamViewerUDP(b) }) {
		return "TeamViewer UDP framing 17 24 at offset 11", true
	}
	return "", false
})
