package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

	"github.com/farmwatch/farmwatch/internal/collector/store"
)

const (
	sessionCookie    = "fw_session"
	loginCSRFCookie  = "fw_login"
	csrfField        = "csrf"
	csrfHeader       = "X-CSRF-Token"
	apiTokenPrefixed = "token:"
)

type ctxKey struct{}

// principal is who is making a web or REST request.
type principal struct {
	User string
	CSRF string // "" when CSRF does not apply (API token)
}

func userOf(r *http.Request) principal {
	p, _ := r.Context().Value(ctxKey{}).(principal)
	return p
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never returns an error (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashPassword bcrypts a password for a local account.
func HashPassword(pw string) (string, error) {
	if len(pw) < 8 {
		return "", errors.New("password shorter than 8 characters")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return "", errf("hash password: %w", err)
	}
	return string(h), nil
}

var (
	dummyOnce sync.Once
	dummy     []byte
)

// dummyHash is compared against for unknown users, at the same cost as
// real hashes, so response time does not reveal which names exist.
func dummyHash() []byte {
	dummyOnce.Do(func() {
		dummy, _ = bcrypt.GenerateFromPassword([]byte("farmwatch-dummy-password"), bcrypt.DefaultCost)
	})
	return dummy
}

// authenticate resolves the request's user from an API token, a session
// cookie or the trusted proxy header.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, allowToken bool) (principal, bool) {
	ctx := r.Context()
	if allowToken {
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			name, err := s.o.Store.APIToken(ctx, HashToken(strings.TrimSpace(tok)))
			if err != nil {
				return principal{}, false
			}
			return principal{User: apiTokenPrefixed + name}, true
		}
	}
	var sess store.Session
	var haveSession bool
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if got, err := s.o.Store.Session(ctx, HashToken(c.Value), s.o.Now()); err == nil {
			sess, haveSession = got, true
		}
	}
	if proxyUser := s.proxyUser(r); proxyUser != "" {
		if haveSession && sess.User == proxyUser {
			return principal{User: sess.User, CSRF: sess.CSRF}, true
		}
		// The proxy vouches for the user: open a session for CSRF.
		sess, err := s.newSession(w, r, proxyUser)
		if err != nil {
			s.o.Log.Error("session_failed", zap.Error(err))
			return principal{}, false
		}
		return principal{User: proxyUser, CSRF: sess.CSRF}, true
	}
	if s.o.AuthHeader != "" && r.Header.Get(s.o.AuthHeader) != "" && !s.fromTrustedProxy(r) {
		s.o.Log.Warn("untrusted_auth_header", zap.String("remote", r.RemoteAddr))
	}
	if haveSession {
		return principal{User: sess.User, CSRF: sess.CSRF}, true
	}
	return principal{}, false
}

func (s *Server) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, n := range s.o.TrustedProxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

func (s *Server) proxyUser(r *http.Request) string {
	if s.o.AuthHeader == "" || !s.fromTrustedProxy(r) {
		return ""
	}
	u := strings.TrimSpace(r.Header.Get(s.o.AuthHeader))
	if len(u) > 256 || strings.ContainsAny(u, "\r\n") {
		return ""
	}
	return u
}

// secure reports whether cookies get the Secure flag: when the collector
// serves TLS itself, or a trusted proxy says the client used HTTPS.
func (s *Server) secure(r *http.Request) bool {
	return s.o.TLS || r.TLS != nil || (s.fromTrustedProxy(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

func (s *Server) newSession(w http.ResponseWriter, r *http.Request, user string) (store.Session, error) {
	tok := randomToken()
	sess := store.Session{User: user, CSRF: randomToken(), ExpiresAt: s.o.Now().Add(s.o.SessionTTL)}
	if err := s.o.Store.CreateSession(r.Context(), HashToken(tok), sess, s.o.Now()); err != nil {
		return sess, err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.o.SessionTTL.Seconds())})
	return sess, nil
}

func (s *Server) csrfOK(r *http.Request, p principal) bool {
	if p.CSRF == "" {
		return strings.HasPrefix(p.User, apiTokenPrefixed)
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRF)) == 1
}

// page wraps a web page handler: login required (redirect), CSRF on POST.
func (s *Server) page(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.authenticate(w, r, false)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "login required", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !s.csrfOK(r, p) {
				http.Error(w, "invalid CSRF token", http.StatusForbidden)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
	})
}

