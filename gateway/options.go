package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/llm-observatory/observatory/gateway/providers"
	"github.com/llm-observatory/observatory/internal/storage"
)

// Verifier checks a caller's API key for a scope; *apikey.Verifier is one.
// Errors wrap apikey.ErrMissing, ErrInvalid, ErrRevoked or ErrScope.
type Verifier interface {
	Verify(ctx context.Context, plainKey, scope string) (storage.APIKey, error)
}

// Tenant is the project a call belongs to: the project of the key that
// made it.
type Tenant struct {
	OrgID     string
	ProjectID string
}

// ExporterFunc returns the span exporter for a tenant's spans. The
// collector stamps the tenant from the API key an exporter authenticates
// with, so an exporter returned for a tenant must export with a key of
// that tenant's project (holding the ingest scope). It is called once per
// tenant (again after a failure); the gateway caches the result and shuts
// it down in Shutdown.
type ExporterFunc func(ctx context.Context, t Tenant) (sdktrace.SpanExporter, error)

// Options configure New. Zero values take the defaults in brackets.
type Options struct {
	// Config is the gateway configuration [DefaultConfig()].
	Config *Config
	// Verifier authenticates callers. Required.
	Verifier Verifier
	// ExporterFor returns the exporter of a tenant's spans. Exactly one
	// of ExporterFor and Exporter is required.
	ExporterFor ExporterFunc
	// Exporter receives every tenant's spans (single-tenant setups and
	// tests). Its spans carry no tenant: use it only when the receiving
	// end knows the tenant otherwise.
	Exporter sdktrace.SpanExporter
	// Logger [slog.Default()].
	Logger *slog.Logger
	// Registerer receives the gateway's metrics [none].
	Registerer prometheus.Registerer
	// Now is the clock of span timestamps and rate limits [time.Now].
	Now func() time.Time
	// HTTPClient is shared by all providers for connection reuse [a
	// client on providers.NewTransport].
	HTTPClient *http.Client
	// Providers adds or replaces providers by configuration name (tests,
	// custom upstreams); a model may route to them like to configured ones.
	Providers map[string]providers.Provider
	// Version is recorded as service.version.
	Version string
}

func (o *Options) validate() error {
	if o.Verifier == nil {
		return errors.New("gateway: Options.Verifier is required")
	}
	if (o.ExporterFor == nil) == (o.Exporter == nil) {
		return errors.New("gateway: set exactly one of Options.ExporterFor and Options.Exporter")
	}
	if o.Config == nil {
		o.Config = DefaultConfig()
	} else {
		c := *o.Config
		c.applyDefaults()
		if err := c.Validate(); err != nil {
			return fmt.Errorf("gateway: invalid config: %w", err)
		}
		o.Config = &c
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Transport: providers.NewTransport(providers.TransportOptions{})}
	}
	if o.Exporter != nil {
		exp := o.Exporter
		o.ExporterFor = func(context.Context, Tenant) (sdktrace.SpanExporter, error) { return sharedExporter{exp}, nil }
	}
	return nil
}

// sharedExporter keeps a single exporter alive until the gateway shuts
// down, however many tenants use it.
type sharedExporter struct{ sdktrace.SpanExporter }

func (sharedExporter) Shutdown(context.Context) error { return nil }
