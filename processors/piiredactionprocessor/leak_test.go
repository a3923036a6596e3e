package piiredactionprocessor

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/ptracetest"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/llm-observatory/observatory/processors/piiredactionprocessor/internal/metadata"
	"github.com/llm-observatory/observatory/processors/piiredactionprocessor/internal/metadatatest"
)

// leakNeedles are the byte strings that must not appear in the output:
// every raw value, its JSON-escaped form (how it sits inside a JSON
// string attribute), each line of multi-line values and the bare digits
// of numbers.
func leakNeedles() []string {
	var out []string
	add := func(s string) {
		if len(s) >= 6 {
			out = append(out, s)
		}
	}
	for _, v := range rawPII {
		add(v)
		b, _ := json.Marshal(v)
		add(string(b[1 : len(b)-1]))
		for _, line := range strings.Split(v, "\n") {
			add(line)
		}
		if d := string(digitsOf(v, nil)); len(d) >= 9 && strings.ContainsAny(v, " -") {
			add(d)
		}
	}
	return out
}

func assertNoLeak(t *testing.T, what string, data []byte) {
	t.Helper()
	for _, n := range leakNeedles() {
		if i := bytes.Index(data, []byte(n)); i >= 0 {
			lo, hi := max(0, i-40), min(len(data), i+len(n)+40)
			t.Errorf("%s: raw value %q leaked: ...%q...", what, n, data[lo:hi])
		}
	}
}

// TestNoLeak sends spans and logs full of PII (every content location)
// through the processor and byte-scans the OTLP protobuf encoding of what
// comes out: in redacted, hashed and none mode no raw value survives.
func TestNoLeak(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeRedacted, ModeHashed, ModeNone} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			cfg := defaultCfg()
			cfg.Mode, cfg.HashKey = mode, testHashKey
			cfg.ScanResourceAttributes = true

			td := piiTraces("prj_a", "prj_b", "")
			// Resource attributes too, since they are scanned here.
			td.ResourceSpans().At(0).Resource().Attributes().PutStr("deployment.owner", piiEmail)
			in, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
			require.NoError(t, err)
			require.True(t, bytes.Contains(in, []byte(piiEmail)), "the fixture carries PII")
			out, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(runTraces(t, cfg, td))
			require.NoError(t, err)
			assertNoLeak(t, "traces", out)

			ld := piiLogs("prj_a", "")
			lout, err := (&plog.ProtoMarshaler{}).MarshalLogs(runLogs(t, cfg, ld))
			require.NoError(t, err)
			assertNoLeak(t, "logs", lout)
		})
	}
	t.Run("full keeps content", func(t *testing.T) {
		t.Parallel()
		cfg := defaultCfg()
		cfg.Mode = ModeFull
		out, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(runTraces(t, cfg, piiTraces("prj_a")))
		require.NoError(t, err)
		// The scan itself finds the raw values when they are there.
		found := 0
		for _, n := range leakNeedles() {
			if bytes.Contains(out, []byte(n)) {
				found++
			}
		}
		assert.GreaterOrEqual(t, found, len(rawPII))
	})
}

