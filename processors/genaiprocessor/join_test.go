package genaiprocessor

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/ptracetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/processors/genaiprocessor/internal/metadatatest"
)

// fakeClock is the clock of the join tests: time moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// joinHarness is a traces and a logs instance of the processor with the same
// component ID, created by one factory, on a fake clock and without the
// background sweep (the test sweeps).
type joinHarness struct {
	t      *testing.T
	clock  *fakeClock
	tel    *componenttest.Telemetry
	traces processor.Traces
	logs   processor.Logs
	tsink  *consumertest.TracesSink
	lsink  *consumertest.LogsSink
	join   *joiner
}

func newJoinHarness(t *testing.T, mutate func(*Config), next ...consumer.Traces) *joinHarness {
	t.Helper()
	h := &joinHarness{t: t, clock: &fakeClock{t: testNow}, tel: componenttest.NewTelemetry(),
		tsink: new(consumertest.TracesSink), lsink: new(consumertest.LogsSink)}
	t.Cleanup(func() { require.NoError(t, h.tel.Shutdown(context.Background())) })
	reg := newJoinRegistry()
	reg.now, reg.noTick = h.clock.Now, true
	f := newFactory(reg)
	cfg := defaultCfg()
	if mutate != nil {
		mutate(cfg)
	}
	set := metadatatest.NewSettings(h.tel)
	var tnext consumer.Traces = h.tsink
	if len(next) > 0 {
		tnext = next[0]
	}
	var err error
	h.traces, err = f.CreateTraces(context.Background(), set, cfg, tnext)
	require.NoError(t, err)
	h.logs, err = f.CreateLogs(context.Background(), set, cfg, h.lsink)
	require.NoError(t, err)
	require.NoError(t, h.traces.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, h.logs.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		require.NoError(t, h.traces.Shutdown(context.Background()))
		require.NoError(t, h.logs.Shutdown(context.Background()))
	})
	h.join = reg.get(set.ID)
	require.NotNil(t, h.join)
	return h
}

func (h *joinHarness) sendTraces(ctx context.Context, file string) {
	h.t.Helper()
	td, err := golden.ReadTraces(filepath.Join("testdata", "input", file))
	require.NoError(h.t, err)
	require.NoError(h.t, h.traces.ConsumeTraces(ctx, td))
}

func (h *joinHarness) sendLogs(ctx context.Context, ld plog.Logs) {
	h.t.Helper()
	require.NoError(h.t, h.logs.ConsumeLogs(ctx, ld))
}

func readJoinLogs(t *testing.T) plog.Logs {
	t.Helper()
	return readLogsFile(t, "join_logs.yaml")
}

func readLogsFile(t *testing.T, file string) plog.Logs {
	t.Helper()
	ld, err := golden.ReadLogs(filepath.Join("testdata", "input", file))
	require.NoError(t, err)
	return ld
}

// splitLogs returns the log records of ld for which keep is true.
func splitLogs(ld plog.Logs, keep func(plog.LogRecord) bool) plog.Logs {
	out := plog.NewLogs()
	ld.CopyTo(out)
	for _, rl := range out.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool { return !keep(lr) })
		}
	}
	return out
}

func eventName(lr plog.LogRecord) string {
	if lr.EventName() != "" {
		return lr.EventName()
	}
	if v, ok := lr.Attributes().Get("event.name"); ok {
		return v.AsString()
	}
	return ""
}

// spansByID flattens what reached a sink.
type outSpan struct {
	res  pcommon.Resource
	span ptrace.Span
}

func spansByID(tds ...ptrace.Traces) map[string]outSpan {
	out := map[string]outSpan{}
	for _, td := range tds {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					out[span.SpanID().String()] = outSpan{rs.Resource(), span}
				}
			}
		}
	}
	return out
}

