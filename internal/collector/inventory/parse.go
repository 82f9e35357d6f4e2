package inventory

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Column names of the CSV exports, normalised (lower case, single spaces).
// Where each comes from is in docs/inventory.md.
var (
	colName = []string{"device name", "computer name", "device_name", "devicename", "hostname", "host name"}
	colSer  = []string{"serial number", "serial_number", "serialnumber", "serial"}
	// colUser in order of preference: UPN, e-mail, username.
	colUser = []string{"primary user upn", "userprincipalname", "primary user email address", "email address", "user_email", "user email", "emailaddress", "username"}
	colDisp = []string{"primary user display name", "full name", "real name", "user_name", "userdisplayname"}
	colHost = []string{"farmwatch host id", "host_id", "host id"}
)

func norm(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// csvFormat tells the vendor from a header.
func csvFormat(idx map[string]int) string {
	switch {
	case has(idx, "primary user upn", "primary user email address", "primary user display name"):
		return FormatIntune
	case has(idx, "computer name"):
		return FormatJamf
	case has(idx, "device_name", "serial_number", "user_email"):
		return FormatKandji
	}
	return FormatCSV
}

func has(idx map[string]int, names ...string) bool {
	for _, n := range names {
		if _, ok := idx[n]; ok {
			return true
		}
	}
	return false
}

func parseCSV(b []byte, m Mapping) (*Import, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("csv header: %w", err)
	}
	idx := map[string]int{}
	for i, h := range header {
		n := norm(h)
		if n == "" {
			continue
		}
		if _, dup := idx[n]; dup {
			return nil, &FieldError{Line: 1, Field: h, Err: errors.New("column appears twice in the header")}
		}
		idx[n] = i
	}
	pick := func(names []string) int {
		for _, n := range names {
			if i, ok := idx[norm(n)]; ok {
				return i
			}
		}
		return -1
	}
	iName, iSer, iUser, iDisp, iHost := pick(colName), pick(colSer), pick(colUser), pick(colDisp), pick(colHost)
	if iName < 0 && iSer < 0 && iHost < 0 {
		return nil, &FieldError{Line: 1, Err: fmt.Errorf("no device column: want one of %q, %q or %q (Intune: \"Device name\"/\"Serial number\"; Jamf: \"Computer Name\"/\"Serial Number\"; Kandji: device_name/serial_number)", "Device name", "Serial number", "host_id")}
	}
	iCountry, iTZ, iLoc := pick(m.CountryFields), pick(m.TimeZoneFields), pick(m.LocationFields)
	imp := &Import{Format: csvFormat(idx)}
	seen := newSeen()
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &FieldError{Line: pe.Line, Err: pe.Err}
			}
			return nil, err
		}
		line, _ := r.FieldPos(0)
		if len(imp.Records) >= MaxRows {
			return nil, &FieldError{Line: line, Err: fmt.Errorf("more than %d rows", MaxRows)}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		out := Record{Line: line, Format: imp.Format}
		for _, f := range []struct {
			i   int
			dst *string
		}{{iName, &out.DeviceName}, {iSer, &out.Serial}, {iUser, &out.User}, {iDisp, &out.UserName}, {iHost, &out.HostID},
			{iCountry, &out.Country}, {iTZ, &out.TimeZone}, {iLoc, &out.Location}} {
			if f.i < 0 {
				continue
			}
			v, err := clean(rec[f.i])
			if err != nil {
				return nil, &FieldError{Line: line, Field: header[f.i], Err: err}
			}
			*f.dst = v
		}
		if err := finish(&out, m, seen); err != nil {
			fe := err.(*FieldError)
			fe.Line = line
			for _, n := range []struct {
				f string
				i int
			}{{"country", iCountry}, {"time zone", iTZ}, {"location", iLoc}} {
				if fe.Field == n.f && n.i >= 0 {
					fe.Field = header[n.i]
				}
			}
			return nil, fe
		}
		imp.Records = append(imp.Records, out)
	}
	return imp, nil
}

type seenKeys struct{ serial, name map[string]int }

func newSeen() *seenKeys { return &seenKeys{serial: map[string]int{}, name: map[string]int{}} }

// finish validates a row and resolves its region; errors are *FieldError
// (line filled by the caller).
func finish(rec *Record, m Mapping, seen *seenKeys) error {
	if rec.Serial == "" && rec.DeviceName == "" && rec.HostID == "" {
		return &FieldError{Err: errors.New("row has no serial number, device name or host id")}
	}
	if rec.Serial != "" {
		k := strings.ToUpper(rec.Serial)
		if l, dup := seen.serial[k]; dup {
			return &FieldError{Field: "serial", Err: fmt.Errorf("serial number %q already on line/element %d", rec.Serial, l)}
		}
		seen.serial[k] = rec.Line
	}
	if err := m.resolve(rec); err != nil {
		f := "country"
		switch {
		case strings.HasPrefix(err.Error(), "time zone"):
			f = "time zone"
		case rec.Location != "" && rec.Country == "":
			f = "location"
		}
		return &FieldError{Field: f, Err: err}
	}
	return nil
}

