package genaiprocessor

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
)

// Config is the configuration of the genai processor. The zero value of
// every field is described on the field; createDefaultConfig sets the
// defaults.
type Config struct {
	// Tenant controls how observatory.org.id / observatory.project.id are
	// stamped on resources.
	Tenant TenantConfig `mapstructure:"tenant"`
	// Validation controls the ingest checks that reject a request.
	Validation ValidationConfig `mapstructure:"validation"`
	// Normalize controls the mapping onto the canonical GenAI attributes.
	Normalize NormalizeConfig `mapstructure:"normalize"`
	// Cost controls the price table.
	Cost CostConfig `mapstructure:"cost"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// TenantConfig decides where the tenant of a request comes from. When the
// authenticator put observatory.org.id in the request context (client.Info
// Auth), it always wins and overwrites whatever the client sent.
type TenantConfig struct {
	// TrustResourceAttributes keeps client-sent observatory.org.id and
	// observatory.project.id resource attributes when the request carries no
	// tenant from an authenticator. Only for a pipeline whose input was
	// already stamped by a trusted collector (e.g. behind Kafka). Default
	// false: client-sent values are removed.
	TrustResourceAttributes bool `mapstructure:"trust_resource_attributes"`
	// DefaultOrgID is set when the request carries no tenant from an
	// authenticator and no trusted value is present. Empty: left absent.
	DefaultOrgID string `mapstructure:"default_org_id"`
	// DefaultProjectID, like DefaultOrgID. Requires DefaultOrgID.
	DefaultProjectID string `mapstructure:"default_project_id"`
}

// ValidationConfig holds the limits of the ingest checks.
type ValidationConfig struct {
	// MaxFutureSkew is how far in the future a span may start before the
	// request is rejected as carrying an absurd timestamp. Must be > 0;
	// default 1h.
	MaxFutureSkew time.Duration `mapstructure:"max_future_skew"`
}

// NormalizeConfig controls normalisation.
type NormalizeConfig struct {
	// MappingFile is the path of a YAML mapping merged over the embedded
	// mapping.yaml (same format). Empty: the embedded mapping alone.
	MappingFile string `mapstructure:"mapping_file"`
	// MaxTokenCount is the largest token count accepted per span and usage
	// field; larger counts are dropped and recorded as an issue. Must be > 0;
	// default 100,000,000.
	MaxTokenCount int64 `mapstructure:"max_token_count"`
	// KeepOriginalAttributes keeps alias keys (e.g. gen_ai.system,
	// gen_ai.usage.prompt_tokens) next to the canonical keys they were
	// mapped to. Default false: aliases whose value was moved are removed.
	KeepOriginalAttributes bool `mapstructure:"keep_original_attributes"`
}

// CostConfig controls cost computation.
type CostConfig struct {
	// PriceTableFile is the path of a YAML price table merged over the
	// embedded prices.yaml (same format; its entries win by model name).
	// Empty: the embedded table alone.
	PriceTableFile string `mapstructure:"price_table_file"`
}

var (
	_ component.Config  = (*Config)(nil)
	_ confmap.Validator = (*Config)(nil)
)

// Validate checks the configuration. It also loads the mapping and price
// table files, so that a broken file fails the collector at start-up.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Tenant.DefaultProjectID != "" && cfg.Tenant.DefaultOrgID == "" {
		errs = append(errs, errors.New("tenant::default_project_id requires tenant::default_org_id"))
	}
	if cfg.Validation.MaxFutureSkew <= 0 {
		errs = append(errs, errors.New("validation::max_future_skew must be greater than 0"))
	}
	if cfg.Normalize.MaxTokenCount <= 0 {
		errs = append(errs, errors.New("normalize::max_token_count must be greater than 0"))
	}
	if cfg.Normalize.MappingFile != "" {
		if _, err := loadMapping(cfg.Normalize.MappingFile); err != nil {
			errs = append(errs, fmt.Errorf("normalize::mapping_file: %w", err))
		}
	}
	if cfg.Cost.PriceTableFile != "" {
		if _, err := loadPrices(cfg.Cost.PriceTableFile); err != nil {
			errs = append(errs, fmt.Errorf("cost::price_table_file: %w", err))
		}
	}
	return errors.Join(errs...)
}
