package metadatatest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/llm-observatory/observatory/processors/piiredactionprocessor/internal/metadata"
)

func TestSetupTelemetry(t *testing.T) {
	testTel := componenttest.NewTelemetry()
	tb, err := metadata.NewTelemetryBuilder(testTel.NewTelemetrySettings())
	require.NoError(t, err)
	defer tb.Shutdown()
	tb.ObservatoryPiiDetected.Add(context.Background(), 1)
	tb.ObservatoryPiiInvalidJSON.Add(context.Background(), 1)
	tb.ObservatoryPiiLogRecords.Add(context.Background(), 1)
	tb.ObservatoryPiiLogRecordsRedacted.Add(context.Background(), 1)
	tb.ObservatoryPiiSpans.Add(context.Background(), 1)
	tb.ObservatoryPiiSpansRedacted.Add(context.Background(), 1)
	AssertEqualObservatoryPiiDetected(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	AssertEqualObservatoryPiiInvalidJSON(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	AssertEqualObservatoryPiiLogRecords(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	AssertEqualObservatoryPiiLogRecordsRedacted(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	AssertEqualObservatoryPiiSpans(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	AssertEqualObservatoryPiiSpansRedacted(t, testTel,
		[]metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())

	require.NoError(t, testTel.Shutdown(context.Background()))
}