// assertJoinGolden compares every span that reached the sink, whatever the
// batches, with testdata/expected/<file>.
func assertJoinGolden(t *testing.T, file string, tds []ptrace.Traces) {
	t.Helper()
	path := filepath.Join("testdata", "expected", file)
	if *update {
		merged := ptrace.NewTraces()
		for _, td := range tds {
			c := ptrace.NewTraces()
			td.CopyTo(c)
			c.ResourceSpans().MoveAndAppendTo(merged.ResourceSpans())
		}
		require.NoError(t, golden.WriteTracesToFile(path, merged))
	}
	want, err := golden.ReadTraces(path)
	require.NoError(t, err)
	wantSpans, gotSpans := spansByID(want), spansByID(tds...)
	require.Len(t, gotSpans, len(wantSpans))
	for id, w := range wantSpans {
		g, ok := gotSpans[id]
		require.True(t, ok, "span %s missing", id)
		assert.Equal(t, w.res.Attributes().AsRaw(), g.res.Attributes().AsRaw())
		assert.NoError(t, ptracetest.CompareSpan(w.span, g.span), "span %s", id)
		call, err := llmcall.FromSpan(g.res, g.span)
		require.NoError(t, err)
		if call.IsLLM {
			assert.NotEmpty(t, call.InputMessages, "span %s has no input", id)
			assert.NotEmpty(t, call.OutputMessages, "span %s has no output", id)
		}
	}
	// A second pass changes nothing.
	for _, td := range tds {
		again := ptrace.NewTraces()
		td.CopyTo(again)
		p := newTestProcessor(t, defaultCfg(), processortestSettings())
		p.cfg.Tenant.TrustResourceAttributes = true
		out, err := p.processTraces(context.Background(), again)
		require.NoError(t, err)
		require.NoError(t, ptracetest.CompareTraces(td, out))
	}
}

func outcome(o string) attribute.Set { return attribute.NewSet(attribute.String("outcome", o)) }

func TestJoinLogsBeforeSpan(t *testing.T) {
	h := newJoinHarness(t, nil)
	ctx := withAuth(acmeAuth)
	h.sendLogs(ctx, readJoinLogs(t))
	h.sendTraces(ctx, "join_spans.yaml")
	// Everything was there: the request goes on at once, joined.
	require.Len(t, h.tsink.AllTraces(), 1)
	assertJoinGolden(t, "join.yaml", h.tsink.AllTraces())
	// The log records go on down the logs pipeline, unchanged but for the tenant.
	require.Len(t, h.lsink.AllLogs(), 1)
	assert.Equal(t, 5, h.lsink.LogRecordCount())

	metadatatest.AssertEqualObservatoryGenaiContentJoinSpans(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: outcome(outcomeJoined)},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualObservatoryGenaiContentJoinLogRecords(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: 4, Attributes: outcome(recordJoined)},
	}, metricdatatest.IgnoreTimestamp())
}

func TestJoinLogsAfterSpan(t *testing.T) {
	h := newJoinHarness(t, nil)
	ctx := withAuth(acmeAuth)
	h.sendTraces(ctx, "join_spans.yaml")
	// The two spans without content are held; the others go on.
	require.Len(t, h.tsink.AllTraces(), 1)
	assert.Equal(t, 2, h.tsink.SpanCount())
	h.sendLogs(ctx, readJoinLogs(t))
	// Content complete: released at once, not at the deadline.
	require.Len(t, h.tsink.AllTraces(), 2)
	assert.Equal(t, 4, h.tsink.SpanCount())
	assertJoinGolden(t, "join.yaml", h.tsink.AllTraces())
	// The held spans go on with the request's client info.
	info := client.FromContext(h.tsink.Contexts()[1])
	assert.Equal(t, "org_acme", info.Auth.GetAttribute(llmcall.AttrOrgID))

	metadatatest.AssertEqualObservatoryGenaiContentJoinSpans(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: outcome(outcomeJoined)},
	}, metricdatatest.IgnoreTimestamp())
}

