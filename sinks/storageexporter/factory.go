// Package storageexporter is the collector exporter that turns spans into
// stored call records: the one place where pdata meets storage. It writes
// through storage.Store, whose writes are idempotent and durable before
// they return, so the exporter's retries (and a Kafka receiver's redelivery)
// never duplicate a row.
package storageexporter

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/llm-observatory/observatory/internal/storage"
)

var typeStr = component.MustNewType("observatory_storage")

// NewFactory returns the factory for OCB-built collectors: each exporter
// opens the database named by database_url.
func NewFactory() exporter.Factory { return newFactory(nil) }

// NewFactoryWithStore returns a factory whose exporters write to st, which
// the caller owns (it is not closed on shutdown).
func NewFactoryWithStore(st storage.Store) exporter.Factory { return newFactory(st) }

func newFactory(st storage.Store) exporter.Factory {
	return exporter.NewFactory(typeStr,
		func() component.Config { return createDefaultConfig() },
		exporter.WithTraces(func(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
			c := cfg.(*Config)
			if st == nil && c.DatabaseURL == "" {
				return nil, errors.New("observatory_storage: database_url is required")
			}
			e, err := newStorageExporter(c, set, st)
			if err != nil {
				return nil, err
			}
			return exporterhelper.NewTraces(ctx, set, cfg, e.pushTraces,
				exporterhelper.WithStart(e.start),
				exporterhelper.WithShutdown(e.shutdown),
				exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
				exporterhelper.WithTimeout(c.TimeoutConfig),
				exporterhelper.WithQueue(c.QueueBatch),
				exporterhelper.WithRetry(c.Retry))
		}, component.StabilityLevelAlpha))
}
