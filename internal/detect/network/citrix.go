package network

import "github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"

// citrixAnalyzer: the ICA detection string "\x7f\x7fICA\x00" or the CGP
// (session reliability) magic "\x1aCGP/01", from either side, any port.
var citrixAnalyzer = remoteTool("citrix", "Citrix ICA", false, func(v *view) (string, bool) {
	if v.f.Proto != 6 {
		return "", false
	}
	c, _, s, _ := firstPayloads(v)
	if wire.CitrixICA(s) || wire.CitrixICA(c) {
		return "ICA/CGP session magic at payload start", true
	}
	return "", false
})
