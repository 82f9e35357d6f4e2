// Package inventory imports who should have each laptop, and where, from
// MDM inventory exports — Microsoft Intune (admin-center Devices export CSV,
// Graph managedDevices JSON), Jamf Pro (computer inventory CSV, Jamf Pro API
// computers-inventory JSON) and Kandji (devices export CSV, API devices JSON)
// — and matches the rows to the collector's hosts by serial number, then
// hostname, then host id. The expected region of each row comes from mapped
// columns (country, time zone, or a location such as a Jamf building mapped
// to a region), configured in the collector's "inventory" section.
// Parsing is strict: a malformed file is an error naming line and field;
// unknown columns are ignored. See docs/inventory.md.
package inventory

import (
	"errors"
	"fmt"
	"strings"

	"github.com/farmwatch/farmwatch/internal/region"
)

// MaxBytes is the largest export accepted.
const MaxBytes = 64 << 20

// MaxRows is the most rows one import may have.
const MaxRows = 500000

// Formats.
const (
	FormatIntune = "intune"
	FormatJamf   = "jamf"
	FormatKandji = "kandji"
	FormatCSV    = "csv" // a CSV with recognised columns but no vendor-specific one
)

// Record is one inventory row: a device and the person it is issued to.
type Record struct {
	// Line is the CSV line (1 = header) or the JSON array index + 1.
	Line   int    `json:"line"`
	Format string `json:"format"`
	// DeviceName is the MDM's device/computer name, matched against the
	// agent's hostname.
	DeviceName string `json:"device_name,omitempty"`
	Serial     string `json:"serial,omitempty"`
	// HostID is a farmwatch host id when the export carries one.
	HostID string `json:"host_id,omitempty"`
	// User is the person's identifier (UPN, e-mail or username);
	// UserName the display name when the export has one.
	User     string `json:"user,omitempty"`
	UserName string `json:"user_name,omitempty"`
	// Country, TimeZone and Location are the raw values of the mapped
	// columns; Region what they resolve to.
	Country  string        `json:"country,omitempty"`
	TimeZone string        `json:"time_zone,omitempty"`
	Location string        `json:"location,omitempty"`
	Region   region.Region `json:"region"`
}

// Person names the user for explanations: "Ada Lovelace <ada@example.com>".
func (r Record) Person() string {
	switch {
	case r.UserName != "" && r.User != "" && !strings.EqualFold(r.UserName, r.User):
		return r.UserName + " <" + r.User + ">"
	case r.User != "":
		return r.User
	case r.UserName != "":
		return r.UserName
	}
	return "(no user assigned)"
}

// Mapping says which columns/fields carry the expected region and how
// values map to regions (collector config key "inventory").
type Mapping struct {
	// CountryFields are column names (CSV) or dotted field paths (JSON)
	// holding an ISO 3166-1 alpha-2 country code.
	CountryFields []string `yaml:"country_fields"`
	// TimeZoneFields hold an IANA time zone.
	TimeZoneFields []string `yaml:"time_zone_fields"`
	// LocationFields hold a location (a building, office, department)
	// looked up in Locations.
	LocationFields []string `yaml:"location_fields"`
	// Locations maps a location value (case-insensitive) to a region.
	Locations map[string]region.Region `yaml:"locations"`
	// Countries overrides/extends the built-in country table.
	Countries map[string]region.Region `yaml:"countries"`
	// Default is the region of rows whose mapped fields are all empty.
	Default region.Region `yaml:"default"`
}

// DefaultMapping is used when the config names no fields.
func DefaultMapping() Mapping {
	return Mapping{
		CountryFields:  []string{"Country", "Country/Region", "country", "countryCode", "user.country", "userAndLocation.country"},
		TimeZoneFields: []string{"Time Zone", "Time zone", "timeZone", "time_zone", "timezone"},
		LocationFields: []string{"Building", "userAndLocation.building", "Location", "location"},
	}
}

// WithDefaults fills empty field lists from DefaultMapping.
func (m Mapping) WithDefaults() Mapping {
	d := DefaultMapping()
	if len(m.CountryFields) == 0 {
		m.CountryFields = d.CountryFields
	}
	if len(m.TimeZoneFields) == 0 {
		m.TimeZoneFields = d.TimeZoneFields
	}
	if len(m.LocationFields) == 0 {
		m.LocationFields = d.LocationFields
	}
	return m
}

