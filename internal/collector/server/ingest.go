package server

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

// EnrollRequest is the body of POST /api/v1/enroll.
type EnrollRequest struct {
	EnrollSecret string      `json:"enroll_secret"`
	Host         report.Host `json:"host"`
	AgentVersion string      `json:"agent_version"`
}

// EnrollResponse answers a successful enrollment.
type EnrollResponse struct {
	HostID     string `json:"host_id"`
	Credential string `json:"credential"`
	// FleetKey (hex) is what the agent hashes its network identity with.
	FleetKey string `json:"fleet_key"`
}

// IngestRequest is the body of POST /api/v1/ingest.
type IngestRequest struct {
	Host  report.Host  `json:"host"`
	Batch []store.Item `json:"batch"`
}

// IngestResponse answers an ingest.
type IngestResponse struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// MaxBatchItems bounds one batch.
const MaxBatchItems = 10000

var (
	findingIDRe = regexp.MustCompile(`^[0-9a-f]{24}$`)
	ruleRe      = regexp.MustCompile(`^[a-z0-9_-]+(\.[a-z0-9_-]+)+$`)
	toolRe      = regexp.MustCompile(`^[a-z0-9._-]*$`)
	events      = map[string]bool{"": true, "sleep": true, "wake": true, "stop": true, "uninstall": true}
)

func validHostID(id string) error {
	if id == "" {
		return errors.New("host.id is empty")
	}
	if len(id) > 256 {
		return errors.New("host.id is longer than 256 bytes")
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return errors.New("host.id contains control characters")
		}
	}
	return nil
}

func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	var req EnrollRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		s.m.enrolls.WithLabelValues("too_large").Inc()
		writeError(w, http.StatusRequestEntityTooLarge, "enroll request too large")
		return
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.m.enrolls.WithLabelValues("bad_request").Inc()
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	if !s.secretOK(req.EnrollSecret) {
		s.m.enrolls.WithLabelValues("unauthorized").Inc()
		s.o.Log.Warn("enroll_rejected", zap.String("remote", r.RemoteAddr), zap.String("host_id", req.Host.ID))
		writeError(w, http.StatusUnauthorized, "invalid enroll secret")
		return
	}
	if err := validHostID(req.Host.ID); err != nil {
		s.m.enrolls.WithLabelValues("bad_request").Inc()
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		writeError(w, http.StatusInternalServerError, "no randomness")
		return
	}
	cred := base64.RawURLEncoding.EncodeToString(tok)
	if err := s.o.Store.Enroll(r.Context(), req.Host, req.AgentVersion, HashToken(cred), s.o.Now()); err != nil {
		s.storeError(w, err, "enroll")
		return
	}
	s.m.enrolls.WithLabelValues("ok").Inc()
	s.o.Log.Info("host_enrolled", zap.String("host_id", req.Host.ID), zap.String("host_name", req.Host.Name), zap.String("agent_version", req.AgentVersion))
	writeJSON(w, http.StatusOK, EnrollResponse{HostID: req.Host.ID, Credential: cred, FleetKey: hex.EncodeToString(s.coloc.key)})
}

func (s *Server) secretOK(got string) bool {
	ok := false
	for _, want := range s.o.EnrollSecrets {
		if want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
			ok = true
		}
	}
	return ok
}

func (s *Server) storeError(w http.ResponseWriter, err error, what string) {
	if errors.Is(err, store.ErrBusy) {
		w.Header().Set("Retry-After", "2")
		writeError(w, http.StatusServiceUnavailable, "database busy, retry later")
		return
	}
	s.o.Log.Error(what+"_failed", zap.Error(err))
	writeError(w, http.StatusInternalServerError, what+" failed")
}

// statusWriter remembers the status code for metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) ingest(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	defer func() {
		s.m.requests.WithLabelValues(strconv.Itoa(sw.code)).Inc()
		s.m.duration.Observe(time.Since(start).Seconds())
	}()
	// Overload: wait briefly for a slot, then tell the agent when to retry.
	t := time.NewTimer(s.o.QueueWait)
	select {
	case s.sem <- struct{}{}:
		t.Stop()
	case <-t.C:
		sw.Header().Set("Retry-After", "5")
		writeError(sw, http.StatusServiceUnavailable, "collector overloaded, retry later")
		return
	case <-r.Context().Done():
		t.Stop()
		writeError(sw, http.StatusServiceUnavailable, "request cancelled")
		return
	}
	s.m.inflight.Inc()
	defer func() { <-s.sem; s.m.inflight.Dec() }()
	s.ingestLocked(sw, r)
}

