// Package wire holds small byte-signature recognisers for protocols whose
// opening is a fixed pattern rather than a grammar worth its own parser:
// VPNs (WireGuard, OpenVPN, IKE/NAT-T, Tailscale disco), remote-control
// tools (TeamViewer, Radmin, Citrix ICA/CGP, NoMachine, Splashtop,
// ScreenConnect, RustDesk, XDMCP) and WebSocket framing. Each recogniser is
// a pure function over the first payload bytes of one direction; the facts
// (magic bytes, lengths) come from ../shared/data/net/indicators.tsv.
package wire
