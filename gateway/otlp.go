package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// OTLPOptions configure OTLPExporterFor.
type OTLPOptions struct {
	// Endpoint is the collector's OTLP/HTTP base URL, e.g.
	// http://127.0.0.1:4318 (spans go to Endpoint/v1/traces). Required.
	Endpoint string
	// KeyFor returns the API key to export a tenant's spans with: a key of
	// that tenant's project holding the ingest scope, since the collector
	// stamps the tenant from it. Required.
	KeyFor func(ctx context.Context, t Tenant) (string, error)
	// Timeout bounds one export request [10s].
	Timeout time.Duration
}

// OTLPExporterFor returns an ExporterFunc that exports each tenant's spans
// over OTLP/HTTP (protobuf) with that tenant's key in x-api-key. The
// exporter's own retries are off: the gateway's export queue retries.
func OTLPExporterFor(o OTLPOptions) (ExporterFunc, error) {
	if o.KeyFor == nil {
		return nil, errors.New("gateway: OTLPOptions.KeyFor is required")
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("gateway: OTLPOptions.Endpoint must be an http(s) URL like http://127.0.0.1:4318, got %q", o.Endpoint)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	endpoint := strings.TrimRight(o.Endpoint, "/") + "/v1/traces"
	return func(ctx context.Context, t Tenant) (sdktrace.SpanExporter, error) {
		key, err := o.KeyFor(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("export key for project %s: %w", t.ProjectID, err)
		}
		if key == "" {
			return nil, fmt.Errorf("export key for project %s: empty", t.ProjectID)
		}
		return otlptracehttp.New(ctx,
			otlptracehttp.WithEndpointURL(endpoint),
			otlptracehttp.WithHeaders(map[string]string{"x-api-key": key}),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
			otlptracehttp.WithTimeout(o.Timeout),
		)
	}, nil
}
