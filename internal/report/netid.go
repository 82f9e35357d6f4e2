package report

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Network identity kinds: what a NetworkIdentity hash stands for. The kind
// is part of the hashed message, so a gateway MAC and the same MAC seen as
// a neighbour hash alike only within NetLAN.
const (
	NetGateway = "gateway" // the default gateway's MAC
	NetBSSID   = "bssid"   // the Wi-Fi access point's MAC
	NetSSID    = "ssid"    // the Wi-Fi network's name
	NetLAN     = "lan"     // a MAC on the LAN: this host's own and its neighbours'
	NetEgress  = "egress"  // the public address the collector sees (collector-side only)
)

// NetworkIdentity is where an agent is attached, as keyed hashes: HMAC-SHA256
// with the per-fleet key the collector hands out at enrollment, of kind and
// value (HashNetwork). The collector can tell that two laptops share a
// gateway, access point or LAN without learning which; the clear values
// never leave the host.
type NetworkIdentity struct {
	Gateway string `json:"gateway,omitempty"`
	BSSID   string `json:"bssid,omitempty"`
	SSID    string `json:"ssid,omitempty"`
	// LAN holds this host's own MAC on the default-route interface and the
	// MACs of its neighbours there.
	LAN []string `json:"lan,omitempty"`
	// Redacted names what the host's OS withheld (NetBSSID, NetSSID): macOS
	// 14+ and Windows 11 24H2+ hide the Wi-Fi association from a process
	// without location permission. Said so the collector (and an analyst)
	// can tell "no Wi-Fi" from "Wi-Fi not visible"; a redacted value is
	// never hashed, so it links nobody.
	Redacted []string `json:"redacted,omitempty"`
}

// HashNetwork returns the keyed hash of one network identity value: the
// first 16 bytes of HMAC-SHA256(key, kind "\x00" value), in hex. MACs are
// hashed lowercase with colons; "" hashes to "".
func HashNetwork(key []byte, kind, value string) string {
	if value == "" || len(key) == 0 {
		return ""
	}
	if kind != NetSSID {
		value = strings.ToLower(value)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