func (s *Server) ingestLocked(w http.ResponseWriter, r *http.Request) {
	authHost, mtls, ok := s.agentAuth(w, r)
	if !ok {
		return
	}
	body, code, msg := s.readBody(w, r)
	if code != 0 {
		writeError(w, code, msg)
		return
	}
	var req IngestRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	if err := validHostID(req.Host.ID); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Host.ID != authHost {
		how := "credential"
		if mtls {
			how = "client certificate"
		}
		s.o.Log.Warn("ingest_forbidden", zap.String("auth_host", authHost), zap.String("claimed_host", req.Host.ID), zap.String("remote", r.RemoteAddr))
		writeError(w, http.StatusForbidden, "the "+how+" belongs to another host than "+strconv.Quote(req.Host.ID))
		return
	}
	if err := validateBatch(&req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	egress := s.egress(r)
	if s.quietOffice(req.Host.ID, req.Batch) {
		egress = ""
	}
	s.noteEgressRegion(ctx, req.Host.ID, r)
	res, err := s.o.Store.Ingest(ctx, store.Batch{Host: req.Host, Items: req.Batch, Egress: egress}, s.o.Now(), s.o.Policy)
	if err != nil {
		s.storeError(w, err, "ingest")
		return
	}
	s.countItems(res)
	s.agentGauges(req.Host.ID, req.Batch)
	for _, a := range res.Widened {
		s.o.Log.Info("alert_widened", zap.String("alert", a.DedupKey), zap.String("kind", a.Kind), zap.Strings("hosts", a.Hosts), zap.String("title", a.Title))
		if s.o.OnAlert != nil {
			s.o.OnAlert(a)
		}
	}
	for _, a := range res.Alerts {
		s.m.alerts.WithLabelValues(a.Kind).Inc()
		s.o.Log.Info("alert_raised", zap.String("alert", a.ID), zap.String("kind", a.Kind), zap.String("severity", a.Severity.String()), zap.Strings("hosts", a.Hosts), zap.String("title", a.Title))
		if s.o.OnAlert != nil {
			s.o.OnAlert(a)
		}
	}
	writeJSON(w, http.StatusOK, IngestResponse{Accepted: res.Accepted, Duplicates: res.Duplicates})
}

func (s *Server) countItems(res store.IngestResult) {
	for k, n := range res.AcceptedKinds {
		s.m.items.WithLabelValues("accepted", k).Add(float64(n))
	}
	for k, n := range res.DuplicateKinds {
		s.m.items.WithLabelValues("duplicate", k).Add(float64(n))
	}
}

// agentGauges sets the host's capture and spool gauges from the batch's
// newest heartbeat.
func (s *Server) agentGauges(hostID string, items []store.Item) {
	var hb *store.Heartbeat
	var seq int64
	for i := range items {
		if it := &items[i]; it.Kind == store.KindHeartbeat && it.Heartbeat != nil && (hb == nil || it.Seq > seq) {
			hb, seq = it.Heartbeat, it.Seq
		}
	}
	if hb == nil {
		return
	}
	for _, c := range hb.Capture {
		for name, v := range map[string]uint64{"packets": c.Packets, "kernel_packets": c.KernelPackets, "kernel_drops": c.KernelDrops,
			"kernel_freezes": c.KernelFreezes, "pauses": c.Pauses, "bypassed_flows": c.BypassedFlows} {
			s.m.capture.WithLabelValues(hostID, c.Interface, name).Set(float64(v))
		}
	}
	for name, v := range map[string]int64{"pending": hb.SpoolPending, "pending_bytes": hb.SpoolPendingBytes, "bytes": hb.SpoolBytes, "dropped": hb.SpoolDropped} {
		s.m.spool.WithLabelValues(hostID, name).Set(float64(v))
	}
}

// agentAuth authenticates an agent by verified client certificate (CN =
// host id) or bearer credential and returns its host id.
func (s *Server) agentAuth(w http.ResponseWriter, r *http.Request) (string, bool, bool) {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		cn := r.TLS.VerifiedChains[0][0].Subject.CommonName
		if cn != "" {
			return cn, true, true
		}
	}
	authz := r.Header.Get("Authorization")
	scheme, tok, found := strings.Cut(authz, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="farmwatch"`)
		writeError(w, http.StatusUnauthorized, "missing bearer credential")
		return "", false, false
	}
	id, err := s.o.Store.HostForCredential(r.Context(), HashToken(strings.TrimSpace(tok)))
	if errors.Is(err, store.ErrNotFound) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="farmwatch", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid credential")
		return "", false, false
	}
	if err != nil {
		s.storeError(w, err, "authenticate")
		return "", false, false
	}
	return id, false, true
}

// readBody reads the (optionally gzip-compressed) body, bounded before and
// after decompression.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	limit := s.o.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge, "request body over " + strconv.FormatInt(limit, 10) + " bytes"
	}
	var rd io.Reader = http.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(rd)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, http.StatusRequestEntityTooLarge, "request body over limit"
			}
			return nil, http.StatusBadRequest, "bad gzip body: " + err.Error()
		}
		defer gz.Close()
		rd = gz
	default:
		return nil, http.StatusUnsupportedMediaType, "unsupported Content-Encoding " + strconv.Quote(enc)
	}
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, "request body over " + strconv.FormatInt(limit, 10) + " bytes"
		}
		return nil, http.StatusBadRequest, "reading body: " + err.Error()
	}
	if int64(len(b)) > limit {
		return nil, http.StatusRequestEntityTooLarge, "decompressed body over " + strconv.FormatInt(limit, 10) + " bytes"
	}
	return b, 0, ""
}

func validateBatch(req *IngestRequest) error {
	if len(req.Batch) > MaxBatchItems {
		return errf("batch has %d items, at most %d", len(req.Batch), MaxBatchItems)
	}
	for i := range req.Batch {
		it := &req.Batch[i]
		if it.Seq < 0 {
			return errf("batch[%d]: seq %d is negative", i, it.Seq)
		}
		switch it.Kind {
		case store.KindFinding:
			f := it.Finding
			if f == nil {
				return errf("batch[%d] seq %d: kind finding without finding", i, it.Seq)
			}
			if f.Host.ID == "" {
				f.Host = req.Host
			}
			if f.Host.ID != req.Host.ID {
				return errf("batch[%d] seq %d: finding is about host %q, not %q", i, it.Seq, f.Host.ID, req.Host.ID)
			}
			if err := f.Validate(); err != nil {
				return errf("batch[%d] seq %d: invalid finding: %v", i, it.Seq, err)
			}
			switch {
			case !findingIDRe.MatchString(f.ID):
				return errf("batch[%d] seq %d: finding id %q is not 24 lowercase hex digits", i, it.Seq, f.ID)
			case !ruleRe.MatchString(f.Rule):
				return errf("batch[%d] seq %d: invalid rule %q", i, it.Seq, f.Rule)
			case !toolRe.MatchString(f.Tool):
				return errf("batch[%d] seq %d: invalid tool %q", i, it.Seq, f.Tool)
			case f.Time.IsZero():
				return errf("batch[%d] seq %d: finding %s has no time", i, it.Seq, f.ID)
			case f.Count < 0:
				return errf("batch[%d] seq %d: negative count", i, it.Seq)
			}
		case store.KindHeartbeat:
			h := it.Heartbeat
			if h == nil {
				return errf("batch[%d] seq %d: kind heartbeat without heartbeat", i, it.Seq)
			}
			if !events[h.Event] {
				return errf("batch[%d] seq %d: unknown heartbeat event %q", i, it.Seq, h.Event)
			}
			if h.IntervalSeconds < 0 {
				return errf("batch[%d] seq %d: negative interval_seconds", i, it.Seq)
			}
			if len(h.Serial) > 128 || strings.ContainsFunc(h.Serial, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return errf("batch[%d] seq %d: invalid serial", i, it.Seq)
			}
		default:
			return errf("batch[%d] seq %d: unknown kind %q (want finding or heartbeat)", i, it.Seq, it.Kind)
		}
	}
	return nil
}
