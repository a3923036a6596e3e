package genaiprocessor

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/llm-observatory/observatory/processors/genaiprocessor/internal/metadata"
)

const (
	defaultMaxFutureSkew        = time.Hour
	defaultMaxTokenCount        = int64(100_000_000)
	defaultMaxContentBytes      = 1 << 20
	minMaxContentBytes          = 1024
	defaultJoinWait             = 2 * time.Second
	maxJoinWait                 = 5 * time.Minute
	defaultMaxPendingSpans      = 10_000
	defaultMaxPendingLogRecords = 50_000
)

var processorCapabilities = consumer.Capabilities{MutatesData: true}

// NewFactory returns the factory of the genai processor (traces and logs).
// The traces and logs instances it creates for the same component ID share
// one content join buffer (state of the factory, not of the package).
func NewFactory() processor.Factory {
	return newFactory(newJoinRegistry())
}

func newFactory(reg *joinRegistry) processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithTraces(reg.createTraces, metadata.TracesStability),
		processor.WithLogs(reg.createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		Validation: ValidationConfig{MaxFutureSkew: defaultMaxFutureSkew},
		Normalize:  NormalizeConfig{MaxTokenCount: defaultMaxTokenCount, MaxContentBytes: defaultMaxContentBytes},
		ContentJoin: ContentJoinConfig{
			Enabled:              true,
			Wait:                 defaultJoinWait,
			MaxPendingSpans:      defaultMaxPendingSpans,
			MaxPendingLogRecords: defaultMaxPendingLogRecords,
		},
	}
}

func (r *joinRegistry) createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	c := cfg.(*Config)
	p, err := newGenAIProcessor(set, c)
	if err != nil {
		return nil, err
	}
	p.now = r.now
	j := r.acquire(set.ID, c, set.Logger)
	side := &tracesSide{p: p, next: next}
	p.join, p.side = j, side
	var once sync.Once
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(func(ctx context.Context, host component.Host) error {
			if err := p.start(ctx, host); err != nil {
				return err
			}
			j.startTraces(side)
			return nil
		}),
		processorhelper.WithShutdown(func(ctx context.Context) error {
			once.Do(func() {
				// Forward what is still held before the pipeline stops.
				j.shutdownTraces(ctx, side)
				r.releaseRef(set.ID, j)
			})
			return p.shutdown(ctx)
		}))
}

func (r *joinRegistry) createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	c := cfg.(*Config)
	p, err := newGenAIProcessor(set, c)
	if err != nil {
		return nil, err
	}
	p.now = r.now
	j := r.acquire(set.ID, c, set.Logger)
	p.join = j
	var (
		mu      sync.Mutex
		started bool
		once    sync.Once
	)
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(func(ctx context.Context, host component.Host) error {
			if err := p.start(ctx, host); err != nil {
				return err
			}
			mu.Lock()
			started = true
			mu.Unlock()
			j.startLogs()
			return nil
		}),
		processorhelper.WithShutdown(func(ctx context.Context) error {
			once.Do(func() {
				mu.Lock()
				wasStarted := started
				mu.Unlock()
				if wasStarted {
					j.shutdownLogs()
				}
				r.releaseRef(set.ID, j)
			})
			return p.shutdown(ctx)
		}))
}
