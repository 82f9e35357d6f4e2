package network

// analyzer is one recogniser. inspect (optional) runs once per flow while
// its first payload bytes are still held and records Marks; classify
// (optional) runs when the flow ends and emits results.
type analyzer struct {
	name     string
	inspect  func(v *view, m *Meta)
	classify func(c *classCtx)
}

// analyzers is the one registry, in classification order: protocol- and
// tool-specific analyzers first, name-based ones next, behavioural ones
// (which only speak about flows nobody claimed) last.
var analyzers = []analyzer{
	rdpAnalyzer,
	vncAnalyzer,
	teamviewerAnalyzer,
	anydeskAnalyzer,
	rustdeskAnalyzer,
	nomachineAnalyzer,
	radminAnalyzer,
	citrixAnalyzer,
	splashtopAnalyzer,
	screenconnectAnalyzer,
	sunshineAnalyzer,
	xdmcpAnalyzer,
	sshAnalyzer,
	wireguardAnalyzer,
	openvpnAnalyzer,
	ipsecAnalyzer,
	pptpAnalyzer,
	l2tpAnalyzer,
	ipTunnelAnalyzer,
	tincAnalyzer,
	sslVPNAnalyzer,
	icmpTunnelAnalyzer,
	zerotierAnalyzer,
	torAnalyzer,
	socksAnalyzer,
	httpConnectAnalyzer,
	httpProxyAnalyzer,
	websocketTunnelAnalyzer,
	tlsInTLSAnalyzer,
	tlsImitationAnalyzer,
	namesAnalyzer,
	fullyEncryptedAnalyzer,
	encapsulationAnalyzer,
	webrtcAnalyzer,
	telemetryAnalyzer,
	interactiveAnalyzer,
}
