// Package winzones maps Windows time-zone key names (the TimeZoneKeyName
// value under HKLM\SYSTEM\CurrentControlSet\Control\TimeZoneInformation) to
// IANA time zones.
//
// The table in zones_gen.go is generated from the Unicode CLDR data checked
// in under cldr/ (npm packages cldr-core and cldr-bcp47, Unicode License V3,
// see cldr/README.md): supplemental/windowsZones.json gives, for each Windows
// zone, the IANA zone of territory "001" (the zone's default), and
// bcp47/timezone.json turns CLDR's stable (sometimes outdated) IANA ids into
// today's IANA names ("Asia/Calcutta" → "Asia/Kolkata"). Regenerate with
// go generate; TestGeneratedUpToDate fails when zones_gen.go is stale.
package winzones

//go:generate go run ./gen -cldr cldr -out zones_gen.go

// IANA returns the IANA zone of a Windows time-zone key name ("" when the
// name is unknown). Names are matched exactly, as Windows writes them.
func IANA(windowsName string) string { return zones[windowsName] }

// Len is the number of Windows zones known.
func Len() int { return len(zones) }
