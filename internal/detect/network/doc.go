// Package network is farmwatch's traffic engine: one streaming pipeline —
// packet source → decode → flow table → protocol inspectors → per-flow and
// cross-flow classifiers → findings — shared by `farmwatch-agent pcap`
// (offline) and live capture. It recognises remote-control tools, VPNs,
// proxies and tunnels by their wire openings, names (DNS, TLS SNI,
// certificates) and behaviour (interactive sessions, reversed SSH roles,
// stepping-stone relays, far-away controllers).
//
// Analyzers are small values registered in one place (registry.go), one
// file each; protocol parsers live in proto/* as pure functions over bytes.
package network