func TestJoinLogsAroundSpan(t *testing.T) {
	h := newJoinHarness(t, nil)
	ctx := withAuth(acmeAuth)
	ld := readJoinLogs(t)
	// Input messages before the span, the choice and details event after.
	h.sendLogs(ctx, splitLogs(ld, func(lr plog.LogRecord) bool {
		return eventName(lr) == "gen_ai.system.message" || eventName(lr) == "gen_ai.user.message"
	}))
	h.sendTraces(ctx, "join_spans.yaml")
	assert.Equal(t, 2, h.tsink.SpanCount(), "still waiting for the output")
	h.clock.Advance(time.Second)
	h.join.sweep(context.Background())
	assert.Equal(t, 2, h.tsink.SpanCount(), "the deadline has not passed")
	h.sendLogs(ctx, splitLogs(ld, func(lr plog.LogRecord) bool {
		return eventName(lr) == "gen_ai.choice" || eventName(lr) == "gen_ai.client.inference.operation.details"
	}))
	assert.Equal(t, 4, h.tsink.SpanCount())
	assertJoinGolden(t, "join.yaml", h.tsink.AllTraces())
}

// TestJoinPerConvention sends the log-record content of other conventions
// before and after its spans: OpenLLMetry's events (use_legacy_attributes
// off: the spans carry no content) and OpenLIT's details event (a copy of
// the content its span carries: the span never waits).
func TestJoinPerConvention(t *testing.T) {
	for _, tt := range []struct {
		name        string
		held, spans int
	}{
		{name: "openllmetry", held: 2, spans: 2},
		{name: "openlit", held: 0, spans: 1},
	} {
		spans, expected := tt.name+"_join_spans.yaml", tt.name+"_join.yaml"
		ld := readLogsFile(t, tt.name+"_join_logs.yaml")
		t.Run(tt.name+"/logs_before_span", func(t *testing.T) {
			h := newJoinHarness(t, nil)
			ctx := withAuth(acmeAuth)
			h.sendLogs(ctx, ld)
			h.sendTraces(ctx, spans)
			require.Len(t, h.tsink.AllTraces(), 1, "everything was there: nothing waits")
			assertJoinGolden(t, expected, h.tsink.AllTraces())
			assert.Equal(t, ld.LogRecordCount(), h.lsink.LogRecordCount())
		})
		t.Run(tt.name+"/logs_after_span", func(t *testing.T) {
			h := newJoinHarness(t, nil)
			ctx := withAuth(acmeAuth)
			h.sendTraces(ctx, spans)
			assert.Equal(t, tt.spans-tt.held, h.tsink.SpanCount(), "spans without content wait")
			h.sendLogs(ctx, ld)
			require.Equal(t, tt.spans, h.tsink.SpanCount(), "content complete: released at once")
			assertJoinGolden(t, expected, h.tsink.AllTraces())
			assert.Equal(t, ld.LogRecordCount(), h.lsink.LogRecordCount())
		})
	}
}

func TestJoinTimeoutAndLateContent(t *testing.T) {
	h := newJoinHarness(t, nil)
	ctx := withAuth(acmeAuth)
	h.sendTraces(ctx, "join_spans.yaml")
	assert.Equal(t, 2, h.tsink.SpanCount())

	h.clock.Advance(2*time.Second - time.Millisecond)
	h.join.sweep(context.Background())
	assert.Equal(t, 2, h.tsink.SpanCount())
	h.clock.Advance(time.Millisecond)
	h.join.sweep(context.Background())
	// Forwarded without content at the deadline: still whole calls.
	require.Equal(t, 4, h.tsink.SpanCount())
	got := spansByID(h.tsink.AllTraces()...)
	held := got["f700000000000001"]
	assert.NotContains(t, held.span.Attributes().AsRaw(), llmcall.AttrInputMessages)
	assert.Equal(t, int64(20), held.span.Attributes().AsRaw()[llmcall.AttrInputTokens])

	// Content that comes now is late: counted, not joined, still forwarded
	// as logs.
	h.sendLogs(ctx, readJoinLogs(t))
	assert.Equal(t, 4, h.tsink.SpanCount())
	assert.Equal(t, 5, h.lsink.LogRecordCount())
	metadatatest.AssertEqualObservatoryGenaiContentJoinSpans(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: outcome(outcomeTimeout)},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualObservatoryGenaiContentLate(t, h.tel, []metricdata.DataPoint[int64]{{Value: 4}},
		metricdatatest.IgnoreTimestamp())
}

