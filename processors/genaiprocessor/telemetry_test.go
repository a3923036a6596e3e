package genaiprocessor

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/llm-observatory/observatory/processors/genaiprocessor/internal/metadatatest"
)

func TestTelemetry(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	sink := new(consumertest.TracesSink)
	tp, _ := newTestTraces(t, defaultCfg(), metadatatest.NewSettings(tel), sink)

	td := ptrace.NewTraces()
	for _, name := range []string{"chat_current", "plain_span", "bad_values", "legacy_aliases", "tenant", "unknown_model"} {
		in, err := golden.ReadTraces(filepath.Join("testdata", "input", name+".yaml"))
		require.NoError(t, err)
		in.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	}
	require.NoError(t, tp.ConsumeTraces(withAuth(acmeAuth), td))

	kind := func(k string) attribute.Set { return attribute.NewSet(attribute.String("kind", k)) }
	reason := func(r string) attribute.Set { return attribute.NewSet(attribute.String("reason", r)) }
	// chat_current 2, bad_values 1, legacy_aliases 5, unknown_model 2 GenAI
	// spans; plain_span 1, tenant 2 plain.
	metadatatest.AssertEqualObservatoryGenaiSpans(t, tel, []metricdata.DataPoint[int64]{
		{Value: 10, Attributes: kind("llm")},
		{Value: 3, Attributes: kind("plain")},
	}, metricdatatest.IgnoreTimestamp())
	// my-org/llama-3.1-8b-support in unknown_model.
	metadatatest.AssertEqualObservatoryGenaiUnpriced(t, tel, []metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	// bad_values (10 new issues; the one it carried is not counted again)
	// and legacy_aliases (1).
	metadatatest.AssertEqualObservatoryGenaiNormalizeIssues(t, tel, []metricdata.DataPoint[int64]{
		{Value: 3, Attributes: reason("wrong_type")},
		{Value: 3, Attributes: reason("out_of_range")},
		{Value: 1, Attributes: reason("invalid_json")},
		{Value: 1, Attributes: reason("negative_value")},
		{Value: 1, Attributes: reason("absurd_value")},
		{Value: 1, Attributes: reason("conflicting_alias")},
		{Value: 1, Attributes: reason("input_excluded_cache")},
	}, metricdatatest.IgnoreTimestamp())
}
