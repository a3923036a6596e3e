package genaiprocessor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/llm-observatory/observatory/processors/genaiprocessor/internal/metadatatest"
)

const badUTF8 = "caf\xc3\x28"

// validTraces is one request with two good GenAI spans; mutate breaks the
// second one.
func validTraces(mutate func(rs ptrace.ResourceSpans, ss ptrace.ScopeSpans, span ptrace.Span)) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("scope")
	var last ptrace.Span
	for i := range 2 {
		span := ss.Spans().AppendEmpty()
		span.SetName("chat gpt-4o")
		span.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		span.SetSpanID(pcommon.SpanID{0xa, 0xb, 0xc, 0xd, 0, 0, 0, byte(i + 1)})
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(testNow.Add(-time.Minute)))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(testNow.Add(-time.Minute + time.Second)))
		span.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
		last = span
	}
	if mutate != nil {
		mutate(rs, ss, last)
	}
	return td
}

func TestValidationRejects(t *testing.T) {
	ts := func(tm time.Time) pcommon.Timestamp { return pcommon.NewTimestampFromTime(tm) }
	tests := []struct {
		name     string
		mutate   func(rs ptrace.ResourceSpans, ss ptrace.ScopeSpans, span ptrace.Span)
		reason   string
		sentinel error
		contains []string
	}{
		{
			name:   "zero start",
			mutate: func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) { s.SetStartTimestamp(0) },
			reason: reasonAbsurdTimestamp, sentinel: ErrAbsurdTimestamp,
			contains: []string{`span "chat gpt-4o"`, "span_id 0a0b0c0d00000002", "before 2000-01-01T00:00:00Z"},
		},
		{
			name: "start in 1999",
			mutate: func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) {
				s.SetStartTimestamp(ts(time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)))
			},
			reason: reasonAbsurdTimestamp, sentinel: ErrAbsurdTimestamp,
			contains: []string{"1999-12-31T23:59:59Z"},
		},
		{
			name: "start too far in the future",
			mutate: func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) {
				s.SetStartTimestamp(ts(testNow.Add(61 * time.Minute)))
				s.SetEndTimestamp(ts(testNow.Add(62 * time.Minute)))
			},
			reason: reasonAbsurdTimestamp, sentinel: ErrAbsurdTimestamp,
			contains: []string{"in the future"},
		},
		{
			name: "end before start",
			mutate: func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) {
				s.SetEndTimestamp(s.StartTimestamp() - 1)
			},
			reason: reasonAbsurdTimestamp, sentinel: ErrAbsurdTimestamp,
			contains: []string{"end time"},
		},
		{
			name:   "span name",
			mutate: func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) { s.SetName(badUTF8) },
			reason: reasonInvalidUTF8, sentinel: ErrInvalidUTF8,
			contains: []string{`span "caf\xc3("`, "span name"},
		},
		{
			name: "string attribute",
			mutate: func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) {
				s.Attributes().PutStr("gen_ai.input.messages", badUTF8)
			},
			reason: reasonInvalidUTF8, sentinel: ErrInvalidUTF8,
			contains: []string{`attribute "gen_ai.input.messages" (string value)`},
		},
		{
			name: "nested attribute",
			mutate: func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) {
				m := s.Attributes().PutEmptySlice("gen_ai.output.messages").AppendEmpty().SetEmptyMap()
				m.PutStr("role", "assistant")
				m.PutEmptyMap("part").PutStr("content", badUTF8)
			},
			reason: reasonInvalidUTF8, sentinel: ErrInvalidUTF8,
			contains: []string{`attribute "gen_ai.output.messages"[0] > "part" > "content"`},
		},
		{
			name:   "attribute key",
			mutate: func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) { s.Attributes().PutInt(badUTF8, 1) },
			reason: reasonInvalidUTF8, sentinel: ErrInvalidUTF8,
			contains: []string{"key"},
		},
		{
			name: "resource attribute",
			mutate: func(rs ptrace.ResourceSpans, _ ptrace.ScopeSpans, _ ptrace.Span) {
				rs.Resource().Attributes().PutStr("service.name", badUTF8)
			},
			reason: reasonInvalidUTF8, sentinel: ErrInvalidUTF8,
			contains: []string{`resource attribute "service.name"`},
		},
		{
			name:   "scope name",
			mutate: func(_ ptrace.ResourceSpans, ss ptrace.ScopeSpans, _ ptrace.Span) { ss.Scope().SetName(badUTF8) },
			reason: reasonInvalidUTF8, sentinel: ErrInvalidUTF8,
			contains: []string{"instrumentation scope"},
		},
		{
			name: "event attribute",
			mutate: func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) {
				e := s.Events().AppendEmpty()
				e.SetName("gen_ai.choice")
				e.Attributes().PutStr("message", badUTF8)
			},
			reason: reasonInvalidUTF8, sentinel: ErrInvalidUTF8,
			contains: []string{`event "gen_ai.choice" attribute "message"`},
		},
		{
			name:   "status message",
			mutate: func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) { s.Status().SetMessage(badUTF8) },
			reason: reasonInvalidUTF8, sentinel: ErrInvalidUTF8,
			contains: []string{"status message"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
			sink := new(consumertest.TracesSink)
			tp, _ := newTestTraces(t, defaultCfg(), metadatatest.NewSettings(tel), sink)

			err := tp.ConsumeTraces(withAuth(acmeAuth), validTraces(tt.mutate))
			require.Error(t, err)
			assert.True(t, consumererror.IsPermanent(err), "not permanent: %v", err)
			assert.ErrorIs(t, err, tt.sentinel)
			for _, s := range tt.contains {
				assert.Contains(t, err.Error(), s)
			}
			assert.Zero(t, sink.SpanCount(), "a rejected request must not reach the next consumer")
			metadatatest.AssertEqualObservatoryIngestRejected(t, tel,
				[]metricdata.DataPoint[int64]{{Value: 2, Attributes: attribute.NewSet(attribute.String("reason", tt.reason))}},
				metricdatatest.IgnoreTimestamp())
		})
	}
}

