package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/llm-observatory/observatory/gateway/providers"
	"github.com/llm-observatory/observatory/gateway/providers/anthropic"
	"github.com/llm-observatory/observatory/gateway/providers/mock"
	"github.com/llm-observatory/observatory/gateway/providers/openai"
)

// Provider types accepted in the configuration.
const (
	TypeMock        = "mock"
	TypeOpenAI      = "openai"
	TypeAzureOpenAI = "azure_openai"
	TypeAnthropic   = "anthropic"
)

// Defaults of the configuration.
const (
	DefaultMaxBodyBytes      = 8 << 20
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyReadTimeout   = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxIngestRecords  = 1000
	DefaultMaxContentBytes   = 256 << 10
	DefaultQueueSpans        = 20000
	DefaultBatchSize         = 512
	DefaultFlushInterval     = time.Second
	DefaultRetryMaxElapsed   = 5 * time.Minute
	DefaultMaxAttempts       = 3
	DefaultInitialBackoff    = 200 * time.Millisecond
	DefaultMaxBackoff        = 5 * time.Second
	DefaultMaxRetryAfter     = 20 * time.Second
	DefaultUpstreamTimeout   = 60 * time.Second
)

// Config is the gateway's YAML configuration. Decoding is strict: an
// unknown key is an error naming it. Zero values take the defaults.
type Config struct {
	Server    ServerConfig              `yaml:"server"`
	Telemetry TelemetryConfig           `yaml:"telemetry"`
	Limits    LimitsConfig              `yaml:"limits"`
	Providers map[string]ProviderConfig `yaml:"providers"`
	Models    map[string]ModelConfig    `yaml:"models"`
}

// ServerConfig bounds what a caller can make the gateway hold.
type ServerConfig struct {
	// MaxBodyBytes is the largest request body; larger ones get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ReadHeaderTimeout bounds reading request headers (Serve only).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// BodyReadTimeout bounds reading a request body (slow bodies get 408).
	BodyReadTimeout time.Duration `yaml:"body_read_timeout"`
	// IdleTimeout closes idle keep-alive connections (Serve only).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxIngestRecords is the largest /v1/ingest batch.
	MaxIngestRecords int `yaml:"max_ingest_records"`
}

// TelemetryConfig configures the spans the gateway emits.
type TelemetryConfig struct {
	// CaptureContent records prompts and completions on spans (the
	// collector redacts them per the project's storage mode) [true].
	CaptureContent *bool `yaml:"capture_content"`
	// MaxContentBytes omits content attributes larger than this.
	MaxContentBytes int `yaml:"max_content_bytes"`
	// QueueSpans bounds spans waiting for export (all projects together).
	// Gateway spans beyond it are dropped and counted; ingest batches
	// that do not fit are refused with 503.
	QueueSpans int `yaml:"queue_spans"`
	// BatchSize is the most spans per export.
	BatchSize int `yaml:"batch_size"`
	// FlushInterval is the longest a span waits for a batch to fill.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// RetryMaxElapsed is how long a failing export is retried before its
	// spans are dropped.
	RetryMaxElapsed time.Duration `yaml:"retry_max_elapsed"`
}

// LimitsConfig holds per-key rate limits. The most specific entry wins:
// keys (by key id or visible prefix), then projects, then default.
type LimitsConfig struct {
	Default  Limit            `yaml:"default"`
	Projects map[string]Limit `yaml:"projects"`
	Keys     map[string]Limit `yaml:"keys"`
}

// Limit is a rate limit per API key; 0 means unlimited.
type Limit struct {
	RequestsPerMinute int `yaml:"requests_per_minute"`
	TokensPerMinute   int `yaml:"tokens_per_minute"`
}

