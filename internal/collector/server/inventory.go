package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/collector/inventory"
)

// EgressRegion is a network whose country is known (an office's or a
// regional VPN's public addresses).
type EgressRegion struct {
	Name    string
	Country string
	Nets    []*net.IPNet
}

// noteEgressRegion records which configured egress network (with a country)
// the agent connected from, so the host's score can check it against its
// user's expected country. Without configured networks nothing is stored.
func (s *Server) noteEgressRegion(ctx context.Context, hostID string, r *http.Request) {
	if len(s.o.EgressRegions) == 0 {
		return
	}
	ip := s.clientIP(r)
	name, country := "", ""
	for _, e := range s.o.EgressRegions {
		if ip != nil && inNets(ip, e.Nets) {
			name, country = e.Name, e.Country
			break
		}
	}
	if err := s.o.Store.SetHostEgress(ctx, hostID, name, country, s.o.Now()); err != nil {
		s.o.Log.Warn("egress_region_not_recorded", zap.String("host_id", hostID), zap.Error(err))
	}
}

// InventoryResponse is GET /api/v1/inventory and the answer to an import.
type InventoryResponse struct {
	Format     string `json:"format"`
	Devices    int    `json:"devices"`
	ImportedAt string `json:"imported_at,omitempty"`
	inventory.Matching
}

func (s *Server) inventoryResponse(ctx context.Context) (InventoryResponse, error) {
	m, info, err := s.o.Store.InventoryMatching(ctx)
	if err != nil {
		return InventoryResponse{}, err
	}
	out := InventoryResponse{Format: info.Format, Devices: info.Devices, Matching: m}
	if !info.ImportedAt.IsZero() {
		out.ImportedAt = info.ImportedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	return out, nil
}

func (s *Server) apiInventory(w http.ResponseWriter, r *http.Request) {
	out, err := s.inventoryResponse(r.Context())
	if err != nil {
		s.storeError(w, err, "inventory")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// apiImportInventory replaces the inventory with the export in the body
// (CSV or JSON as Intune, Jamf Pro or Kandji write it).
func (s *Server) apiImportInventory(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut && !s.csrfOK(r, userOf(r)) {
		writeError(w, http.StatusForbidden, "invalid CSRF token (send the X-CSRF-Token header)")
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, inventory.MaxBytes+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "inventory export larger than 64 MiB")
			return
		}
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	imp, err := inventory.Parse(b, s.o.Inventory)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.o.Store.ReplaceInventory(r.Context(), imp, s.o.Now()); err != nil {
		s.storeError(w, err, "import inventory")
		return
	}
	out, err := s.inventoryResponse(r.Context())
	if err != nil {
		s.storeError(w, err, "inventory")
		return
	}
	s.o.Log.Info("inventory_imported", zap.String("by", userOf(r).User), zap.String("format", imp.Format), zap.Int("devices", len(imp.Records)),
		zap.Int("matched", len(out.Matched)), zap.Int("unmatched_records", len(out.UnmatchedRecords)), zap.Int("unmatched_hosts", len(out.UnmatchedHosts)))
	writeJSON(w, http.StatusOK, out)
}