// parseJSON reads an array of devices, a Graph collection {"value": [...]}
// or a Jamf Pro API page {"results": [...]}.
func parseJSON(b []byte, m Mapping) (*Import, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	if dec.More() {
		return nil, errors.New("json: trailing data after the document")
	}
	var elems []any
	switch t := top.(type) {
	case []any:
		elems = t
	case map[string]any:
		found := false
		for _, k := range []string{"value", "results", "devices", "computers"} {
			if v, ok := t[k]; ok {
				a, ok := v.([]any)
				if !ok {
					return nil, &FieldError{Line: 0, JSON: true, Field: k, Err: errors.New("want an array of devices")}
				}
				elems, found = a, true
				break
			}
		}
		if !found {
			return nil, errors.New(`json: an object without "value" (Graph), "results" (Jamf Pro API) or "devices": want an array of devices`)
		}
	default:
		return nil, errors.New("json: want an array of devices or an object holding one")
	}
	if len(elems) > MaxRows {
		return nil, fmt.Errorf("json: more than %d devices", MaxRows)
	}
	imp := &Import{}
	seen := newSeen()
	for i, e := range elems {
		n := i + 1
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, &FieldError{Line: n, JSON: true, Err: errors.New("want an object")}
		}
		rec, err := jsonRecord(obj, m)
		if err != nil {
			if fe, ok := err.(*FieldError); ok {
				fe.Line, fe.JSON = n, true
				return nil, fe
			}
			return nil, &FieldError{Line: n, JSON: true, Err: err}
		}
		rec.Line = n
		if imp.Format == "" {
			imp.Format = rec.Format
		} else if imp.Format != rec.Format {
			return nil, &FieldError{Line: n, JSON: true, Err: fmt.Errorf("a %s device among %s devices", rec.Format, imp.Format)}
		}
		if err := finish(&rec, m, seen); err != nil {
			fe := err.(*FieldError)
			fe.Line, fe.JSON = n, true
			return nil, fe
		}
		imp.Records = append(imp.Records, rec)
	}
	return imp, nil
}

// Field paths of the JSON formats (docs/inventory.md names the sources).
var jsonPaths = map[string]struct {
	name, serial, id string
	user, disp       []string
}{
	FormatIntune: {name: "deviceName", serial: "serialNumber", user: []string{"userPrincipalName", "emailAddress"}, disp: []string{"userDisplayName"}},
	FormatJamf:   {name: "general.name", serial: "hardware.serialNumber", user: []string{"userAndLocation.email", "userAndLocation.username"}, disp: []string{"userAndLocation.realname"}},
	FormatKandji: {name: "device_name", serial: "serial_number", user: []string{"user.email", "user"}, disp: []string{"user.name"}},
}

func jsonFormat(obj map[string]any) string {
	switch {
	case obj["general"] != nil || obj["hardware"] != nil || obj["userAndLocation"] != nil:
		return FormatJamf
	case has2(obj, "deviceName", "serialNumber", "userPrincipalName"):
		return FormatIntune
	case has2(obj, "device_name", "serial_number"):
		return FormatKandji
	}
	return ""
}

func has2(obj map[string]any, keys ...string) bool {
	for _, k := range keys {
		if _, ok := obj[k]; ok {
			return true
		}
	}
	return false
}

func jsonRecord(obj map[string]any, m Mapping) (Record, error) {
	f := jsonFormat(obj)
	if f == "" {
		return Record{}, errors.New("not an Intune (deviceName/serialNumber), Jamf Pro (general.name/hardware.serialNumber) or Kandji (device_name/serial_number) device")
	}
	p := jsonPaths[f]
	rec := Record{Format: f}
	var err error
	get := func(path string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = lookup(obj, path)
		return v
	}
	first := func(paths []string) string {
		for _, q := range paths {
			if v := get(q); v != "" || err != nil {
				return v
			}
		}
		return ""
	}
	rec.DeviceName = get(p.name)
	rec.Serial = get(p.serial)
	rec.User = first(p.user)
	rec.UserName = first(p.disp)
	rec.HostID = first([]string{"farmwatch_host_id", "host_id"})
	rec.Country = first(m.CountryFields)
	rec.TimeZone = first(m.TimeZoneFields)
	rec.Location = first(m.LocationFields)
	return rec, err
}

// lookup follows a dotted path; a missing field or null is "", a non-string
// leaf an error naming the path. An object where a string is wanted at the
// end of the path (Kandji's "user" both as object and string) is "".
func lookup(obj map[string]any, path string) (string, error) {
	var cur any = obj
	parts := strings.Split(path, ".")
	for i, part := range parts {
		o, ok := cur.(map[string]any)
		if !ok {
			if _, str := cur.(string); str || cur == nil {
				return "", nil // Kandji's "user" is an object or a string
			}
			return "", &FieldError{Field: strings.Join(parts[:i], "."), Err: errors.New("want an object")}
		}
		cur, ok = o[part]
		if !ok || cur == nil {
			return "", nil
		}
	}
	switch v := cur.(type) {
	case string:
		s, err := clean(v)
		if err != nil {
			return "", &FieldError{Field: path, Err: err}
		}
		return s, nil
	case json.Number:
		return v.String(), nil
	case map[string]any:
		return "", nil
	}
	return "", &FieldError{Field: path, Err: fmt.Errorf("want a string, got %T", cur)}
}
