// Written by hand in the layout mdatagen generates from metadata.yaml; keep
// it in sync with metadata.yaml (TestMetadataInSync checks the names).

package metadata

import (
	"errors"
	"sync"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"go.opentelemetry.io/collector/component"
)

func Meter(settings component.TelemetrySettings) metric.Meter {
	return settings.MeterProvider.Meter(ScopeName)
}

func Tracer(settings component.TelemetrySettings) trace.Tracer {
	return settings.TracerProvider.Tracer(ScopeName)
}

// Metric names, as declared in metadata.yaml.
const (
	MetricObservatoryIngestRejected           = "observatory.ingest.rejected"
	MetricObservatoryIngestRejectedLogRecords = "observatory.ingest.rejected_log_records"
	MetricObservatoryGenaiSpans               = "observatory.genai.spans"
	MetricObservatoryGenaiNormalizeIssues     = "observatory.genai.normalize_issues"
	MetricObservatoryGenaiUnpriced            = "observatory.genai.unpriced"
	MetricObservatoryGenaiContentJoinSpans    = "observatory.genai.content_join.spans"
	MetricObservatoryGenaiContentJoinRecords  = "observatory.genai.content_join.log_records"
	MetricObservatoryGenaiContentLate         = "observatory.genai.content_late"
)

// TelemetryBuilder provides an interface for components to report telemetry
// as defined in metadata and user config.
type TelemetryBuilder struct {
	meter                                 metric.Meter
	mu                                    sync.Mutex
	registrations                         []metric.Registration
	ObservatoryGenaiContentJoinLogRecords metric.Int64Counter
	ObservatoryGenaiContentJoinSpans      metric.Int64Counter
	ObservatoryGenaiContentLate           metric.Int64Counter
	ObservatoryGenaiNormalizeIssues       metric.Int64Counter
	ObservatoryGenaiSpans                 metric.Int64Counter
	ObservatoryGenaiUnpriced              metric.Int64Counter
	ObservatoryIngestRejected             metric.Int64Counter
	ObservatoryIngestRejectedLogRecords   metric.Int64Counter
}

// TelemetryBuilderOption applies changes to default builder.
type TelemetryBuilderOption interface {
	apply(*TelemetryBuilder)
}

type telemetryBuilderOptionFunc func(mb *TelemetryBuilder)

func (tbof telemetryBuilderOptionFunc) apply(mb *TelemetryBuilder) {
	tbof(mb)
}

// Shutdown unregister all registered callbacks for async instruments.
func (builder *TelemetryBuilder) Shutdown() {
	builder.mu.Lock()
	defer builder.mu.Unlock()
	for _, reg := range builder.registrations {
		reg.Unregister()
	}
}

// NewTelemetryBuilder provides a struct with methods to update all internal telemetry
// for a component
func NewTelemetryBuilder(settings component.TelemetrySettings, options ...TelemetryBuilderOption) (*TelemetryBuilder, error) {
	builder := TelemetryBuilder{}
	for _, op := range options {
		op.apply(&builder)
	}
	builder.meter = Meter(settings)
	var err, errs error
	builder.ObservatoryGenaiContentJoinLogRecords, err = builder.meter.Int64Counter(
		MetricObservatoryGenaiContentJoinRecords,
		metric.WithDescription("Content log records offered to the content join, by outcome: joined (onto their span), unmatched (their span did not come within content_join.wait), overflow (no room to keep them). The records themselves always go on down the logs pipeline. [Development]"),
		metric.WithUnit("{log_record}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryGenaiContentJoinSpans, err = builder.meter.Int64Counter(
		MetricObservatoryGenaiContentJoinSpans,
		metric.WithDescription("Spans that went through the content join (LLM spans held for content from log records), by outcome: joined (content joined), timeout (forwarded at content_join.wait without all content), overflow (no room, forwarded at once), shutdown (forwarded at shutdown). [Development]"),
		metric.WithUnit("{span}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryGenaiContentLate, err = builder.meter.Int64Counter(
		MetricObservatoryGenaiContentLate,
		metric.WithDescription("Content log records that arrived after their span had already been forwarded (content_join.wait too short or the span overflowed); their content is not on the span. [Development]"),
		metric.WithUnit("{log_record}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryGenaiNormalizeIssues, err = builder.meter.Int64Counter(
		MetricObservatoryGenaiNormalizeIssues,
		metric.WithDescription("Problems found while normalising GenAI spans (bad attribute types, absurd token counts, non-JSON content, truncated content...), by reason. The span is kept and lists them in observatory.normalize.issues. [Development]"),
		metric.WithUnit("{issue}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryGenaiSpans, err = builder.meter.Int64Counter(
		MetricObservatoryGenaiSpans,
		metric.WithDescription("Spans processed, by kind: llm (carried GenAI attributes and was normalised) or plain (passed through). [Development]"),
		metric.WithUnit("{span}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryGenaiUnpriced, err = builder.meter.Int64Counter(
		MetricObservatoryGenaiUnpriced,
		metric.WithDescription("LLM spans whose model has no price and that carried no cost of their own (observatory.cost.unpriced=true). [Development]"),
		metric.WithUnit("{span}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryIngestRejected, err = builder.meter.Int64Counter(
		MetricObservatoryIngestRejected,
		metric.WithDescription("Spans in trace requests rejected at ingest with a permanent error, by reason (absurd_timestamp, invalid_utf8). [Development]"),
		metric.WithUnit("{span}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryIngestRejectedLogRecords, err = builder.meter.Int64Counter(
		MetricObservatoryIngestRejectedLogRecords,
		metric.WithDescription("Log records in log requests rejected at ingest with a permanent error, by reason (invalid_utf8). [Development]"),
		metric.WithUnit("{log_record}"),
	)
	errs = errors.Join(errs, err)
	return &builder, errs
}
