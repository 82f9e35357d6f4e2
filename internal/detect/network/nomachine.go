package network

import "github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"

// nomachineAnalyzer: NX banners "NXSH-<ver>" / "NXD-<ver>" before TLS.
var nomachineAnalyzer = remoteTool("nomachine", "NoMachine", false, func(v *view) (string, bool) {
	if v.f.Proto != 6 {
		return "", false
	}
	c, _, s, _ := firstPayloads(v)
	if wire.NoMachineBanner(c) || wire.NoMachineBanner(s) {
		return "NoMachine NXSH/NXD banner", true
	}
	return "", false
})
