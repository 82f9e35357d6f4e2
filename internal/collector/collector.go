// Package collector wires the farmwatch collector together: it opens the
// store, builds the alert policy, serves the HTTP(S) API and web pages, and
// runs the alert dispatcher and the silence checker as run-group actors
// until its context ends, then shuts down gracefully.
package collector

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/collector/alert"
	"github.com/farmwatch/farmwatch/internal/collector/config"
	"github.com/farmwatch/farmwatch/internal/collector/server"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/run"
	"github.com/farmwatch/farmwatch/internal/version"
)

// OpenStore creates the data directory and opens the configured database.
func OpenStore(ctx context.Context, c *config.Config) (*store.Store, error) {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	st, err := store.Open(ctx, c.DatabaseDSN())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return st, nil
}

// Run serves until ctx ends. ready, if not nil, is called with the bound
// listen address once the collector accepts connections.
func Run(ctx context.Context, c config.Config, log *zap.Logger, ready func(addr string)) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	st, err := OpenStore(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, u := range c.Web.Users {
		if err := st.AddUser(ctx, u.Name, u.PasswordHash, time.Now()); err != nil {
			return fmt.Errorf("configure web user %s: %w", u.Name, err)
		}
	}
	policy, err := alert.FromConfig(c.Alerts, version.Version)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	var proxies []*net.IPNet
	for _, p := range c.Web.TrustedProxies {
		n, err := config.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("web.trusted_proxies: %w", err)
		}
		proxies = append(proxies, n)
	}
	offices, vpn, err := colocationNets(c.Colocation)
	if err != nil {
		return err
	}
	if c.Colocation.EgressMinSpan > 0 {
		st.SetEgressMinSpan(time.Duration(c.Colocation.EgressMinSpan))
	}
	egressRegions, err := EgressRegions(c.Inventory)
	if err != nil {
		return err
	}
	disp := alert.NewDispatcher(st, policy, log.Named("alerts"))
	srv, err := server.New(server.Options{
		Offices: offices, VPNEgress: vpn, ClientIPHeader: c.Colocation.ClientIPHeader,
		Inventory: c.Inventory.Mapping, EgressRegions: egressRegions,
		Store: st, Policy: policy, Log: log.Named("http"), EnrollSecrets: c.EnrollSecrets,
		MaxBodyBytes: c.MaxBodyBytes, MaxInflight: c.MaxInflight, TLS: !c.HTTP,
		AuthHeader: c.Web.AuthHeader, TrustedProxies: proxies, SessionTTL: time.Duration(c.Web.SessionTTL),
		OnAlert: func(store.Alert) { disp.Wake() }, Version: version.Version,
	})
	if err != nil {
		return fmt.Errorf("http server: %w", err)
	}
	disp.Metrics = srv.DeliveryMetrics()
	silence := &alert.SilenceChecker{Store: st, Policy: policy, Log: log.Named("silence"), Now: time.Now,
		Missed: c.SilenceHeartbeats, Interval: time.Duration(c.SilenceCheckEvery), OnAlert: func(a store.Alert) { srv.AlertRaised(a); disp.Wake() }}

	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: zap.NewStdLog(log.Named("http"))}
	// The certificate (created on first start) exists before the port
	// opens: a client that connects as soon as the port answers, and reads
	// the self-signed certificate to trust it, finds it.
	var tc *tls.Config
	if !c.HTTP {
		if tc, err = TLSConfig(&c, log); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	scheme := "http"
	if tc != nil {
		hs.TLSConfig = tc
		ln = tls.NewListener(ln, tc)
		scheme = "https"
	}
	log.Info("collector_started", zap.String("listen", scheme+"://"+ln.Addr().String()), zap.String("database", string(st.Dialect())),
		zap.String("data_dir", c.DataDir), zap.Bool("mtls", c.TLS.ClientCA != ""), zap.Int("enroll_secrets", len(c.EnrollSecrets)),
		zap.String("version", version.Version))
	if len(c.EnrollSecrets) == 0 {
		log.Warn("enrollment_disabled", zap.String("hint", "set enroll_secrets or FARMWATCH_ENROLL_SECRET"))
	}

	g := run.NewGroup(ctx, log)
	g.StopTimeout = 20 * time.Second
	g.Go("http", func(ctx context.Context) error {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go("http-shutdown", func(ctx context.Context) error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			return fmt.Errorf("graceful shutdown: %w", err)
		}
		return nil
	})
	g.Go("alert-dispatcher", disp.Run)
	g.Go("silence-checker", silence.Run)
	g.Go("db-maintenance", func(ctx context.Context) error { return st.Maintain(ctx, time.Second, time.Now) })
	if ready != nil {
		ready(ln.Addr().String())
	}
	err = g.Wait()
	log.Info("collector_stopped", zap.Error(err))
	return err
}

// TLSConfig loads the configured certificate (or the self-signed one in the
// data directory, created on first start) and, for mutual TLS, the client CA.
func TLSConfig(c *config.Config, log *zap.Logger) (*tls.Config, error) {
	certFile, keyFile := c.TLS.Cert, c.TLS.Key
	if certFile == "" {
		var created bool
		var err error
		certFile, keyFile, created, err = EnsureSelfSigned(c.DataDir, c.Listen, time.Now())
		if err != nil {
			return nil, err
		}
		if created {
			log.Warn("self_signed_certificate_created", zap.String("cert", certFile),
				zap.String("hint", "agents must pin or trust this certificate; configure tls.cert/tls.key for production"))
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if c.TLS.ClientCA != "" {
		pem, err := os.ReadFile(c.TLS.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("read client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA %s: no PEM certificates", c.TLS.ClientCA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return tc, nil
}

// NewToken returns a random 32-byte base64url token (REST API tokens).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// colocationNets converts the co-location config for the server.
func colocationNets(c config.Colocation) ([]server.OfficeNetwork, []*net.IPNet, error) {
	var offices []server.OfficeNetwork
	for _, o := range c.OfficeNetworks {
		on := server.OfficeNetwork{Name: o.Name, GatewayMACs: o.GatewayMACs, BSSIDs: o.BSSIDs, SSIDs: o.SSIDs}
		for _, p := range o.Egress {
			n, err := config.ParsePrefix(p)
			if err != nil {
				return nil, nil, fmt.Errorf("colocation.office_networks %s: %w", o.Name, err)
			}
			on.Egress = append(on.Egress, n)
		}
		offices = append(offices, on)
	}
	var vpn []*net.IPNet
	for _, p := range c.VPNEgress {
		n, err := config.ParsePrefix(p)
		if err != nil {
			return nil, nil, fmt.Errorf("colocation.vpn_egress: %w", err)
		}
		vpn = append(vpn, n)
	}
	return offices, vpn, nil
}

// EgressRegions turns inventory.egress_networks into the server's form.
func EgressRegions(c config.Inventory) ([]server.EgressRegion, error) {
	var out []server.EgressRegion
	for _, e := range c.EgressNetworks {
		r := server.EgressRegion{Name: e.Name, Country: strings.ToUpper(e.Country)}
		for _, p := range e.Networks {
			n, err := config.ParsePrefix(p)
			if err != nil {
				return nil, fmt.Errorf("inventory.egress_networks %s: %w", e.Name, err)
			}
			r.Nets = append(r.Nets, n)
		}
		out = append(out, r)
	}
	return out, nil
}
