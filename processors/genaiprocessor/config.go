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
	// ContentJoin controls how content that arrives in log records is
	// joined onto its span.
	ContentJoin ContentJoinConfig `mapstructure:"content_join"`

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
	// gen_ai.usage.prompt_tokens) and content sources (input.value,
	// gen_ai.prompt.N.*, content span events...) next to the canonical keys
	// they were mapped to. Default false: they are removed once moved.
	KeepOriginalAttributes bool `mapstructure:"keep_original_attributes"`
	// MaxContentBytes caps gen_ai.input.messages, gen_ai.output.messages
	// and gen_ai.system_instructions: longer content is cut (still valid
	// JSON, longest strings first) and the span flagged with
	// observatory.content.truncated. Must be >= 1024; default 1 MiB.
	MaxContentBytes int `mapstructure:"max_content_bytes"`
}

// ContentJoinConfig controls the join of content carried by log records
// (the <= 1.36 events gen_ai.user.message, gen_ai.choice... and
// gen_ai.client.inference.operation.details) onto their spans, by trace id
// and span id. It works when the same processor (same component ID) runs in
// a traces and a logs pipeline; the log records still go on down the logs
// pipeline.
type ContentJoinConfig struct {
	// Enabled turns the join on. Default true.
	Enabled bool `mapstructure:"enabled"`
	// Wait is how long an LLM span without content is held for its log
	// records, and how long log records wait for their span. A span is
	// forwarded as soon as its content is complete, or at the deadline
	// without it. Must be > 0 and <= 5m; default 2s.
	Wait time.Duration `mapstructure:"wait"`
	// MaxPendingSpans bounds the spans held; beyond it spans are forwarded
	// at once without waiting. Must be > 0; default 10000.
	MaxPendingSpans int `mapstructure:"max_pending_spans"`
	// MaxPendingLogRecords bounds the content log records waiting for
	// their span; beyond it they are not kept for joining. Must be > 0;
	// default 50000.
	MaxPendingLogRecords int `mapstructure:"max_pending_log_records"`
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
	if cfg.Normalize.MaxContentBytes < minMaxContentBytes {
		errs = append(errs, fmt.Errorf("normalize::max_content_bytes must be at least %d", minMaxContentBytes))
	}
	if cfg.ContentJoin.Wait <= 0 || cfg.ContentJoin.Wait > maxJoinWait {
		errs = append(errs, fmt.Errorf("content_join::wait must be greater than 0 and at most %s", maxJoinWait))
	}
	if cfg.ContentJoin.MaxPendingSpans <= 0 {
		errs = append(errs, errors.New("content_join::max_pending_spans must be greater than 0"))
	}
	if cfg.ContentJoin.MaxPendingLogRecords <= 0 {
		errs = append(errs, errors.New("content_join::max_pending_log_records must be greater than 0"))
	}
	if cfg.Normalize.MappingFile != "" {
		if _, err := loadMapping(cfg.Normalize.MappingFile); err != nil {
			errs = append(errs, fmt.Errorf("normalize::mapping_file: %w", err))
		}
	}
	if cfg.Cost.PriceTableFile != "" {
		if _, err := LoadPriceFile(cfg.Cost.PriceTableFile); err != nil {
			errs = append(errs, fmt.Errorf("cost::price_table_file: %w", err))
		}
	}
	return errors.Join(errs...)
}
