package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"regexp"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

var sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)

// apiAttachPcap attaches an offline capture analysis to a fleet host:
// POST /api/v1/hosts/{id}/pcap with the output of `farmwatch-agent pcap
// --format json` (JSON Lines; gzip allowed) as the body. Each finding is
// stored on the host like a live one (alerts, correlation, risk), marked
// with its source (kind pcap, file name, SHA-256: from the agent's output,
// or the file and sha256 query parameters when it has none). Attaching the
// same capture again changes nothing: its items are keyed by the capture's
// hash and finding id.
func (s *Server) apiAttachPcap(w http.ResponseWriter, r *http.Request) {
	h, ok := s.pathHost(w, r)
	if !ok {
		return
	}
	body, code, msg := s.readBody(w, r)
	if code != 0 {
		writeError(w, code, msg)
		return
	}
	q := r.URL.Query()
	fs, err := parsePcapFindings(body, q.Get("file"), q.Get("sha256"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	host := report.Host{ID: h.ID, Name: h.Name}
	req := IngestRequest{Host: host}
	for i := range fs {
		f := &fs[i]
		f.Host = host
		req.Batch = append(req.Batch, store.Item{Seq: int64(i + 1), Kind: store.KindFinding, Finding: f})
	}
	if err := validateBatch(&req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// Offline items take negative sequence numbers (the agent's are ≥ 0),
	// derived from the capture and finding, so a re-upload is a duplicate.
	for i := range req.Batch {
		f := req.Batch[i].Finding
		hs := fnv.New64a()
		hs.Write([]byte(f.Source.SHA256 + "\x00" + f.Source.File + "\x00" + f.ID))
		req.Batch[i].Seq = -int64(hs.Sum64()>>2) - 1
	}
	res, err := s.o.Store.Ingest(r.Context(), store.Batch{Host: host, Items: req.Batch}, s.o.Now(), s.o.Policy)
	if err != nil {
		s.storeError(w, err, "attach pcap")
		return
	}
	s.countItems(res)
	s.o.Log.Info("pcap_attached", zap.String("host_id", host.ID), zap.String("file", fs[0].Source.File), zap.String("sha256", fs[0].Source.SHA256),
		zap.Int("findings", len(fs)), zap.Int("accepted", res.Accepted), zap.String("by", userOf(r).User))
	for _, a := range res.Widened {
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

// parsePcapFindings reads `pcap --format json` output: one finding per line.
// Every finding gets a pcap source (file and sha256 filled from the
// arguments when the line has none); at least one finding is required.
func parsePcapFindings(body []byte, file, sum string) ([]report.Finding, error) {
	if sum != "" && !sha256Re.MatchString(sum) {
		return nil, errf("sha256 %q is not 64 lowercase hex digits", sum)
	}
	var out []report.Finding
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), len(body)+1)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(out) >= MaxBatchItems {
			return nil, errf("more than %d findings", MaxBatchItems)
		}
		var f report.Finding
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, errf("line %d: not a finding: %v", line, err)
		}
		if f.Source == nil {
			f.Source = &report.FindingSource{Kind: "pcap"}
		}
		if f.Source.Kind != "pcap" {
			return nil, errf("line %d: source kind %q, want pcap", line, f.Source.Kind)
		}
		if f.Source.File == "" {
			f.Source.File = file
		}
		if f.Source.SHA256 == "" {
			f.Source.SHA256 = sum
		}
		if f.Source.SHA256 != "" && !sha256Re.MatchString(f.Source.SHA256) {
			return nil, errf("line %d: sha256 %q is not 64 lowercase hex digits", line, f.Source.SHA256)
		}
		if f.Source.File == "" && f.Source.SHA256 == "" {
			return nil, errf("line %d: the capture is not named (no source file or sha256; pass ?file=NAME&sha256=HEX)", line)
		}
		f.Update, f.Ended = false, false
		out = append(out, f)
	}
	if err := sc.Err(); err != nil {
		return nil, errf("reading findings: %v", err)
	}
	if len(out) == 0 {
		return nil, errf("no findings in the body (want the output of farmwatch-agent pcap --format json)")
	}
	return out, nil
}