func TestJoinContentWithoutSpanExpires(t *testing.T) {
	h := newJoinHarness(t, func(c *Config) { c.ContentJoin.Wait = 500 * time.Millisecond })
	ctx := withAuth(acmeAuth)
	h.sendLogs(ctx, readJoinLogs(t))
	h.clock.Advance(500 * time.Millisecond)
	h.join.sweep(context.Background())
	metadatatest.AssertEqualObservatoryGenaiContentJoinLogRecords(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: 4, Attributes: outcome(recordUnmatched)},
	}, metricdatatest.IgnoreTimestamp())
	h.join.mu.Lock()
	assert.Empty(t, h.join.pending)
	assert.Zero(t, h.join.pendingRecords)
	h.join.mu.Unlock()
	// The span that comes after has to wait for content again.
	h.sendTraces(ctx, "join_spans.yaml")
	assert.Equal(t, 2, h.tsink.SpanCount())
}

func TestJoinTenantIsolation(t *testing.T) {
	h := newJoinHarness(t, nil)
	// The same trace and span ids under another tenant's key.
	other := authData{llmcall.AttrOrgID: "org_other", llmcall.AttrProjectID: "proj_x"}
	h.sendLogs(withAuth(other), readJoinLogs(t))
	h.sendTraces(withAuth(acmeAuth), "join_spans.yaml")
	assert.Equal(t, 2, h.tsink.SpanCount(), "another tenant's content must not complete the spans")
	h.clock.Advance(2 * time.Second)
	h.join.sweep(context.Background())
	for id, s := range spansByID(h.tsink.AllTraces()...) {
		if id == "f700000000000001" || id == "f700000000000002" {
			assert.NotContains(t, s.span.Attributes().AsRaw(), llmcall.AttrInputMessages, id)
		}
	}
}

func TestJoinOverflow(t *testing.T) {
	h := newJoinHarness(t, func(c *Config) { c.ContentJoin.MaxPendingSpans = 1 })
	h.sendTraces(withAuth(acmeAuth), "join_spans.yaml")
	// One held, the other forwarded at once.
	assert.Equal(t, 3, h.tsink.SpanCount())
	metadatatest.AssertEqualObservatoryGenaiContentJoinSpans(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: outcome(outcomeOverflow)},
	}, metricdatatest.IgnoreTimestamp())
}

func TestJoinLogRecordOverflow(t *testing.T) {
	h := newJoinHarness(t, func(c *Config) { c.ContentJoin.MaxPendingLogRecords = 3 })
	h.sendLogs(withAuth(acmeAuth), readJoinLogs(t))
	h.join.mu.Lock()
	kept := h.join.pendingRecords
	h.join.mu.Unlock()
	assert.LessOrEqual(t, kept, 3)
	metadatatest.AssertEqualObservatoryGenaiContentJoinLogRecords(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: int64(4 - kept), Attributes: outcome(recordOverflow)},
	}, metricdatatest.IgnoreTimestamp())
	assert.Equal(t, 5, h.lsink.LogRecordCount(), "overflowing records still go down the logs pipeline")
}

