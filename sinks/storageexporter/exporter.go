package storageexporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
	"github.com/llm-observatory/observatory/internal/storage/storeopen"
)

const scopeName = "github.com/llm-observatory/observatory/sinks/storageexporter"

type storageExporter struct {
	cfg    *Config
	logger *zap.Logger
	store  storage.Store
	owned  bool // opened here, so closed here

	stored  metric.Int64Counter
	dropped metric.Int64Counter
}

func newStorageExporter(cfg *Config, set exporter.Settings, st storage.Store) (*storageExporter, error) {
	meter := set.TelemetrySettings.MeterProvider.Meter(scopeName)
	stored, err := meter.Int64Counter("observatory.storage.stored",
		metric.WithDescription("Spans durably written to storage, by kind (llm, plain)."),
		metric.WithUnit("{span}"))
	if err != nil {
		return nil, err
	}
	dropped, err := meter.Int64Counter("observatory.storage.dropped",
		metric.WithDescription("Spans that can never be stored, by reason (invalid_span, no_tenant, invalid_record)."),
		metric.WithUnit("{span}"))
	if err != nil {
		return nil, err
	}
	return &storageExporter{cfg: cfg, logger: set.Logger, store: st, stored: stored, dropped: dropped}, nil
}

func (e *storageExporter) start(ctx context.Context, _ component.Host) error {
	if e.store != nil {
		return nil
	}
	st, err := storeopen.Open(ctx, string(e.cfg.DatabaseURL), slog.Default())
	if err != nil {
		return fmt.Errorf("observatory_storage: %w", err)
	}
	e.store, e.owned = st, true
	return nil
}

func (e *storageExporter) shutdown(context.Context) error {
	if e.owned && e.store != nil {
		return e.store.Close()
	}
	return nil
}

// pushTraces converts and writes one batch. Spans that can never be stored
// are dropped with a metric and a log line naming why; a storage failure
// fails the whole batch so the exporter retries it (writes are idempotent).
func (e *storageExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	calls := make([]llmcall.Call, 0, td.SpanCount())
	var llm, plain int64
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				c, err := llmcall.FromSpan(rs.Resource(), span)
				if err != nil {
					e.drop(ctx, "invalid_span", err)
					continue
				}
				if c.ProjectID == "" || c.OrgID == "" {
					e.drop(ctx, "no_tenant", fmt.Errorf("span %s of trace %s carries no %s/%s: is the genai processor with API key auth in the pipeline?", c.SpanID, c.TraceID, llmcall.AttrOrgID, llmcall.AttrProjectID))
					continue
				}
				if c.IsLLM {
					llm++
				} else {
					plain++
				}
				calls = append(calls, c)
			}
		}
	}
	if len(calls) == 0 {
		return nil
	}
	if err := e.store.WriteCalls(ctx, calls); err != nil {
		if errors.Is(err, storage.ErrInvalidRecord) {
			e.drop(ctx, "invalid_record", err)
			return consumererror.NewPermanent(err)
		}
		return fmt.Errorf("write %d spans: %w", len(calls), err)
	}
	e.stored.Add(ctx, llm, metric.WithAttributes(attribute.String("kind", "llm")))
	e.stored.Add(ctx, plain, metric.WithAttributes(attribute.String("kind", "plain")))
	return nil
}

func (e *storageExporter) drop(ctx context.Context, reason string, err error) {
	e.dropped.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reason)))
	e.logger.Warn("span not stored", zap.String("reason", reason), zap.Error(err))
}
