package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// alertHook is a webhook receiver (format: json) that records the alerts
// the collector delivers to it.
type alertHook struct {
	*httptest.Server
	mu     sync.Mutex
	alerts []map[string]any
}

// newAlertHook starts a receiver, closed when the test ends.
func newAlertHook(t *testing.T) *alertHook {
	h := &alertHook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Alert map[string]any `json:"alert"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &p); err == nil && p.Alert != nil {
			h.mu.Lock()
			h.alerts = append(h.alerts, p.Alert)
			h.mu.Unlock()
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// Alerts returns the alerts received so far, in delivery order.
func (h *alertHook) Alerts() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.alerts...)
}