func TestValidationAccepts(t *testing.T) {
	p := newTestProcessor(t, defaultCfg(), processortestSettings())
	for name, mutate := range map[string]func(ptrace.ResourceSpans, ptrace.ScopeSpans, ptrace.Span){
		"within future skew": func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) {
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(testNow.Add(59 * time.Minute)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(testNow.Add(60 * time.Minute)))
		},
		"zero duration": func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) {
			s.SetEndTimestamp(s.StartTimestamp())
		},
		"unicode everywhere": func(rs ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) {
			s.SetName("chat 模型 🚀")
			s.Attributes().PutStr("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":"Grüße, 你好 👋"}]}]`)
			rs.Resource().Attributes().PutStr("service.name", "café")
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := p.processTraces(context.Background(), validTraces(mutate))
			require.NoError(t, err)
		})
	}
}

func TestValidationSkewIsConfigurable(t *testing.T) {
	cfg := defaultCfg()
	cfg.Validation.MaxFutureSkew = 5 * time.Minute
	p := newTestProcessor(t, cfg, processortestSettings())
	_, err := p.processTraces(context.Background(), validTraces(func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) {
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(testNow.Add(6 * time.Minute)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(testNow.Add(7 * time.Minute)))
	}))
	require.ErrorIs(t, err, ErrAbsurdTimestamp)

	// The clock is injected: the same span is fine ten minutes later.
	p.now = func() time.Time { return testNow.Add(10 * time.Minute) }
	_, err = p.processTraces(context.Background(), validTraces(func(_ ptrace.ResourceSpans, _ ptrace.ScopeSpans, s ptrace.Span) {
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(testNow.Add(6 * time.Minute)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(testNow.Add(7 * time.Minute)))
	}))
	require.NoError(t, err)
}

func TestValidationLogs(t *testing.T) {
	newLogs := func(mutate func(plog.ResourceLogs, plog.LogRecord)) plog.Logs {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", "svc")
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		lrs.AppendEmpty().Body().SetStr("first")
		lr := lrs.AppendEmpty()
		lr.SetEventName("gen_ai.user.message")
		lr.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		lr.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
		lr.Body().SetEmptyMap().PutStr("content", "hello")
		if mutate != nil {
			mutate(rl, lr)
		}
		return ld
	}
	tests := []struct {
		name     string
		mutate   func(plog.ResourceLogs, plog.LogRecord)
		contains string
	}{
		{"body", func(_ plog.ResourceLogs, lr plog.LogRecord) { lr.Body().Map().PutStr("content", badUTF8) }, `log record 1 (trace_id 0102030405060708090a0b0c0d0e0f10, span_id 0102030405060708): body > "content"`},
		{"attribute", func(_ plog.ResourceLogs, lr plog.LogRecord) { lr.Attributes().PutStr("k", badUTF8) }, `attribute "k"`},
		{"event name", func(_ plog.ResourceLogs, lr plog.LogRecord) { lr.SetEventName(badUTF8) }, "event name"},
		{"severity text", func(_ plog.ResourceLogs, lr plog.LogRecord) { lr.SetSeverityText(badUTF8) }, "severity text"},
		{"resource", func(rl plog.ResourceLogs, _ plog.LogRecord) { rl.Resource().Attributes().PutStr("x", badUTF8) }, `resource attribute "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
			sink := new(consumertest.LogsSink)
			lp, err := NewFactory().CreateLogs(context.Background(), metadatatest.NewSettings(tel), defaultCfg(), sink)
			require.NoError(t, err)
			err = lp.ConsumeLogs(context.Background(), newLogs(tt.mutate))
			require.Error(t, err)
			assert.True(t, consumererror.IsPermanent(err))
			assert.True(t, errors.Is(err, ErrInvalidUTF8))
			assert.Contains(t, err.Error(), tt.contains)
			assert.Zero(t, sink.LogRecordCount())
			metadatatest.AssertEqualObservatoryIngestRejectedLogRecords(t, tel,
				[]metricdata.DataPoint[int64]{{Value: 2, Attributes: attribute.NewSet(attribute.String("reason", reasonInvalidUTF8))}},
				metricdatatest.IgnoreTimestamp())
		})
	}

	// A valid request passes and is stamped.
	sink := new(consumertest.LogsSink)
	lp, err := NewFactory().CreateLogs(context.Background(), processortestSettings(), defaultCfg(), sink)
	require.NoError(t, err)
	require.NoError(t, lp.ConsumeLogs(withAuth(acmeAuth), newLogs(nil)))
	require.Equal(t, 2, sink.LogRecordCount())
	org, _ := sink.AllLogs()[0].ResourceLogs().At(0).Resource().Attributes().Get("observatory.org.id")
	assert.Equal(t, "org_acme", org.Str())
}