// Validate checks the mapping's regions.
func (m Mapping) Validate() error {
	var errs []error
	for k, r := range m.Countries {
		if len(strings.TrimSpace(k)) != 2 {
			errs = append(errs, fmt.Errorf("inventory.countries: %q is not an ISO 3166-1 alpha-2 code", k))
		}
		if !r.Set() {
			errs = append(errs, fmt.Errorf("inventory.countries.%s: empty region", k))
		}
	}
	for k, r := range m.Locations {
		if !r.Set() {
			errs = append(errs, fmt.Errorf("inventory.locations.%s: empty region", k))
		}
		if r.Country != "" && len(r.TimeZones) == 0 && len(r.Languages) == 0 {
			if _, ok := m.country(r.Country); !ok {
				errs = append(errs, fmt.Errorf("inventory.locations.%s: country %q has no built-in region; give time_zones/languages or add it to inventory.countries", k, r.Country))
			}
		}
	}
	return errors.Join(errs...)
}

func (m Mapping) country(code string) (region.Region, bool) {
	c := strings.ToUpper(strings.TrimSpace(code))
	for k, r := range m.Countries {
		if strings.EqualFold(k, c) {
			r.Country = c
			return r, true
		}
	}
	return region.ForCountry(c)
}

// resolve fills rec.Region from its mapped values. The location wins (an
// organisation's own statement about a site), then the country, then the
// time zone; a time zone also given with a country narrows nothing (the
// country's zones stay expected) but is added when outside them.
func (m Mapping) resolve(rec *Record) error {
	var r region.Region
	if rec.Location != "" {
		for k, lr := range m.Locations {
			if strings.EqualFold(strings.TrimSpace(k), rec.Location) {
				r = lr
				if r.Country != "" && len(r.TimeZones) == 0 && len(r.Languages) == 0 {
					cr, _ := m.country(r.Country)
					r = cr
				}
				break
			}
		}
	}
	if !r.Set() && rec.Country != "" {
		cr, ok := m.country(rec.Country)
		if !ok {
			return fmt.Errorf("country %q: not an ISO 3166-1 alpha-2 code this collector knows (add it to inventory.countries)", rec.Country)
		}
		r = cr
	}
	if rec.TimeZone != "" {
		if !validZone(rec.TimeZone) {
			return fmt.Errorf("time zone %q: not an IANA zone name (Area/Location)", rec.TimeZone)
		}
		if !r.TimeZoneOK(rec.TimeZone) || len(r.TimeZones) == 0 {
			r.TimeZones = append(r.TimeZones, rec.TimeZone)
			// A zone's area ("America/") is where its user may travel
			// to without anyone noticing.
			if area, _, ok := strings.Cut(rec.TimeZone, "/"); ok && len(r.TimeZones) == 1 && area != "Etc" {
				r.TimeZones = append(r.TimeZones, area+"/*")
			}
		}
	}
	if !r.Set() {
		r = m.Default
	}
	r.TimeZones = dedup(r.TimeZones)
	r.Languages = dedup(r.Languages)
	rec.Region = r
	return nil
}

func validZone(z string) bool {
	if len(z) > 64 || strings.ContainsAny(z, " \t\r\n\\") || strings.Contains(z, "..") {
		return false
	}
	area, loc, ok := strings.Cut(z, "/")
	return ok && area != "" && loc != ""
}

func dedup(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Import is a parsed export.
type Import struct {
	Format  string   `json:"format"`
	Records []Record `json:"records"`
}

// FieldError is a parse error located in the input.
type FieldError struct {
	Line  int    // CSV line, or JSON element number (1-based)
	Field string // column or field path, when one is at fault
	JSON  bool
	Err   error
}

func (e *FieldError) Error() string {
	where := fmt.Sprintf("line %d", e.Line)
	if e.JSON {
		where = fmt.Sprintf("element %d", e.Line)
	}
	if e.Field != "" {
		where += fmt.Sprintf(", field %q", e.Field)
	}
	return where + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// Parse reads an export, CSV or JSON (told apart by the first non-space
// byte), and resolves every row's expected region with m.
func Parse(b []byte, m Mapping) (*Import, error) {
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("inventory: export is %d bytes, more than the %d accepted", len(b), MaxBytes)
	}
	m = m.WithDefaults()
	b = trimBOM(b)
	first := firstByte(b)
	var imp *Import
	var err error
	switch first {
	case 0:
		return nil, errors.New("inventory: empty export")
	case '[', '{':
		imp, err = parseJSON(b, m)
	default:
		imp, err = parseCSV(b, m)
	}
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	if len(imp.Records) == 0 {
		return nil, errors.New("inventory: the export has no device rows")
	}
	return imp, nil
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// clean trims a value and rejects control characters.
func clean(v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) > 512 {
		return "", errors.New("value longer than 512 bytes")
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("control character %U in value", r)
		}
	}
	return v, nil
}

// Summary counts an import by format.
func (imp *Import) Summary() string {
	users := map[string]bool{}
	for _, r := range imp.Records {
		users[strings.ToLower(r.User)] = true
	}
	return fmt.Sprintf("%d devices (%s), %d users", len(imp.Records), imp.Format, len(users))
}
