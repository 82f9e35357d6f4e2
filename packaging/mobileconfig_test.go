package packaging_test

import (
	"os"
	"regexp"
	"testing"

	"howett.net/plist"

	"github.com/farmwatch/farmwatch/internal/config"
	"github.com/farmwatch/farmwatch/packaging"
)

// The configuration profile template is a valid plist whose
// ManagedClient.preferences payload carries, for the agent's managed domain,
// exactly the settings the agent reads.
func TestMobileconfig(t *testing.T) {
	data, err := os.ReadFile("macos/farmwatch.mobileconfig")
	if err != nil {
		t.Fatal(err)
	}
	type forced struct {
		Settings map[string]any `plist:"mcx_preference_settings"`
	}
	var profile struct {
		PayloadType, PayloadIdentifier, PayloadUUID, PayloadScope string
		PayloadVersion                                            int
		PayloadContent                                            []struct {
			PayloadType, PayloadIdentifier, PayloadUUID string
			PayloadVersion                              int
			PayloadContent                              map[string]struct {
				Forced []forced
			}
		}
	}
	if _, err := plist.Unmarshal(data, &profile); err != nil {
		t.Fatalf("not a valid plist: %v", err)
	}
	uuid := regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)
	if profile.PayloadType != "Configuration" || profile.PayloadVersion != 1 || profile.PayloadScope != "System" || !uuid.MatchString(profile.PayloadUUID) {
		t.Errorf("profile header: %+v", profile)
	}
	if len(profile.PayloadContent) != 1 {
		t.Fatalf("%d payloads, want 1", len(profile.PayloadContent))
	}
	p := profile.PayloadContent[0]
	if p.PayloadType != "com.apple.ManagedClient.preferences" || p.PayloadVersion != 1 || !uuid.MatchString(p.PayloadUUID) || p.PayloadUUID == profile.PayloadUUID {
		t.Errorf("payload header: %+v", p)
	}
	domain, ok := p.PayloadContent[packaging.MacManagedDomain]
	if !ok || len(domain.Forced) != 1 {
		t.Fatalf("no Forced settings for %s: %+v", packaging.MacManagedDomain, p.PayloadContent)
	}
	checkManaged(t, domain.Forced[0].Settings)

	// The bare-keys plist for "upload a preference file" MDMs: same keys.
	data, err = os.ReadFile("macos/com.farmwatch.agent.managed.plist")
	if err != nil {
		t.Fatal(err)
	}
	var bare map[string]any
	if _, err := plist.Unmarshal(data, &bare); err != nil {
		t.Fatalf("managed plist: %v", err)
	}
	checkManaged(t, bare)
}

// checkManaged feeds the settings through the agent's own managed-settings
// reader, as macOS would write them to /Library/Managed Preferences.
func checkManaged(t *testing.T, settings map[string]any) {
	t.Helper()
	if len(settings) != 2 {
		t.Errorf("settings %v: want exactly CollectorURL and EnrollSecret", settings)
	}
	enc, err := plist.Marshal(settings, plist.XMLFormat)
	if err != nil {
		t.Fatal(err)
	}
	m, err := config.ParseManagedPlist(enc)
	if err != nil {
		t.Fatal(err)
	}
	if m.CollectorURL != "https://collector.example.com:8443" || m.EnrollSecret == "" {
		t.Errorf("agent reads %+v", m)
	}
}
