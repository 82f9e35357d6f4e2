package network

import "strings"

// anydeskAnalyzer: the relay certificate (CN "AnyNet Relay", O "philandro
// Software GmbH"), the mutual-TLS client certificate ("AnyDesk Client") on
// direct TCP 7070 sessions, the "anydesk/<ver>/<os>" ALPN and AnyDesk's
// published JA4 client fingerprints.
var anydeskAnalyzer = analyzer{
	name: "anydesk",
	classify: func(c *classCtx) {
		what := ""
		conf := 0.9
		if sh := c.m.TLSServer; sh != nil && sh.Cert != nil {
			cert := sh.Cert
			switch {
			case cert.SubjectCN == "AnyNet Relay" || strings.Contains(cert.SubjectO, "philandro") || strings.Contains(cert.IssuerO, "philandro"):
				what = "AnyDesk relay certificate CN=" + cert.SubjectCN + ", O=" + cert.SubjectO
				conf = 0.95
			case cert.SubjectCN == "AnyDesk Client":
				what = "AnyDesk mutual-TLS certificate CN=AnyDesk Client"
				conf = 0.95
			}
		}
		if what == "" && c.m.TLSClient != nil {
			for _, a := range c.m.TLSClient.ALPN {
				if strings.HasPrefix(a, "anydesk/") {
					what = "TLS ALPN " + a
				}
			}
			if what == "" && anydeskJA4[c.m.JA4] {
				what, conf = "AnyDesk JA4 "+c.m.JA4, 0.7
			}
		}
		if what == "" {
			return
		}
		if c.f.Server.Port == 7070 {
			what += " (direct TCP 7070)"
		}
		emitRemoteTool(c, "anydesk", "AnyDesk", c.f.Server.Port != 7070, what, conf)
	},
}

var anydeskJA4 = map[string]bool{
	"t12d640500_9197985d2161_a1e935682795": true,
	"t12d6406an_9197985d2161_a1e935682795": true,
	"t12d550500_168bb377f8c8_a1e935682795": true,
}