func TestJoinShutdownForwardsHeldSpans(t *testing.T) {
	h := newJoinHarness(t, nil)
	h.sendTraces(withAuth(acmeAuth), "join_spans.yaml")
	assert.Equal(t, 2, h.tsink.SpanCount())
	require.NoError(t, h.traces.Shutdown(context.Background()))
	assert.Equal(t, 4, h.tsink.SpanCount())
	metadatatest.AssertEqualObservatoryGenaiContentJoinSpans(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: outcome(outcomeShutdown)},
	}, metricdatatest.IgnoreTimestamp())
}

func TestJoinDuplicateSpanWhileHeld(t *testing.T) {
	h := newJoinHarness(t, nil)
	ctx := withAuth(acmeAuth)
	h.sendTraces(ctx, "join_spans.yaml")
	// A client retry of the whole request: the held spans are not doubled.
	h.sendTraces(ctx, "join_spans.yaml")
	assert.Equal(t, 4, h.tsink.SpanCount())
	h.sendLogs(ctx, readJoinLogs(t))
	assert.Equal(t, 6, h.tsink.SpanCount())
}

func TestJoinInactive(t *testing.T) {
	t.Run("disabled", func(t *testing.T) {
		h := newJoinHarness(t, func(c *Config) { c.ContentJoin.Enabled = false })
		h.sendTraces(withAuth(acmeAuth), "join_spans.yaml")
		assert.Equal(t, 4, h.tsink.SpanCount())
	})
	t.Run("no logs pipeline", func(t *testing.T) {
		reg := newJoinRegistry()
		reg.noTick = true
		sink := new(consumertest.TracesSink)
		tp, err := newFactory(reg).CreateTraces(context.Background(), processortestSettings(), defaultCfg(), sink)
		require.NoError(t, err)
		require.NoError(t, tp.Start(context.Background(), componenttest.NewNopHost()))
		defer func() { require.NoError(t, tp.Shutdown(context.Background())) }()
		td, err := golden.ReadTraces(filepath.Join("testdata", "input", "join_spans.yaml"))
		require.NoError(t, err)
		require.NoError(t, tp.ConsumeTraces(withAuth(acmeAuth), td))
		assert.Equal(t, 4, sink.SpanCount(), "nothing can bring content: nothing waits")
	})
	t.Run("logs pipeline shut down", func(t *testing.T) {
		h := newJoinHarness(t, nil)
		require.NoError(t, h.logs.Shutdown(context.Background()))
		h.sendTraces(withAuth(acmeAuth), "join_spans.yaml")
		assert.Equal(t, 4, h.tsink.SpanCount())
	})
}

func TestJoinRegistryForgetsShutDownComponents(t *testing.T) {
	reg := newJoinRegistry()
	reg.noTick = true
	f := newFactory(reg)
	set := processortestSettings()
	tp, err := f.CreateTraces(context.Background(), set, defaultCfg(), consumertest.NewNop())
	require.NoError(t, err)
	lp, err := f.CreateLogs(context.Background(), set, defaultCfg(), consumertest.NewNop())
	require.NoError(t, err)
	first := reg.get(set.ID)
	require.NotNil(t, first)
	require.NoError(t, tp.Shutdown(context.Background()))
	assert.Same(t, first, reg.get(set.ID), "the logs instance still uses it")
	require.NoError(t, lp.Shutdown(context.Background()))
	require.NoError(t, lp.Shutdown(context.Background()))
	assert.Nil(t, reg.get(set.ID))
	// A reload gets a fresh buffer.
	tp, err = f.CreateTraces(context.Background(), set, defaultCfg(), consumertest.NewNop())
	require.NoError(t, err)
	assert.NotSame(t, first, reg.get(set.ID))
	require.NoError(t, tp.Shutdown(context.Background()))
}

