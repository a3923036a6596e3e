package embedded

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/llm-observatory/observatory/gateway"
	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/storage"
)

// exportKeys hands out, per project, an ingest key the gateway exports its
// spans with: the collector stamps the tenant from the exporting key, so a
// call made with a key of project P must be exported with a key of P.
// Keys are issued once and kept in DataDir/gateway-keys (mode 0600).
type exportKeys struct {
	dir   string
	store storage.Store
	h     *apikey.Hasher
	mu    sync.Mutex
}

func (e *exportKeys) keyFor(ctx context.Context, t gateway.Tenant) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if strings.ContainsAny(t.ProjectID, `/\.`) || t.ProjectID == "" {
		return "", fmt.Errorf("project id %q cannot name a key file", t.ProjectID)
	}
	return keyFile(ctx, filepath.Join(e.dir, t.ProjectID), e.store, e.h, apikey.IssueRequest{
		OrgID: t.OrgID, ProjectID: t.ProjectID, Name: "gateway span export (observatory run)",
		Scopes: []string{apikey.ScopeIngest},
	})
}

// gatewayExporters returns the gateway's ExporterFor: an OTLP gRPC exporter
// to the local collector, per project, with that project's export key.
func gatewayExporters(grpcAddr string, keys *exportKeys) gateway.ExporterFunc {
	endpoint := strings.TrimPrefix(LocalURL(grpcAddr), "http://")
	return func(ctx context.Context, t gateway.Tenant) (sdktrace.SpanExporter, error) {
		key, err := keys.keyFor(ctx, t)
		if err != nil {
			return nil, err
		}
		return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure(),
			otlptracegrpc.WithHeaders(map[string]string{"x-api-key": key}))
	}
}

// GatewayOptions configures RunGateway, the standalone gateway role.
type GatewayOptions struct {
	RoleOptions
	Addr       string // [0.0.0.0:8080]
	ConfigPath string
	// OTLPEndpoint is the collector's OTLP gRPC address the gateway
	// exports its spans to [localhost:4317].
	OTLPEndpoint string
	Version      string
}

// RunGateway serves the gateway alone (scaled mode) until ctx is done. It
// verifies keys against the same database as the collectors and exports
// spans to a collector, one export key per project (kept in DataDir).
func RunGateway(ctx context.Context, o GatewayOptions) error {
	if o.Addr == "" {
		o.Addr = "0.0.0.0:8080"
	}
	if o.OTLPEndpoint == "" {
		o.OTLPEndpoint = "localhost:4317"
	}
	st, h, v, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("gateway: listen on %s: %w", o.Addr, err)
	}
	reg := prometheus.NewRegistry()
	gw, err := newGateway(Options{GatewayConfig: o.ConfigPath, GRPCAddr: o.OTLPEndpoint, Logger: o.Logger, Version: o.Version},
		reg, v, &exportKeys{dir: filepath.Join(o.DataDir, "gateway-keys"), store: st, h: h})
	if err != nil {
		ln.Close()
		return err
	}
	o.Logger.Info("gateway listening", "addr", ln.Addr().String(), "otlp", o.OTLPEndpoint)
	return serveUntil(ctx, func() error { return gw.Serve(ln) }, gw.Shutdown)
}
