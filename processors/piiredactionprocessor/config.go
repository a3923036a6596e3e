package piiredactionprocessor

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
)

// Mode is what happens to the content of a span or log record.
type Mode string

const (
	// ModeRedacted replaces every entity with a typed placeholder numbered
	// per call: the same value becomes the same <EMAIL_1> everywhere in that
	// span (or log record). The default.
	ModeRedacted Mode = "redacted"
	// ModeHashed replaces every entity with a typed HMAC-SHA256 token,
	// <EMAIL_h3fa2c91b0d4e7a65>: stable across calls for the same value and
	// hash_key, so calls can be joined without revealing the value.
	ModeHashed Mode = "hashed"
	// ModeNone drops content attributes (prompts, completions, tool
	// arguments, GenAI event bodies) and redacts the remaining strings as in
	// ModeRedacted. Metadata (model, usage, cost, timing) is kept.
	ModeNone Mode = "none"
	// ModeFull keeps everything as sent; entities are still detected and
	// counted.
	ModeFull Mode = "full"
)

// modeIndex numbers the modes for per-mode counters.
func (m Mode) index() int {
	switch m {
	case ModeHashed:
		return 1
	case ModeNone:
		return 2
	case ModeFull:
		return 3
	default:
		return 0
	}
}

const numModes = 4

var modesByIndex = [numModes]Mode{ModeRedacted, ModeHashed, ModeNone, ModeFull}

func (m Mode) valid() bool {
	switch m {
	case ModeRedacted, ModeHashed, ModeNone, ModeFull:
		return true
	}
	return false
}