func TestTelemetry(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := defaultCfg()
	cfg.Projects = map[string]ProjectConfig{"prj_debug": {Mode: ModeFull}}
	sink := new(consumertest.TracesSink)
	tp, err := NewFactory().CreateTraces(context.Background(), metadatatest.NewSettings(tel), cfg, sink)
	require.NoError(t, err)
	td := piiTraces("prj_a", "prj_debug")
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).Attributes().PutStr("payload", `{"broken": [}`)
	require.NoError(t, tp.ConsumeTraces(context.Background(), td))

	lsink := new(consumertest.LogsSink)
	lp, err := NewFactory().CreateLogs(context.Background(), metadatatest.NewSettings(tel), cfg, lsink)
	require.NoError(t, err)
	require.NoError(t, lp.ConsumeLogs(context.Background(), piiLogs("prj_a")))

	mode := func(m string) attribute.Set { return attribute.NewSet(attribute.String("mode", m)) }
	det := func(e, m string) attribute.Set {
		return attribute.NewSet(attribute.String("entity_type", e), attribute.String("mode", m))
	}
	metadatatest.AssertEqualObservatoryPiiSpans(t, tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: mode("redacted")},
		{Value: 2, Attributes: mode("full")},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualObservatoryPiiSpansRedacted(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: mode("redacted")},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualObservatoryPiiLogRecords(t, tel, []metricdata.DataPoint[int64]{
		{Value: 4, Attributes: mode("redacted")},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualObservatoryPiiLogRecordsRedacted(t, tel, []metricdata.DataPoint[int64]{
		{Value: 4, Attributes: mode("redacted")},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualObservatoryPiiInvalidJSON(t, tel, []metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	// Per span: email 10, phone 6, card 6, iban 1, ssn 1, ip 3, secret 12;
	// logs: email 3, phone 1, card 1, iban 1, ssn 1, ip 2, secret 3.
	metadatatest.AssertEqualObservatoryPiiDetected(t, tel, []metricdata.DataPoint[int64]{
		{Value: 13, Attributes: det("email", "redacted")},
		{Value: 7, Attributes: det("phone", "redacted")},
		{Value: 7, Attributes: det("credit_card", "redacted")},
		{Value: 2, Attributes: det("iban", "redacted")},
		{Value: 2, Attributes: det("us_ssn", "redacted")},
		{Value: 5, Attributes: det("ip_address", "redacted")},
		{Value: 15, Attributes: det("secret", "redacted")},
		{Value: 10, Attributes: det("email", "full")},
		{Value: 6, Attributes: det("phone", "full")},
		{Value: 6, Attributes: det("credit_card", "full")},
		{Value: 1, Attributes: det("iban", "full")},
		{Value: 1, Attributes: det("us_ssn", "full")},
		{Value: 3, Attributes: det("ip_address", "full")},
		{Value: 12, Attributes: det("secret", "full")},
	}, metricdatatest.IgnoreTimestamp())
}

// TestMetadataInSync checks the hand-written internal/metadata against
// metadata.yaml, the way mdatagen would generate it.
func TestMetadataInSync(t *testing.T) {
	cm, err := confmaptest.LoadConf("metadata.yaml")
	require.NoError(t, err)
	assert.Equal(t, metadata.Type.String(), cm.Get("type"))
	metrics, err := cm.Sub("telemetry::metrics")
	require.NoError(t, err)
	var names []string
	for k := range metrics.ToStringMap() {
		names = append(names, k)
	}
	assert.ElementsMatch(t, []string{
		metadata.MetricObservatoryPiiDetected,
		metadata.MetricObservatoryPiiSpans,
		metadata.MetricObservatoryPiiSpansRedacted,
		metadata.MetricObservatoryPiiLogRecords,
		metadata.MetricObservatoryPiiLogRecordsRedacted,
		metadata.MetricObservatoryPiiInvalidJSON,
	}, names)
	assert.Equal(t, []any{"traces", "logs"}, cm.Get("status::stability::alpha"))
	assert.Equal(t, []any{"redacted", "hashed", "none", "full"}, cm.Get("attributes::mode::enum"))
}

// TestConcurrentConsume: pooled workers, shared read-only state; run with
// -race.
func TestConcurrentConsume(t *testing.T) {
	t.Parallel()
	cfg := defaultCfg()
	cfg.Projects = map[string]ProjectConfig{"prj_b": {Mode: ModeHashed}}
	cfg.HashKey = testHashKey
	sink := new(consumertest.TracesSink)
	tp, err := NewFactory().CreateTraces(context.Background(), processortestSettings(), cfg, sink)
	require.NoError(t, err)
	want := runTraces(t, cfg, piiTraces("prj_a", "prj_b"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				assert.NoError(t, tp.ConsumeTraces(context.Background(), piiTraces("prj_a", "prj_b")))
			}
		}()
	}
	wg.Wait()
	require.Len(t, sink.AllTraces(), 80)
	for _, got := range sink.AllTraces() {
		require.NoError(t, ptracetest.CompareTraces(want, got))
	}
}
