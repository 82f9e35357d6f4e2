// Package server is the collector's HTTP surface: the agent ingest API
// (enroll, ingest; bearer credentials or mutual TLS), the security team's
// server-rendered web pages and the REST API behind a login (local bcrypt
// accounts with session cookies and CSRF tokens, or a trusted reverse-proxy
// header), and Prometheus /metrics.
package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/collector/alert"
	"github.com/farmwatch/farmwatch/internal/collector/inventory"
	"github.com/farmwatch/farmwatch/internal/collector/store"
)

// Options configure a Server.
type Options struct {
	Store  *store.Store
	Policy *alert.Policy
	Log    *zap.Logger
	Now    func() time.Time // default time.Now
	// EnrollSecrets accepted by /api/v1/enroll; none disables enrollment.
	EnrollSecrets []string
	MaxBodyBytes  int64 // decompressed ingest body limit (default 4 MiB)
	MaxInflight   int   // concurrent ingest requests (default 32)
	// QueueWait is how long an ingest request waits for a slot before 503.
	QueueWait time.Duration
	// TLS marks cookies Secure.
	TLS bool
	// AuthHeader (e.g. X-Forwarded-User) is trusted from TrustedProxies.
	AuthHeader     string
	TrustedProxies []*net.IPNet
	SessionTTL     time.Duration
	// Registry receives the metrics (default: a new registry with Go and
	// process collectors).
	Registry *prometheus.Registry
	// OnAlert is told of every alert ingest raises (e.g. the dispatcher's
	// Wake); it must not block.
	OnAlert func(store.Alert)
	Version string
	// Offices and VPNEgress are the expected shared networks: they never
	// raise co-location. ClientIPHeader names the header carrying an
	// agent's address, trusted from TrustedProxies only.
	Offices        []OfficeNetwork
	VPNEgress      []*net.IPNet
	ClientIPHeader string
	// Inventory maps MDM export columns to expected regions; EgressRegions
	// are networks whose country is known (no geolocation database is
	// used): an agent connecting from one is checked against its user's
	// expected country.
	Inventory     inventory.Mapping
	EgressRegions []EgressRegion
}

// Server serves the collector's HTTP endpoints.
type Server struct {
	o     Options
	sem   chan struct{}
	m     *metrics
	mux   *http.ServeMux
	pages *pages
	coloc *colocation
}

type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	items      *prometheus.CounterVec
	duration   prometheus.Histogram
	inflight   prometheus.Gauge
	enrolls    *prometheus.CounterVec
	alerts     *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	networks   *prometheus.CounterVec
	capture    *prometheus.GaugeVec
	spool      *prometheus.GaugeVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "farmwatch_ingest_requests_total",
			Help: "Ingest requests by HTTP status code."}, []string{"code"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "farmwatch_ingest_items_total",
			Help: "Ingested batch items by result (accepted, duplicate) and kind."}, []string{"result", "kind"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "farmwatch_ingest_duration_seconds",
			Help: "Ingest request latency.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "farmwatch_ingest_inflight", Help: "Ingest requests being processed."}),
		enrolls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "farmwatch_enroll_requests_total",
			Help: "Enrollment requests by result."}, []string{"result"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "farmwatch_alerts_raised_total",
			Help: "Alerts raised by kind."}, []string{"kind"}),
		networks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "farmwatch_heartbeat_networks_total",
			Help: "Heartbeats carrying a network identity, by whether it is a configured office network."}, []string{"network"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "farmwatch_alert_deliveries_total",
			Help: "Alert delivery attempts by sink and result."}, []string{"sink", "result"}),
	}
	m.capture = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "farmwatch_agent_capture",
		Help: "Each host's live-capture counters from its latest heartbeat (since the capture started): packets analysed, kernel_packets, kernel_drops, kernel_freezes, pauses."},
		[]string{"host", "interface", "counter"})
	m.spool = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "farmwatch_agent_spool",
		Help: "Each host's spool from its latest heartbeat: pending records, pending_bytes (not yet delivered), bytes on disk, dropped records."},
		[]string{"host", "what"})
	reg.MustRegister(m.requests, m.items, m.duration, m.inflight, m.enrolls, m.alerts, m.deliveries, m.networks, m.capture, m.spool)
	return m
}