// api wraps a REST handler: session (with CSRF on POST) or API token.
func (s *Server) api(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.authenticate(w, r, true)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="farmwatch-api"`)
			writeError(w, http.StatusUnauthorized, "login or API token required")
			return
		}
		if r.Method == http.MethodPost && !s.csrfOK(r, p) {
			writeError(w, http.StatusForbidden, "invalid CSRF token (send the X-CSRF-Token header)")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
	})
}

func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, "", http.StatusOK)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, msg string, code int) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, code, "login", map[string]any{"CSRF": tok, "Next": safeNext(r.FormValue("next")), "Error": msg, "ProxyAuth": s.o.AuthHeader != ""})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := r.Cookie(loginCSRFCookie)
	form := r.PostFormValue(csrfField)
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
		s.renderLogin(w, r, "Your login form expired; please try again.", http.StatusForbidden)
		return
	}
	name, pw := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password")
	u, err := s.o.Store.User(r.Context(), name)
	hash := []byte(u.PasswordHash)
	if err != nil {
		hash = dummyHash() // same work for unknown users
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pw)) != nil || err != nil {
		s.o.Log.Warn("login_failed", zap.String("user", name), zap.String("remote", r.RemoteAddr))
		s.renderLogin(w, r, "Wrong user name or password.", http.StatusUnauthorized)
		return
	}
	if _, err := s.newSession(w, r, name); err != nil {
		s.o.Log.Error("session_failed", zap.Error(err))
		http.Error(w, "could not create session", http.StatusInternalServerError)
		return
	}
	s.o.Log.Info("login", zap.String("user", name), zap.String("remote", r.RemoteAddr))
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.o.Store.DeleteSession(r.Context(), HashToken(c.Value)); err != nil {
			s.o.Log.Warn("logout_failed", zap.Error(err))
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) hostsPage(w http.ResponseWriter, r *http.Request) {
	d, open, err := s.fleet(r.Context())
	if err != nil {
		s.pageError(w, err)
		return
	}
	s.render(w, http.StatusOK, "hosts", map[string]any{"P": userOf(r), "Hosts": d.Hosts, "Farms": len(d.Farms), "OpenAlerts": len(open), "Now": s.o.Now()})
}

func (s *Server) fleetPage(w http.ResponseWriter, r *http.Request) {
	d, open, err := s.fleet(r.Context())
	if err != nil {
		s.pageError(w, err)
		return
	}
	inFarms := 0
	for _, f := range d.Farms {
		inFarms += len(f.Hosts)
	}
	s.render(w, http.StatusOK, "fleet", map[string]any{"P": userOf(r), "Farms": d.Farms, "HostCount": len(d.Hosts), "InFarms": inFarms, "OpenAlerts": len(open), "Now": s.o.Now()})
}

func (s *Server) inventoryPage(w http.ResponseWriter, r *http.Request) {
	inv, err := s.inventoryResponse(r.Context())
	if err != nil {
		s.pageError(w, err)
		return
	}
	s.render(w, http.StatusOK, "inventory", map[string]any{"P": userOf(r), "Inv": inv, "Now": s.o.Now()})
}

func (s *Server) hostPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	h, err := s.o.Store.Host(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.pageError(w, err)
		return
	}
	fs, err := s.o.Store.Findings(r.Context(), id, false)
	if err != nil {
		s.pageError(w, err)
		return
	}
	evs, err := s.o.Store.Timeline(r.Context(), id, 200)
	if err != nil {
		s.pageError(w, err)
		return
	}
	d, _, err := s.fleet(r.Context())
	if err != nil {
		s.pageError(w, err)
		return
	}
	row := d.byID[id]
	if row == nil {
		row = &hostRow{Host: h, Label: label(h)}
	}
	s.render(w, http.StatusOK, "host", map[string]any{"P": userOf(r), "Host": h, "Row": row, "Findings": fs, "Timeline": timelineRows(evs), "Now": s.o.Now()})
}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	as, err := s.o.Store.Alerts(r.Context(), status, 500)
	if err != nil {
		s.pageError(w, err)
		return
	}
	hosts, err := s.o.Store.Hosts(r.Context())
	if err != nil {
		s.pageError(w, err)
		return
	}
	d := &fleetData{byID: map[string]*hostRow{}}
	for _, h := range hosts {
		d.byID[h.ID] = &hostRow{Host: h, Label: label(h)}
	}
	rows := make([]alertRow, 0, len(as))
	for _, a := range as {
		last, err := s.o.Store.AlertLastSeen(r.Context(), a)
		if err != nil {
			s.pageError(w, err)
			return
		}
		rows = append(rows, alertRow{Alert: a, HostRefs: d.refs(a.Hosts), LastSeen: last})
	}
	s.render(w, http.StatusOK, "alerts", map[string]any{"P": userOf(r), "Alerts": rows, "Status": status, "Now": s.o.Now()})
}

func actionStatus(action string) (string, bool) {
	switch action {
	case "ack", "acknowledge":
		return store.StatusAcked, true
	case "close":
		return store.StatusClosed, true
	}
	return "", false
}

func (s *Server) alertAction(w http.ResponseWriter, r *http.Request) {
	status, ok := actionStatus(r.PathValue("action"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	id := r.PathValue("id")
	err := s.o.Store.SetAlertStatus(r.Context(), id, status, userOf(r).User, s.o.Now())
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.pageError(w, err)
		return
	}
	s.o.Log.Info("alert_"+r.PathValue("action"), zap.String("alert", id), zap.String("user", userOf(r).User))
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) closeFindingForm(w http.ResponseWriter, r *http.Request) {
	id, fid := r.PathValue("id"), r.PathValue("fid")
	err := s.o.Store.CloseFinding(r.Context(), id, fid, userOf(r).User, s.o.Now())
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.pageError(w, err)
		return
	}
	http.Redirect(w, r, "/hosts/"+url.PathEscape(id), http.StatusSeeOther)
}

func (s *Server) pageError(w http.ResponseWriter, err error) {
	s.o.Log.Error("page_failed", zap.Error(err))
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// REST API.

func (s *Server) apiHosts(w http.ResponseWriter, r *http.Request) {
	hosts, err := s.o.Store.Hosts(r.Context())
	if err != nil {
		s.storeError(w, err, "list hosts")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"hosts": hosts})
}

// pathHost returns the host named by the request's {id}, or answers 404 (or
// the store's error) and reports false.
func (s *Server) pathHost(w http.ResponseWriter, r *http.Request) (store.Host, bool) {
	h, err := s.o.Store.Host(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such host")
		return h, false
	}
	if err != nil {
		s.storeError(w, err, "get host")
		return h, false
	}
	return h, true
}

func (s *Server) apiHost(w http.ResponseWriter, r *http.Request) {
	h, ok := s.pathHost(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.o.Store.Host(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such host")
		return
	}
	fs, err := s.o.Store.Findings(r.Context(), id, r.URL.Query().Get("status") == "open")
	if err != nil {
		s.storeError(w, err, "list findings")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"host_id": id, "findings": fs})
}

func (s *Server) apiTimeline(w http.ResponseWriter, r *http.Request) {
	limit := 200
	if v, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && v > 0 && v <= 5000 {
		limit = v
	}
	evs, err := s.o.Store.Timeline(r.Context(), r.PathValue("id"), limit)
	if err != nil {
		s.storeError(w, err, "timeline")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"host_id": r.PathValue("id"), "events": evs})
}

func (s *Server) apiCloseFinding(w http.ResponseWriter, r *http.Request) {
	err := s.o.Store.CloseFinding(r.Context(), r.PathValue("id"), r.PathValue("fid"), userOf(r).User, s.o.Now())
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such finding")
		return
	}
	if err != nil {
		s.storeError(w, err, "close finding")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": store.StatusClosed})
}

func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	if status == "open" {
		status = ""
	}
	switch status {
	case "", "all", store.StatusAcked, store.StatusClosed:
	default:
		writeError(w, http.StatusBadRequest, "status must be open, acknowledged, closed or all")
		return
	}
	as, err := s.o.Store.Alerts(r.Context(), status, 1000)
	if err != nil {
		s.storeError(w, err, "list alerts")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": as})
}

func (s *Server) apiAlert(w http.ResponseWriter, r *http.Request) {
	a, err := s.o.Store.Alert(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such alert")
		return
	}
	if err != nil {
		s.storeError(w, err, "get alert")
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) apiAlertAction(w http.ResponseWriter, r *http.Request) {
	status, ok := actionStatus(r.PathValue("action"))
	if !ok {
		writeError(w, http.StatusNotFound, "unknown action (want ack or close)")
		return
	}
	id := r.PathValue("id")
	err := s.o.Store.SetAlertStatus(r.Context(), id, status, userOf(r).User, s.o.Now())
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such alert")
		return
	}
	if err != nil {
		s.storeError(w, err, "update alert")
		return
	}
	a, err := s.o.Store.Alert(r.Context(), id)
	if err != nil {
		s.storeError(w, err, "get alert")
		return
	}
	s.o.Log.Info("alert_"+r.PathValue("action"), zap.String("alert", id), zap.String("user", userOf(r).User))
	writeJSON(w, http.StatusOK, a)
}
