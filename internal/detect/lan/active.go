package lan

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// WebUI is what the opt-in active check saw on one port of a neighbour.
type WebUI struct {
	URL         string `json:"url"`
	Status      int    `json:"status,omitempty"`
	Title       string `json:"title,omitempty"`
	CertSubject string `json:"cert_subject,omitempty"`
	Server      string `json:"server,omitempty"`
}

// Active-check bounds.
const (
	maxBody       = 64 << 10
	activePause   = 250 * time.Millisecond // between hosts: rate limit
	maxActiveHost = 32
)

// allowedTarget reports whether ip may be probed: a private address
// (RFC 1918 or IPv6 ULA) inside one of this host's own subnets, and not one
// of this host's addresses.
func allowedTarget(ip string, locals []netip.Prefix) error {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return fmt.Errorf("not an IP address: %q", ip)
	}
	a = a.Unmap()
	if !a.IsPrivate() {
		return fmt.Errorf("%s is not a private address", a)
	}
	in := false
	for _, l := range locals {
		if l.Addr() == a {
			return fmt.Errorf("%s is this host", a)
		}
		if l.Bits() < 16 && l.Addr().Is4() || l.Bits() < 48 && l.Addr().Is6() {
			continue // a huge "local subnet" is not a LAN
		}
		if l.Masked().Contains(a) && l.Addr().IsPrivate() {
			in = true
		}
	}
	if !in {
		return fmt.Errorf("%s is not in a local subnet", a)
	}
	return nil
}

// activeCheck probes KVM-looking neighbours, sequentially with a pause,
// at most ActiveMaxTargets of them.
func (d *Detector) activeCheck(ctx context.Context, v *View, locals []netip.Prefix, log *zap.Logger) map[string][]WebUI {
	out := map[string][]WebUI{}
	limit := d.settings.ActiveMaxTargets
	if limit > maxActiveHost {
		limit = maxActiveHost
	}
	n := 0
	for _, ip := range kvmCandidates(v) {
		if n >= limit || ctx.Err() != nil {
			break
		}
		if err := allowedTarget(ip, locals); err != nil {
			log.Debug("lan_active_refused", zap.String("ip", ip), zap.Error(err))
			continue
		}
		if n > 0 {
			select {
			case <-ctx.Done():
				return out
			case <-time.After(activePause):
			}
		}
		n++
		if ws := d.fetch(ctx, ip); len(ws) > 0 {
			out[ip] = ws
		}
	}
	return out
}

// httpsPorts are spoken to over TLS.
var httpsPorts = map[int]bool{443: true, 8443: true}

// fetchWebUI fetches "/" of ip on each port (HTTPS on 443 and 8443, HTTP
// otherwise), reading at most 64 KiB of body for the <title> and, over
// TLS, the certificate subject. Certificates are not verified: the check
// only reads what the device says it is. No proxy, no redirects followed.
func fetchWebUI(ctx context.Context, ip string, ports []int, timeout time.Duration) []WebUI {
	dialer := &net.Dialer{Timeout: timeout}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // reads the subject only
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 32 << 10,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var out []WebUI
	for _, port := range ports {
		if ctx.Err() != nil {
			break
		}
		scheme := "http"
		if httpsPorts[port] {
			scheme = "https"
		}
		u := scheme + "://" + net.JoinHostPort(ip, strconv.Itoa(port)) + "/"
		w, err := fetchOne(ctx, client, u)
		if err != nil {
			continue
		}
		out = append(out, w)
	}
	return out
}

func fetchOne(ctx context.Context, client *http.Client, u string) (WebUI, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return WebUI{}, err
	}
	req.Header.Set("User-Agent", "farmwatch-agent (lan check)")
	resp, err := client.Do(req)
	if err != nil {
		return WebUI{}, err
	}
	defer resp.Body.Close()
	w := WebUI{URL: u, Status: resp.StatusCode, Server: clean(resp.Header.Get("Server"))}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		c := resp.TLS.PeerCertificates[0]
		subj := c.Subject.CommonName
		if len(c.Subject.Organization) > 0 {
			subj = strings.TrimSpace(subj + " O=" + strings.Join(c.Subject.Organization, ","))
		}
		w.CertSubject = clean(subj)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && len(b) == 0 {
		return w, nil
	}
	w.Title = parseTitle(b)
	return w, nil
}
