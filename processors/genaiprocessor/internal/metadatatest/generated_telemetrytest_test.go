package metadatatest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/llm-observatory/observatory/processors/genaiprocessor/internal/metadata"
)

func TestSetupTelemetry(t *testing.T) {
	testTel := componenttest.NewTelemetry()
	tb, err := metadata.NewTelemetryBuilder(testTel.NewTelemetrySettings())
	require.NoError(t, err)
	defer tb.Shutdown()
	tb.ObservatoryGenaiNormalizeIssues.Add(context.Background(), 1)
	tb.ObservatoryGenaiSpans.Add(context.Background(), 1)
	tb.ObservatoryGenaiUnpriced.Add(context.Background(), 1)
	tb.ObservatoryIngestRejected.Add(context.Background(), 1)
	tb.ObservatoryIngestRejectedLogRecords.Add(context.Background(), 1)
	tb.ObservatoryGenaiContentJoinLogRecords.Add(context.Background(), 1)
	tb.ObservatoryGenaiContentJoinSpans.Add(context.Background(), 1)
	tb.ObservatoryGenaiContentLate.Add(context.Background(), 1)
	AssertEqualObservatoryGenaiNormalizeIssues(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	AssertEqualObservatoryGenaiSpans(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	AssertEqualObservatoryGenaiUnpriced(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	AssertEqualObservatoryIngestRejected(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	AssertEqualObservatoryIngestRejectedLogRecords(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())

	AssertEqualObservatoryGenaiContentJoinLogRecords(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	AssertEqualObservatoryGenaiContentJoinSpans(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	AssertEqualObservatoryGenaiContentLate(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())

	require.NoError(t, testTel.Shutdown(context.Background()))
}
