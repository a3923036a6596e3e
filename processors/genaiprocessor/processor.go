package genaiprocessor

import (
	"context"
	"fmt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"
)

// genaiProcessor holds what the traces and logs processing functions share.
// It is safe for concurrent use: everything but the telemetry is read-only
// after construction.
type genaiProcessor struct {
	cfg     *Config
	logger  *zap.Logger
	mapping *compiledMapping
	prices  *priceTable
	tel     *telemetry
	// now is the clock of the future-skew check; tests replace it.
	now func() time.Time
}

func newGenAIProcessor(set processor.Settings, cfg *Config) (*genaiProcessor, error) {
	mapping, err := loadMapping(cfg.Normalize.MappingFile)
	if err != nil {
		return nil, fmt.Errorf("genai processor: %w", err)
	}
	prices, err := loadPrices(cfg.Cost.PriceTableFile)
	if err != nil {
		return nil, fmt.Errorf("genai processor: %w", err)
	}
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("genai processor: telemetry: %w", err)
	}
	return &genaiProcessor{
		cfg:     cfg,
		logger:  set.Logger,
		mapping: mapping,
		prices:  prices,
		tel:     tel,
		now:     time.Now,
	}, nil
}

func (p *genaiProcessor) start(context.Context, component.Host) error {
	p.logger.Info("GenAI processor started",
		zap.String("mapping_version", p.mapping.version),
		zap.Strings("price_table_versions", p.prices.versions),
		zap.Int("priced_models", len(p.prices.byModel)),
		zap.Bool("trust_resource_attributes", p.cfg.Tenant.TrustResourceAttributes),
	)
	return nil
}

func (p *genaiProcessor) shutdown(context.Context) error {
	if p.tel != nil {
		p.tel.shutdown()
	}
	return nil
}

// processTraces validates the request (a bad span rejects it with a
// permanent error, which the OTLP receiver answers with HTTP 400 / gRPC
// InvalidArgument), stamps the tenant on every resource and normalises every
// GenAI span.
func (p *genaiProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	if rej := validateTraces(td, p.now(), p.cfg.Validation.MaxFutureSkew); rej != nil {
		n := td.SpanCount()
		p.tel.recordRejectedSpans(ctx, rej.reason, n)
		p.logger.Debug("Rejected trace request", zap.String("reason", rej.reason), zap.Int("spans", n), zap.Error(rej.err))
		return td, consumererror.NewPermanent(invalidArgument{rej.err})
	}
	t := tenantFromContext(ctx)
	var stats batchStats
	w := p.newWork(&stats)
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := rs.Resource()
		p.stampTenant(res, t)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				if p.normalizeSpan(res, spans.At(k), w) {
					stats.llm++
				} else {
					stats.plain++
				}
			}
		}
	}
	p.tel.recordBatch(ctx, &stats)
	return td, nil
}

// processLogs validates the strings of every log record and stamps the
// tenant on every resource. Joining GenAI content carried by log records
// onto their spans is not done here.
func (p *genaiProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	if rej := validateLogs(ld); rej != nil {
		n := ld.LogRecordCount()
		p.tel.recordRejectedLogRecords(ctx, rej.reason, n)
		p.logger.Debug("Rejected log request", zap.String("reason", rej.reason), zap.Int("log_records", n), zap.Error(rej.err))
		return ld, consumererror.NewPermanent(invalidArgument{rej.err})
	}
	t := tenantFromContext(ctx)
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		p.stampTenant(rls.At(i).Resource(), t)
	}
	return ld, nil
}

// invalidArgument marks a rejection as the client's fault: the OTLP
// receiver reads its gRPC status and answers InvalidArgument / HTTP 400
// (a bare permanent error would be answered as a server error).
type invalidArgument struct{ err error }

func (e invalidArgument) Error() string { return e.err.Error() }
func (e invalidArgument) Unwrap() error { return e.err }
func (e invalidArgument) GRPCStatus() *status.Status {
	return status.New(codes.InvalidArgument, e.err.Error())
}