// Config is the configuration of the piiredaction processor.
type Config struct {
	// Mode is the pipeline default: redacted (default), hashed, none or full.
	Mode Mode `mapstructure:"mode"`
	// HashKey is the HMAC-SHA256 secret of hashed mode. Required (at least
	// 32 bytes) when the default mode or any project's mode is hashed. Load
	// it from the environment (${env:OBSERVATORY_PII_HASH_KEY}); changing it
	// changes every token.
	HashKey configopaque.String `mapstructure:"hash_key"`
	// Entities lists the built-in entity types to detect. Default: all of
	// email, phone, credit_card, iban, us_ssn, ip_address, secret. An empty
	// list turns the built-in detectors off (custom_entities still run).
	Entities []string `mapstructure:"entities"`
	// CustomEntities are user-defined entity types, detected after the
	// built-in ones.
	CustomEntities []CustomEntityConfig `mapstructure:"custom_entities"`
	// AllowList holds values and keys that are never redacted.
	AllowList AllowListConfig `mapstructure:"allow_list"`
	// ContentKeys are extra attribute keys (same pattern syntax as
	// allow_list.keys) treated as content: dropped in none mode. They are
	// added to the built-in list (gen_ai.input.messages, input.value,
	// gen_ai.prompt.*.content, ...).
	ContentKeys []string `mapstructure:"content_keys"`
	// ScanResourceAttributes also scans resource attributes. Default false:
	// resource attributes describe the service (host.ip, k8s.pod.ip ...),
	// not the user, and redacting them breaks infrastructure correlation.
	ScanResourceAttributes bool `mapstructure:"scan_resource_attributes"`
	// Projects overrides the mode per project, keyed by the resource
	// attribute observatory.project.id (stamped from the API key by the
	// genai processor).
	Projects map[string]ProjectConfig `mapstructure:"projects"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// ProjectConfig is the per-project override.
type ProjectConfig struct {
	// Mode replaces the pipeline mode for this project's spans and logs.
	Mode Mode `mapstructure:"mode"`
}

// CustomEntityConfig is a user-defined entity type.
type CustomEntityConfig struct {
	// Name is the entity type: lower case letters, digits and underscores,
	// starting with a letter, at most 32 characters, not a built-in name. It
	// names the span attribute (observatory.pii.<name>), the metric
	// attribute and the placeholder (<NAME_1>).
	Name string `mapstructure:"name"`
	// Pattern is a Go (RE2) regular expression; every non-empty match is an
	// entity. A literal prefix (e.g. EMP- in EMP-\d{6}) is used as a cheap
	// prefilter.
	Pattern string `mapstructure:"pattern"`
	// Validator optionally checks each match: luhn, iban_mod97, us_ssn,
	// aba_routing or verhoeff. Empty: every match counts.
	Validator string `mapstructure:"validator"`
}

// AllowListConfig holds what is never redacted.
type AllowListConfig struct {
	// Values are exact entity values left untouched (compared ignoring
	// ASCII case), e.g. your support address.
	Values []string `mapstructure:"values"`
	// Patterns are regular expressions; an entity whose whole value matches
	// one is left untouched, e.g. '.*@example\.com'.
	Patterns []string `mapstructure:"patterns"`
	// Keys are attribute keys and JSON member names whose values are not
	// scanned. Dot-separated; a * segment matches one segment (including an
	// index: gen_ai.prompt.*.role), a ** segment any number of segments.
	Keys []string `mapstructure:"keys"`
}

var (
	_ component.Config  = (*Config)(nil)
	_ confmap.Validator = (*Config)(nil)
)

// minHashKeyLen is the shortest accepted HMAC-SHA256 key, as in the contrib
// redaction processor.
const minHashKeyLen = 32

var customNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Validate checks the configuration; every problem is reported at once.
func (cfg *Config) Validate() error {
	var errs []error
	hashed := false
	if !cfg.Mode.valid() {
		errs = append(errs, fmt.Errorf("mode: unknown mode %q (want redacted, hashed, none or full)", cfg.Mode))
	}
	hashed = cfg.Mode == ModeHashed
	for _, id := range sortedKeys(cfg.Projects) {
		pc := cfg.Projects[id]
		if strings.TrimSpace(id) == "" {
			errs = append(errs, errors.New("projects: empty project id"))
		}
		if !pc.Mode.valid() {
			errs = append(errs, fmt.Errorf("projects::%s::mode: unknown mode %q (want redacted, hashed, none or full)", id, pc.Mode))
		}
		hashed = hashed || pc.Mode == ModeHashed
	}
	if hashed && len(cfg.HashKey) < minHashKeyLen {
		errs = append(errs, fmt.Errorf("hash_key must be at least %d bytes when a mode is hashed (got %d)", minHashKeyLen, len(cfg.HashKey)))
	}
	seen := map[string]bool{}
	for _, e := range cfg.Entities {
		if builtinByName(e) < 0 {
			errs = append(errs, fmt.Errorf("entities: unknown entity type %q (want %s)", e, strings.Join(builtinEntityNames[:], ", ")))
		} else if seen[e] {
			errs = append(errs, fmt.Errorf("entities: %q listed twice", e))
		}
		seen[e] = true
	}
	names := map[string]bool{}
	for i, ce := range cfg.CustomEntities {
		p := fmt.Sprintf("custom_entities[%d]", i)
		switch {
		case !customNameRE.MatchString(ce.Name):
			errs = append(errs, fmt.Errorf("%s::name %q: want lower case letters, digits and _, starting with a letter, at most 32 characters", p, ce.Name))
		case builtinByName(ce.Name) >= 0:
			errs = append(errs, fmt.Errorf("%s::name %q is a built-in entity type", p, ce.Name))
		case names[ce.Name]:
			errs = append(errs, fmt.Errorf("%s::name %q is defined twice", p, ce.Name))
		}
		names[ce.Name] = true
		if ce.Pattern == "" {
			errs = append(errs, fmt.Errorf("%s::pattern must not be empty", p))
		} else if re, err := regexp.Compile(ce.Pattern); err != nil {
			errs = append(errs, fmt.Errorf("%s::pattern: %w", p, err))
		} else if re.MatchString("") {
			errs = append(errs, fmt.Errorf("%s::pattern matches the empty string", p))
		}
		if ce.Validator != "" {
			if _, ok := validators[ce.Validator]; !ok {
				errs = append(errs, fmt.Errorf("%s::validator: unknown validator %q (want %s)", p, ce.Validator, strings.Join(validatorNames(), ", ")))
			}
		}
	}
	for i, pat := range cfg.AllowList.Patterns {
		if _, err := regexp.Compile(pat); err != nil {
			errs = append(errs, fmt.Errorf("allow_list::patterns[%d]: %w", i, err))
		}
	}
	for i, k := range cfg.AllowList.Keys {
		if err := validKeyPattern(k); err != nil {
			errs = append(errs, fmt.Errorf("allow_list::keys[%d]: %w", i, err))
		}
	}
	for i, k := range cfg.ContentKeys {
		if err := validKeyPattern(k); err != nil {
			errs = append(errs, fmt.Errorf("content_keys[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