// ProviderConfig configures one upstream. Which fields apply depends on
// the type.
type ProviderConfig struct {
	Type string `yaml:"type"`
	// BaseURL: openai [https://api.openai.com/v1], anthropic
	// [https://api.anthropic.com], azure_openai the resource endpoint.
	BaseURL string `yaml:"base_url"`
	// APIKey is the credential; prefer APIKeyEnv.
	APIKey providers.Secret `yaml:"api_key"`
	// APIKeyEnv names an environment variable holding the credential.
	APIKeyEnv string `yaml:"api_key_env"`
	// APIVersion is Azure's api-version.
	APIVersion string `yaml:"api_version"`
	// Deployments maps upstream model names to Azure deployments.
	Deployments map[string]string `yaml:"deployments"`
	// Headers are sent with every upstream request (openai, azure_openai);
	// their values are treated as secrets.
	Headers map[string]providers.Secret `yaml:"headers"`
	// DefaultMaxTokens is sent to anthropic when the caller sets none.
	DefaultMaxTokens int `yaml:"default_max_tokens"`
	// Timeout bounds an attempt (until the first byte when streaming).
	Timeout time.Duration `yaml:"timeout"`
	// StreamIdleTimeout bounds the gap between streamed events.
	StreamIdleTimeout time.Duration `yaml:"stream_idle_timeout"`
	Retry             RetryConfig   `yaml:"retry"`
	Mock              MockConfig    `yaml:"mock"`
}

// RetryConfig is the retry policy of a provider: exponential backoff with
// jitter on 429, 5xx, timeouts and network errors, honouring Retry-After.
type RetryConfig struct {
	// MaxAttempts per provider, the first included [3].
	MaxAttempts int `yaml:"max_attempts"`
	// InitialBackoff before the second attempt [200ms].
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	// MaxBackoff caps the exponential backoff [5s].
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// MaxRetryAfter: an upstream Retry-After longer than this is not
	// waited for; the gateway falls back at once [20s].
	MaxRetryAfter time.Duration `yaml:"max_retry_after"`
}

// MockConfig configures a mock provider.
type MockConfig struct {
	Latency       time.Duration `yaml:"latency"`
	ChunkInterval time.Duration `yaml:"chunk_interval"`
	OutputTokens  int           `yaml:"output_tokens"`
	ErrorRate     float64       `yaml:"error_rate"`
	ErrorStatus   int           `yaml:"error_status"`
	Seed          uint64        `yaml:"seed"`
	EmbeddingDims int           `yaml:"embedding_dims"`
}

// ModelConfig routes a model name callers use to a provider, with
// fallbacks tried in order when it fails.
type ModelConfig struct {
	// Provider is the name of an entry under providers.
	Provider string `yaml:"provider"`
	// Model is the upstream model (Azure: model or deployment) [the
	// model's own name].
	Model     string   `yaml:"model"`
	Fallbacks []Target `yaml:"fallbacks"`
}

// Target is one provider and upstream model.
type Target struct {
	Provider string `yaml:"provider"`
	Model    string `yaml:"model"`
}

// DefaultConfig routes the common OpenAI model names to the built-in mock
// provider, so the gateway answers with no provider key.
func DefaultConfig() *Config {
	c := &Config{
		Providers: map[string]ProviderConfig{
			"mock": {Type: TypeMock, Mock: MockConfig{OutputTokens: 16}},
		},
		Models: map[string]ModelConfig{},
	}
	for _, m := range []string{"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-5-mini", "mock", "text-embedding-3-small", "text-embedding-3-large"} {
		c.Models[m] = ModelConfig{Provider: "mock"}
	}
	c.applyDefaults()
	return c
}

