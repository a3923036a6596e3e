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
	MetricObservatoryPiiDetected           = "observatory.pii.detected"
	MetricObservatoryPiiSpans              = "observatory.pii.spans"
	MetricObservatoryPiiSpansRedacted      = "observatory.pii.spans_redacted"
	MetricObservatoryPiiLogRecords         = "observatory.pii.log_records"
	MetricObservatoryPiiLogRecordsRedacted = "observatory.pii.log_records_redacted"
	MetricObservatoryPiiInvalidJSON        = "observatory.pii.invalid_json"
)

// TelemetryBuilder provides an interface for components to report telemetry
// as defined in metadata and user config.
type TelemetryBuilder struct {
	meter                            metric.Meter
	mu                               sync.Mutex
	registrations                    []metric.Registration
	ObservatoryPiiDetected           metric.Int64Counter
	ObservatoryPiiInvalidJSON        metric.Int64Counter
	ObservatoryPiiLogRecords         metric.Int64Counter
	ObservatoryPiiLogRecordsRedacted metric.Int64Counter
	ObservatoryPiiSpans              metric.Int64Counter
	ObservatoryPiiSpansRedacted      metric.Int64Counter
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
	builder.ObservatoryPiiDetected, err = builder.meter.Int64Counter(
		MetricObservatoryPiiDetected,
		metric.WithDescription("PII entities found in spans and log records, by entity type and the storage mode applied (counted in every mode, also full). [Development]"),
		metric.WithUnit("{entity}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryPiiInvalidJSON, err = builder.meter.Int64Counter(
		MetricObservatoryPiiInvalidJSON,
		metric.WithDescription("String values that looked like JSON but did not parse; they were scanned as plain text instead. [Development]"),
		metric.WithUnit("{value}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryPiiLogRecords, err = builder.meter.Int64Counter(
		MetricObservatoryPiiLogRecords,
		metric.WithDescription("Log records processed, by the storage mode applied. [Development]"),
		metric.WithUnit("{log_record}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryPiiLogRecordsRedacted, err = builder.meter.Int64Counter(
		MetricObservatoryPiiLogRecordsRedacted,
		metric.WithDescription("Log records whose content was changed, by mode. [Development]"),
		metric.WithUnit("{log_record}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryPiiSpans, err = builder.meter.Int64Counter(
		MetricObservatoryPiiSpans,
		metric.WithDescription("Spans processed, by the storage mode applied. [Development]"),
		metric.WithUnit("{span}"),
	)
	errs = errors.Join(errs, err)
	builder.ObservatoryPiiSpansRedacted, err = builder.meter.Int64Counter(
		MetricObservatoryPiiSpansRedacted,
		metric.WithDescription("Spans whose content was changed, by mode - at least one entity replaced (redacted, hashed) or content attributes dropped (none). [Development]"),
		metric.WithUnit("{span}"),
	)
	errs = errors.Join(errs, err)
	return &builder, errs
}