func TestJoinReleaseErrorIsNotFatal(t *testing.T) {
	failing := consumertest.NewErr(errors.New("exporter down"))
	h := newJoinHarness(t, nil, failing)
	ctx := withAuth(acmeAuth)
	// The first, immediate part of the request fails as it would anyway.
	td, err := golden.ReadTraces(filepath.Join("testdata", "input", "join_spans.yaml"))
	require.NoError(t, err)
	require.Error(t, h.traces.ConsumeTraces(ctx, td))
	// Releasing the held spans fails too: logged, the log request is fine.
	h.sendLogs(ctx, readJoinLogs(t))
}

// TestJoinBackgroundSweep runs the real sweep goroutine on synctest's fake
// time: a held span is forwarded by itself once the wait has passed.
func TestJoinBackgroundSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := newJoinRegistry()
		f := newFactory(reg)
		cfg := defaultCfg()
		cfg.ContentJoin.Wait = 400 * time.Millisecond
		sink := new(consumertest.TracesSink)
		set := processortestSettings()
		tp, err := f.CreateTraces(context.Background(), set, cfg, sink)
		require.NoError(t, err)
		lp, err := f.CreateLogs(context.Background(), set, cfg, consumertest.NewNop())
		require.NoError(t, err)
		require.NoError(t, tp.Start(context.Background(), componenttest.NewNopHost()))
		require.NoError(t, lp.Start(context.Background(), componenttest.NewNopHost()))
		td, err := golden.ReadTraces(filepath.Join("testdata", "input", "join_spans.yaml"))
		require.NoError(t, err)
		// synctest's clock starts in 2000: move the spans near it.
		shiftTraces(td, time.Now())
		require.NoError(t, tp.ConsumeTraces(withAuth(acmeAuth), td))
		assert.Equal(t, 2, sink.SpanCount())
		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		assert.Equal(t, 2, sink.SpanCount())
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		assert.Equal(t, 4, sink.SpanCount())
		require.NoError(t, tp.Shutdown(context.Background()))
		require.NoError(t, lp.Shutdown(context.Background()))
	})
}

// shiftTraces moves every span so that the earliest starts at start.
func shiftTraces(td ptrace.Traces, start time.Time) {
	var earliest pcommon.Timestamp
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				if earliest == 0 || s.StartTimestamp() < earliest {
					earliest = s.StartTimestamp()
				}
			}
		}
	}
	delta := pcommon.NewTimestampFromTime(start) - earliest
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				s.SetStartTimestamp(s.StartTimestamp() + delta)
				s.SetEndTimestamp(s.EndTimestamp() + delta)
			}
		}
	}
}

func TestJoinConcurrent(t *testing.T) {
	h := newJoinHarness(t, nil)
	ctx := withAuth(acmeAuth)
	src, err := golden.ReadTraces(filepath.Join("testdata", "input", "join_spans.yaml"))
	require.NoError(t, err)
	logsSrc := readJoinLogs(t)
	var wg sync.WaitGroup
	const n = 50
	for i := range n {
		// Each round its own trace id.
		td := ptrace.NewTraces()
		src.CopyTo(td)
		ld := plog.NewLogs()
		logsSrc.CopyTo(ld)
		tid := pcommon.TraceID{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					s.SetTraceID(tid)
				}
			}
		}
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					lr.SetTraceID(tid)
				}
			}
		}
		wg.Add(3)
		go func() { defer wg.Done(); assert.NoError(t, h.traces.ConsumeTraces(ctx, td)) }()
		go func() { defer wg.Done(); assert.NoError(t, h.logs.ConsumeLogs(ctx, ld)) }()
		go func() { defer wg.Done(); h.join.sweep(context.Background()) }()
	}
	wg.Wait()
	// Whatever the interleaving, every span went on with its content.
	assert.Equal(t, 4*n, h.tsink.SpanCount())
	for _, td := range h.tsink.AllTraces() {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					if s.Name() == "GET /ask" {
						continue
					}
					assert.Contains(t, s.Attributes().AsRaw(), llmcall.AttrOutputMessages, s.SpanID().String())
				}
			}
		}
	}
}
