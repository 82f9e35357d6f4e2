package report

// Evidence keys and rules of the context detector's region findings, which
// the collector reads to judge a host against the expected region of its
// MDM inventory row (docs/inventory.md).
const (
	// EvTimeZone is the host's IANA time zone.
	EvTimeZone = "time_zone"
	// EvLocales are the host's locale names (context.region.facts: all of
	// them; context.locale.unexpected: the foreign ones).
	EvLocales = "locales"
	// EvAllLocales are all locales, on context.locale.unexpected.
	EvAllLocales = "all_locales"
	// EvInputSources are the keyboard layouts and input methods, each
	// {"name", "lang", "ime"} (context.region.facts).
	EvInputSources = "input_sources"
	// EvInput, EvLang and EvIME are one input source on
	// context.input.foreign_layout / foreign_ime.
	EvInput = "input"
	EvLang  = "lang"
	EvIME   = "ime"
)

// Rules of the context detector that carry region facts.
const (
	RuleRegionFacts        = "context.region.facts"
	RuleTimeZoneUnexpected = "context.timezone.unexpected"
	RuleLocaleUnexpected   = "context.locale.unexpected"
	RuleForeignLayout      = "context.input.foreign_layout"
	RuleForeignIME         = "context.input.foreign_ime"
)
