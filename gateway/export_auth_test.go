package gateway

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type rejectingExporter struct {
	sdktrace.SpanExporter
	reject bool
}

func (r rejectingExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	if r.reject {
		return status.Error(codes.Unauthenticated, "API key revoked")
	}
	return nil
}

func (rejectingExporter) Shutdown(context.Context) error { return nil }

// TestRevokedExportKeyIsReplaced: after the collector refuses an export
// key, the next attempt asks ExporterFor again instead of reusing it.
func TestRevokedExportKeyIsReplaced(t *testing.T) {
	m, err := newMetrics(nil)
	require.NoError(t, err)
	var created atomic.Int32
	exporterFor := func(context.Context, Tenant) (sdktrace.SpanExporter, error) {
		n := created.Add(1)
		return rejectingExporter{reject: n == 1}, nil
	}
	cfg := DefaultConfig().Telemetry
	q := newSpanQueue(cfg, exporterFor, slog.New(slog.DiscardHandler), m)
	defer func() { _ = q.shutdown(context.Background()) }()
	tenant := Tenant{OrgID: "o", ProjectID: "p"}
	spans := tracetest.SpanStubs{{Name: "x"}}.Snapshots()
	require.Error(t, q.exportOnce(tenant, spans))
	require.NoError(t, q.exportOnce(tenant, spans))
	require.EqualValues(t, 2, created.Load())
	require.NoError(t, q.exportOnce(tenant, spans))
	require.EqualValues(t, 2, created.Load(), "a working exporter is kept")
}
