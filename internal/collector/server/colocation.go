package server

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

// OfficeNetwork is one office network, in clear as configured; the server
// compares agents' hashed network identity with its hashes.
type OfficeNetwork struct {
	Name        string
	GatewayMACs []string
	BSSIDs      []string
	SSIDs       []string
	Egress      []*net.IPNet
}

// colocation holds the expected networks, hashed with the fleet key.
type colocation struct {
	key    []byte
	office map[string]string // kind "\x00" hash → office name
	quiet  []*net.IPNet      // office and VPN egress
}

func newColocation(ctx context.Context, o Options) (*colocation, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	key, err := o.Store.FleetKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	c := &colocation{key: key, office: map[string]string{}, quiet: append([]*net.IPNet{}, o.VPNEgress...)}
	for _, n := range o.Offices {
		for kind, vals := range map[string][]string{report.NetGateway: n.GatewayMACs, report.NetBSSID: n.BSSIDs, report.NetSSID: n.SSIDs} {
			for _, v := range vals {
				if kind != report.NetSSID {
					if hw, err := net.ParseMAC(v); err == nil {
						v = hw.String()
					}
				}
				c.office[kind+"\x00"+report.HashNetwork(key, kind, v)] = n.Name
			}
		}
		c.quiet = append(c.quiet, n.Egress...)
	}
	return c, nil
}

// office names the configured office the heartbeat's network is, or "".
func (c *colocation) officeOf(n *report.NetworkIdentity) string {
	if n == nil {
		return ""
	}
	for _, kv := range [][2]string{{report.NetGateway, n.Gateway}, {report.NetBSSID, n.BSSID}, {report.NetSSID, n.SSID}} {
		if kv[1] == "" {
			continue
		}
		if name, ok := c.office[kv[0]+"\x00"+kv[1]]; ok {
			return name
		}
	}
	return ""
}

// egress returns the hashed public address the request came from: the
// connection's address or, from a trusted proxy, the client address in the
// configured header. Non-public, office and VPN addresses give "".
func (s *Server) egress(r *http.Request) string {
	ip := s.clientIP(r)
	if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || cgnat.Contains(ip) || inNets(ip, s.coloc.quiet) {
		return ""
	}
	return report.HashNetwork(s.coloc.key, report.NetEgress, ip.String())
}

// clientIP is the address the request came from: the connection's or, from
// a trusted proxy, the client address in the configured header.
func (s *Server) clientIP(r *http.Request) net.IP {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip != nil && s.o.ClientIPHeader != "" && inNets(ip, s.o.TrustedProxies) {
		// X-Forwarded-For: the rightmost address no trusted proxy added.
		parts := strings.Split(r.Header.Get(s.o.ClientIPHeader), ",")
		for i := len(parts) - 1; i >= 0; i-- {
			p := net.ParseIP(strings.TrimSpace(parts[i]))
			if p == nil {
				break
			}
			ip = p
			if !inNets(p, s.o.TrustedProxies) {
				break
			}
		}
	}
	return ip
}

var cgnat = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

func inNets(ip net.IP, nets []*net.IPNet) bool {
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// quietOffice drops the network identity of heartbeats sent from a
// configured office network and reports whether there was one.
func (s *Server) quietOffice(host string, items []store.Item) bool {
	office := false
	for _, it := range items {
		if it.Heartbeat == nil || it.Heartbeat.Network == nil {
			continue
		}
		if name := s.coloc.officeOf(it.Heartbeat.Network); name != "" {
			s.o.Log.Debug("office_network", zap.String("host_id", host), zap.String("office", name))
			s.m.networks.WithLabelValues("office").Inc()
			it.Heartbeat.Network = nil
			office = true
			continue
		}
		s.m.networks.WithLabelValues("other").Inc()
	}
	return office
}

// fleetKey hands an enrolled agent the fleet key (agents enrolled before it
// existed, and mutual-TLS agents, which never enroll).
func (s *Server) fleetKey(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.agentAuth(w, r); !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"fleet_key": hex.EncodeToString(s.coloc.key)})
}
