package network

import (
	"net/netip"
	"time"
)

// webrtcAnalyzer: tools that carry sessions over WebRTC (Chrome Remote
// Desktop, Parsec) are named by a DNS lookup of their signalling names by
// the same client shortly before a STUN/DTLS flow. STUN/DTLS alone is the
// transport of every video call and is never reported.
var webrtcAnalyzer = analyzer{
	name: "webrtc",
	classify: func(c *classCtx) {
		if c.f.Proto != 17 || (c.m.STUN == nil && !c.m.DTLS) || c.identified {
			return
		}
		w, ok := c.e.webrtc[c.f.Client.Addr]
		if !ok || c.f.Start-w.t > int64(10*time.Minute) || c.f.Start < w.t-int64(time.Minute) {
			return
		}
		what := "STUN/DTLS media flow after a DNS lookup of " + w.name
		emitRemoteTool(c, w.ind.tool, w.ind.display, true, what, 0.7)
	},
}

type webrtcSeen struct {
	ind  *nameIndicator
	name string
	t    int64
}

// webrtcName remembers that client looked up a WebRTC tool's name.
func (e *Engine) webrtcName(client netip.Addr, ind *nameIndicator, t int64) {
	if !ind.webrtc {
		return
	}
	if e.webrtc == nil {
		e.webrtc = make(map[netip.Addr]webrtcSeen)
	}
	if len(e.webrtc) >= 4096 {
		for k := range e.webrtc {
			delete(e.webrtc, k)
			break
		}
	}
	e.webrtc[client] = webrtcSeen{ind: ind, name: ind.display, t: t}
}
