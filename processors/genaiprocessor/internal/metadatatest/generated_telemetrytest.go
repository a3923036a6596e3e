// Written by hand in the layout mdatagen generates from metadata.yaml; keep
// it in sync with metadata.yaml.

// Package metadatatest holds test helpers for the genai processor's
// internal telemetry.
package metadatatest

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
)

func NewSettings(tt *componenttest.Telemetry) processor.Settings {
	set := processortest.NewNopSettings(processortest.NopType)
	set.ID = component.NewID(component.MustNewType("genai"))
	set.TelemetrySettings = tt.NewTelemetrySettings()
	return set
}

func AssertEqualObservatoryGenaiNormalizeIssues(t *testing.T, tt *componenttest.Telemetry, dps []metricdata.DataPoint[int64], opts ...metricdatatest.Option) {
	want := metricdata.Metrics{
		Name:        "observatory.genai.normalize_issues",
		Description: "Problems found while normalising GenAI spans (bad attribute types, absurd token counts, non-JSON content, truncated content...), by reason. The span is kept and lists them in observatory.normalize.issues. [Development]",
		Unit:        "{issue}",
		Data: metricdata.Sum[int64]{
			Temporality: metricdata.CumulativeTemporality,
			IsMonotonic: true,
			DataPoints:  dps,
		},
	}
	got, err := tt.GetMetric("observatory.genai.normalize_issues")
	require.NoError(t, err)
	metricdatatest.AssertEqual(t, want, got, opts...)
}

func AssertEqualObservatoryGenaiSpans(t *testing.T, tt *componenttest.Telemetry, dps []metricdata.DataPoint[int64], opts ...metricdatatest.Option) {
	want := metricdata.Metrics{
		Name:        "observatory.genai.spans",
		Description: "Spans processed, by kind: llm (carried GenAI attributes and was normalised) or plain (passed through). [Development]",
		Unit:        "{span}",
		Data: metricdata.Sum[int64]{
			Temporality: metricdata.CumulativeTemporality,
			IsMonotonic: true,
			DataPoints:  dps,
		},
	}
	got, err := tt.GetMetric("observatory.genai.spans")
	require.NoError(t, err)
	metricdatatest.AssertEqual(t, want, got, opts...)
}

func AssertEqualObservatoryGenaiUnpriced(t *testing.T, tt *componenttest.Telemetry, dps []metricdata.DataPoint[int64], opts ...metricdatatest.Option) {
	want := metricdata.Metrics{
		Name:        "observatory.genai.unpriced",
		Description: "LLM spans whose model has no price and that carried no cost of their own (observatory.cost.unpriced=true). [Development]",
		Unit:        "{span}",
		Data: metricdata.Sum[int64]{
			Temporality: metricdata.CumulativeTemporality,
			IsMonotonic: true,
			DataPoints:  dps,
		},
	}
	got, err := tt.GetMetric("observatory.genai.unpriced")
	require.NoError(t, err)
	metricdatatest.AssertEqual(t, want, got, opts...)
}

func AssertEqualObservatoryIngestRejected(t *testing.T, tt *componenttest.Telemetry, dps []metricdata.DataPoint[int64], opts ...metricdatatest.Option) {
	want := metricdata.Metrics{
		Name:        "observatory.ingest.rejected",
		Description: "Spans in trace requests rejected at ingest with a permanent error, by reason (absurd_timestamp, invalid_utf8). [Development]",
		Unit:        "{span}",
		Data: metricdata.Sum[int64]{
			Temporality: metricdata.CumulativeTemporality,
			IsMonotonic: true,
			DataPoints:  dps,
		},
	}
	got, err := tt.GetMetric("observatory.ingest.rejected")
	require.NoError(t, err)
	metricdatatest.AssertEqual(t, want, got, opts...)
}

func AssertEqualObservatoryIngestRejectedLogRecords(t *testing.T, tt *componenttest.Telemetry, dps []metricdata.DataPoint[int64], opts ...metricdatatest.Option) {
	want := metricdata.Metrics{
		Name:        "observatory.ingest.rejected_log_records",
		Description: "Log records in log requests rejected at ingest with a permanent error, by reason (invalid_utf8). [Development]",
		Unit:        "{log_record}",
		Data: metricdata.Sum[int64]{
			Temporality: metricdata.CumulativeTemporality,
			IsMonotonic: true,
			DataPoints:  dps,
		},
	}
	got, err := tt.GetMetric("observatory.ingest.rejected_log_records")
	require.NoError(t, err)
	metricdatatest.AssertEqual(t, want, got, opts...)
}

func AssertEqualObservatoryGenaiContentJoinLogRecords(t *testing.T, tt *componenttest.Telemetry, dps []metricdata.DataPoint[int64], opts ...metricdatatest.Option) {
	want := metricdata.Metrics{
		Name:        "observatory.genai.content_join.log_records",
		Description: "Content log records offered to the content join, by outcome: joined (onto their span), unmatched (their span did not come within content_join.wait), overflow (no room to keep them). The records themselves always go on down the logs pipeline. [Development]",
		Unit:        "{log_record}",
		Data: metricdata.Sum[int64]{
			Temporality: metricdata.CumulativeTemporality,
			IsMonotonic: true,
			DataPoints:  dps,
		},
	}
	got, err := tt.GetMetric("observatory.genai.content_join.log_records")
	require.NoError(t, err)
	metricdatatest.AssertEqual(t, want, got, opts...)
}

func AssertEqualObservatoryGenaiContentJoinSpans(t *testing.T, tt *componenttest.Telemetry, dps []metricdata.DataPoint[int64], opts ...metricdatatest.Option) {
	want := metricdata.Metrics{
		Name:        "observatory.genai.content_join.spans",
		Description: "Spans that went through the content join (LLM spans held for content from log records), by outcome: joined (content joined), timeout (forwarded at content_join.wait without all content), overflow (no room, forwarded at once), shutdown (forwarded at shutdown). [Development]",
		Unit:        "{span}",
		Data: metricdata.Sum[int64]{
			Temporality: metricdata.CumulativeTemporality,
			IsMonotonic: true,
			DataPoints:  dps,
		},
	}
	got, err := tt.GetMetric("observatory.genai.content_join.spans")
	require.NoError(t, err)
	metricdatatest.AssertEqual(t, want, got, opts...)
}

func AssertEqualObservatoryGenaiContentLate(t *testing.T, tt *componenttest.Telemetry, dps []metricdata.DataPoint[int64], opts ...metricdatatest.Option) {
	want := metricdata.Metrics{
		Name:        "observatory.genai.content_late",
		Description: "Content log records that arrived after their span had already been forwarded (content_join.wait too short or the span overflowed); their content is not on the span. [Development]",
		Unit:        "{log_record}",
		Data: metricdata.Sum[int64]{
			Temporality: metricdata.CumulativeTemporality,
			IsMonotonic: true,
			DataPoints:  dps,
		},
	}
	got, err := tt.GetMetric("observatory.genai.content_late")
	require.NoError(t, err)
	metricdatatest.AssertEqual(t, want, got, opts...)
}