// LoadConfig reads and validates a YAML file. Environment variables named
// by api_key_env are resolved.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read gateway config: %w", err)
	}
	c, err := ParseConfig(b, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("gateway config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig decodes and validates YAML strictly. getenv resolves
// api_key_env (nil: no environment).
func ParseConfig(b []byte, getenv func(string) string) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty configuration")
		}
		return nil, fmt.Errorf("decode: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode: more than one YAML document")
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	for name, p := range c.Providers {
		if p.APIKeyEnv != "" {
			if p.APIKey != "" {
				return nil, fmt.Errorf("providers.%s: set api_key or api_key_env, not both", name)
			}
			v := getenv(p.APIKeyEnv)
			if v == "" {
				return nil, fmt.Errorf("providers.%s.api_key_env: environment variable %s is empty or unset", name, p.APIKeyEnv)
			}
			p.APIKey = providers.Secret(v)
			c.Providers[name] = p
		}
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	s := &c.Server
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.ReadHeaderTimeout == 0 {
		s.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if s.BodyReadTimeout == 0 {
		s.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if s.IdleTimeout == 0 {
		s.IdleTimeout = DefaultIdleTimeout
	}
	if s.MaxIngestRecords == 0 {
		s.MaxIngestRecords = DefaultMaxIngestRecords
	}
	t := &c.Telemetry
	if t.CaptureContent == nil {
		v := true
		t.CaptureContent = &v
	}
	if t.MaxContentBytes == 0 {
		t.MaxContentBytes = DefaultMaxContentBytes
	}
	if t.QueueSpans == 0 {
		t.QueueSpans = DefaultQueueSpans
	}
	if t.BatchSize == 0 {
		t.BatchSize = DefaultBatchSize
	}
	if t.FlushInterval == 0 {
		t.FlushInterval = DefaultFlushInterval
	}
	if t.RetryMaxElapsed == 0 {
		t.RetryMaxElapsed = DefaultRetryMaxElapsed
	}
	for name, p := range c.Providers {
		r := &p.Retry
		if r.MaxAttempts == 0 {
			r.MaxAttempts = DefaultMaxAttempts
		}
		if r.InitialBackoff == 0 {
			r.InitialBackoff = DefaultInitialBackoff
		}
		if r.MaxBackoff == 0 {
			r.MaxBackoff = DefaultMaxBackoff
		}
		if r.MaxRetryAfter == 0 {
			r.MaxRetryAfter = DefaultMaxRetryAfter
		}
		if p.Timeout == 0 {
			p.Timeout = DefaultUpstreamTimeout
		}
		if p.StreamIdleTimeout == 0 {
			p.StreamIdleTimeout = DefaultUpstreamTimeout
		}
		c.Providers[name] = p
	}
}

// Validate checks the whole configuration; errors name the YAML key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	s := c.Server
	if s.MaxBodyBytes < 1024 {
		bad("server.max_body_bytes: must be at least 1024, got %d", s.MaxBodyBytes)
	}
	if s.ReadHeaderTimeout < 0 || s.BodyReadTimeout < 0 || s.IdleTimeout < 0 {
		bad("server: timeouts must not be negative")
	}
	if s.MaxIngestRecords < 1 || s.MaxIngestRecords > 100000 {
		bad("server.max_ingest_records: must be between 1 and 100000, got %d", s.MaxIngestRecords)
	}
	t := c.Telemetry
	if t.MaxContentBytes < 0 {
		bad("telemetry.max_content_bytes: must not be negative")
	}
	if t.QueueSpans < 1 {
		bad("telemetry.queue_spans: must be positive, got %d", t.QueueSpans)
	}
	if t.BatchSize < 1 || t.BatchSize > t.QueueSpans {
		bad("telemetry.batch_size: must be between 1 and queue_spans (%d), got %d", t.QueueSpans, t.BatchSize)
	}
	if t.FlushInterval <= 0 || t.RetryMaxElapsed <= 0 {
		bad("telemetry: flush_interval and retry_max_elapsed must be positive")
	}
	checkLimit := func(key string, l Limit) {
		if l.RequestsPerMinute < 0 || l.TokensPerMinute < 0 {
			bad("%s: limits must not be negative", key)
		}
	}
	checkLimit("limits.default", c.Limits.Default)
	for k, l := range c.Limits.Projects {
		checkLimit("limits.projects."+k, l)
	}
	for k, l := range c.Limits.Keys {
		checkLimit("limits.keys."+k, l)
	}
	if len(c.Providers) == 0 {
		bad("providers: at least one provider is required")
	}
	for _, name := range sortedKeys(c.Providers) {
		for _, err := range c.Providers[name].validate() {
			if err != nil {
				bad("providers.%s%w", name, err)
			}
		}
	}
	if len(c.Models) == 0 {
		bad("models: at least one model is required")
	}
	for _, name := range sortedKeys(c.Models) {
		m := c.Models[name]
		if strings.TrimSpace(name) == "" {
			bad("models: a model name is empty")
		}
		targets := append([]Target{{Provider: m.Provider, Model: m.Model}}, m.Fallbacks...)
		for i, t := range targets {
			key := "models." + name + ".provider"
			if i > 0 {
				key = fmt.Sprintf("models.%s.fallbacks[%d].provider", name, i-1)
			}
			if t.Provider == "" {
				bad("%s: required", key)
				continue
			}
			if _, ok := c.Providers[t.Provider]; !ok {
				bad("%s: no provider named %q (have: %s)", key, t.Provider, strings.Join(sortedKeys(c.Providers), ", "))
			}
		}
	}
	return errors.Join(errs...)
}

func (p ProviderConfig) validate() []error {
	only := func(field string, set bool, types ...string) error {
		if set && !slices.Contains(types, p.Type) {
			return fmt.Errorf(".%s: not valid for type %s (only %s)", field, p.Type, strings.Join(types, ", "))
		}
		return nil
	}
	var errs []error
	switch p.Type {
	case TypeMock, TypeOpenAI, TypeAzureOpenAI, TypeAnthropic:
	case "":
		return []error{errors.New(".type: required (mock, openai, azure_openai or anthropic)")}
	default:
		return []error{fmt.Errorf(".type: unknown provider type %q (mock, openai, azure_openai or anthropic)", p.Type)}
	}
	errs = append(errs,
		only("base_url", p.BaseURL != "", TypeOpenAI, TypeAzureOpenAI, TypeAnthropic),
		only("api_key", p.APIKey != "", TypeOpenAI, TypeAzureOpenAI, TypeAnthropic),
		only("api_version", p.APIVersion != "", TypeAzureOpenAI),
		only("deployments", len(p.Deployments) > 0, TypeAzureOpenAI),
		only("headers", len(p.Headers) > 0, TypeOpenAI, TypeAzureOpenAI),
		only("default_max_tokens", p.DefaultMaxTokens != 0, TypeAnthropic),
		only("mock", p.Mock != (MockConfig{}), TypeMock),
	)
	if p.BaseURL != "" {
		if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" {
			errs = append(errs, errors.New(".base_url: must be an absolute http(s) URL without user info or query (credentials go in api_key or headers)"))
		}
	}
	if p.Type == TypeAzureOpenAI && p.BaseURL == "" {
		errs = append(errs, errors.New(".base_url: required for azure_openai (https://NAME.openai.azure.com)"))
	}
	if p.Timeout < 0 || p.StreamIdleTimeout < 0 {
		errs = append(errs, errors.New(": timeouts must not be negative"))
	}
	r := p.Retry
	if r.MaxAttempts < 1 || r.MaxAttempts > 10 {
		errs = append(errs, fmt.Errorf(".retry.max_attempts: must be between 1 and 10, got %d", r.MaxAttempts))
	}
	if r.InitialBackoff < 0 || r.MaxBackoff < r.InitialBackoff || r.MaxRetryAfter < 0 {
		errs = append(errs, errors.New(".retry: backoffs must be positive with max_backoff >= initial_backoff"))
	}
	if p.Type == TypeMock {
		mo := p.Mock.options()
		if err := mo.Validate(); err != nil {
			errs = append(errs, fmt.Errorf(".mock: %w", err))
		}
	}
	if p.DefaultMaxTokens < 0 {
		errs = append(errs, errors.New(".default_max_tokens: must not be negative"))
	}
	for k := range p.Headers {
		if http.CanonicalHeaderKey(k) == "Authorization" || strings.EqualFold(k, "api-key") || strings.EqualFold(k, "x-api-key") {
			errs = append(errs, fmt.Errorf(".headers.%s: set credentials with api_key", k))
		}
	}
	return errs
}

func (m MockConfig) options() mock.Options {
	return mock.Options{Latency: m.Latency, ChunkInterval: m.ChunkInterval, OutputTokens: m.OutputTokens,
		ErrorRate: m.ErrorRate, ErrorStatus: m.ErrorStatus, Seed: m.Seed, EmbeddingDims: m.EmbeddingDims}
}

// buildProvider constructs the provider a ProviderConfig describes.
func buildProvider(p ProviderConfig, client *http.Client, now func() time.Time) (providers.Provider, error) {
	switch p.Type {
	case TypeMock:
		o := p.Mock.options()
		o.Now = now
		return mock.New(o)
	case TypeOpenAI, TypeAzureOpenAI:
		return openai.New(openai.Options{Flavor: p.Type, BaseURL: p.BaseURL, APIKey: p.APIKey, APIVersion: p.APIVersion,
			Deployments: p.Deployments, Headers: p.Headers, Client: client, Timeout: p.Timeout,
			StreamIdleTimeout: p.StreamIdleTimeout, Now: now})
	case TypeAnthropic:
		return anthropic.New(anthropic.Options{BaseURL: p.BaseURL, APIKey: p.APIKey, DefaultMaxTokens: p.DefaultMaxTokens,
			Client: client, Timeout: p.Timeout, StreamIdleTimeout: p.StreamIdleTimeout, Now: now})
	}
	return nil, fmt.Errorf("unknown provider type %q", p.Type)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
