package apikeyauthextension

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/llm-observatory/observatory/internal/apikey"
)

// Config of the apikeyauth extension.
type Config struct {
	// DatabaseURL is where keys are stored: postgres://… or a SQLite path.
	// Required unless the factory was built with an injected verifier
	// (observatory run does that).
	DatabaseURL configopaque.String `mapstructure:"database_url"`
	// Secret is the server secret keys are hashed with (hex, ≥ 32 bytes).
	Secret configopaque.String `mapstructure:"secret"`
	// SecretFile holds the secret when Secret is empty.
	SecretFile string `mapstructure:"secret_file"`
	// Scope a key must hold to be accepted. Default "ingest".
	Scope string `mapstructure:"scope"`
	// CacheTTL is how long a verified key is trusted before storage is
	// asked again (and so how long a revocation may take). Default 10s.
	CacheTTL time.Duration `mapstructure:"cache_ttl"`
}

func createDefaultConfig() *Config {
	return &Config{Scope: apikey.ScopeIngest, CacheTTL: 10 * time.Second}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if !slices.Contains(apikey.AllScopes, c.Scope) {
		errs = append(errs, fmt.Errorf("scope: %q is not one scope of %s", c.Scope, strings.Join(apikey.AllScopes, ", ")))
	}
	if c.CacheTTL < 0 {
		errs = append(errs, errors.New("cache_ttl must not be negative"))
	}
	if c.Secret != "" && c.SecretFile != "" {
		errs = append(errs, errors.New("set secret or secret_file, not both"))
	}
	return errors.Join(errs...)
}