// New builds a server.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Policy == nil {
		return nil, errors.New("server: store and policy are required")
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 4 << 20
	}
	if o.MaxInflight <= 0 {
		o.MaxInflight = 32
	}
	if o.QueueWait <= 0 {
		o.QueueWait = 2 * time.Second
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	p, err := newPages()
	if err != nil {
		return nil, err
	}
	coloc, err := newColocation(context.Background(), o)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, sem: make(chan struct{}, o.MaxInflight), m: newMetrics(o.Registry), mux: http.NewServeMux(), pages: p, coloc: coloc}
	s.routes()
	return s, nil
}

// DeliveryMetrics returns hooks that count alert deliveries in /metrics.
func (s *Server) DeliveryMetrics() alert.Metrics {
	return alert.Metrics{
		Delivered: func(sink string) { s.m.deliveries.WithLabelValues(sink, "delivered").Inc() },
		Failed:    func(sink string) { s.m.deliveries.WithLabelValues(sink, "failed").Inc() },
	}
}

// AlertRaised counts an alert raised outside ingest (a silent host, found
// by the silence checker) in farmwatch_alerts_raised_total, like the alerts
// ingest raises.
func (s *Server) AlertRaised(a store.Alert) {
	s.m.alerts.WithLabelValues(a.Kind).Inc()
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
		s.mux.ServeHTTP(w, r)
	})
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("POST /api/v1/enroll", s.enroll)
	m.HandleFunc("POST /api/v1/ingest", s.ingest)
	m.HandleFunc("GET /api/v1/fleet-key", s.fleetKey)
	m.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	m.HandleFunc("GET /healthz", s.healthz)
	m.Handle("GET /api/v1/inventory", s.api(s.apiInventory))
	m.Handle("POST /api/v1/inventory", s.api(s.apiImportInventory))
	m.Handle("PUT /api/v1/inventory", s.api(s.apiImportInventory))

	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.Handle("POST /logout", s.page(s.logout))
	m.Handle("GET /{$}", s.page(s.hostsPage))
	m.Handle("GET /hosts/{id}", s.page(s.hostPage))
	m.Handle("GET /fleet", s.page(s.fleetPage))
	m.Handle("GET /alerts", s.page(s.alertsPage))
	m.Handle("GET /inventory", s.page(s.inventoryPage))
	m.Handle("POST /alerts/{id}/{action}", s.page(s.alertAction))
	m.Handle("POST /hosts/{id}/findings/{fid}/close", s.page(s.closeFindingForm))

	m.Handle("GET /api/v1/hosts", s.api(s.apiHosts))
	m.Handle("GET /api/v1/hosts/{id}", s.api(s.apiHost))
	m.Handle("GET /api/v1/hosts/{id}/findings", s.api(s.apiFindings))
	m.Handle("GET /api/v1/hosts/{id}/timeline", s.api(s.apiTimeline))
	m.Handle("POST /api/v1/hosts/{id}/findings/{fid}/close", s.api(s.apiCloseFinding))
	m.Handle("POST /api/v1/hosts/{id}/pcap", s.api(s.apiAttachPcap))
	m.Handle("GET /api/v1/fleet", s.api(s.apiFleet))
	m.Handle("GET /api/v1/alerts", s.api(s.apiAlerts))
	m.Handle("GET /api/v1/alerts/{id}", s.api(s.apiAlert))
	m.Handle("POST /api/v1/alerts/{id}/{action}", s.api(s.apiAlertAction))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.o.Store.AppliedMigrations(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "database unavailable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) //nolint:errcheck
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// HashToken is the hex SHA-256 under which credentials, sessions and API
// tokens are stored.
func HashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func errf(format string, a ...any) error { return fmt.Errorf(format, a...) }
