package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

func TestIngestBatchPerRecordErrors(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	h := newHarness(t, nil, func(o *Options) { o.Now = func() time.Time { return now } })
	body := `{"records":[
	  {"id":"call-1","model":"gpt-4o","provider":"openai","messages":[{"role":"user","content":"hi"}],"output":"hello!",
	   "tokens":{"input":10,"output":3},"latency_ms":420,"start_time":"2025-06-01T11:59:00Z","endpoint":"support-bot",
	   "session_id":"s1","user_id":"u1","metadata":{"tier":"gold","retries":2,"beta":true},"finish_reasons":["stop"]},
	  {"model":"","tokens":{"input":-1}},
	  {"model":"claude","status":"error","error":{"type":"rate_limited","message":"429 from upstream"},"http_status":429,"end_time":"2025-06-01T11:59:59.5Z","latency_ms":1500},
	  {"model":"x","latency_ms":1,"frobnicate":true},
	  {"model":"x","start_time":"yesterday"},
	  {"model":"x","start_time":"2025-06-01T11:00:00Z","end_time":"2025-06-01T10:00:00Z"},
	  {"model":"x","latency_ms":5,"trace_id":"0af7651916cd43dd8448eb211c80319c","parent_span_id":"b7ad6b7169203331","messages":[{"role":"user","parts":[{"type":"text","content":"otel style"}]}]}
	]}`
	resp, b := h.do("POST", "/v1/ingest", keyA, body)
	require.Equal(t, 207, resp.StatusCode, string(b))
	var ir IngestResponse
	require.NoError(t, json.Unmarshal(b, &ir))
	require.Equal(t, 3, ir.Accepted)
	require.Equal(t, 4, ir.Rejected)
	status := func(i int) string { return ir.Results[i].Status }
	require.Equal(t, []string{"accepted", "rejected", "accepted", "rejected", "rejected", "rejected", "accepted"},
		[]string{status(0), status(1), status(2), status(3), status(4), status(5), status(6)})
	fields := func(i int) []string {
		var out []string
		for _, e := range ir.Results[i].Errors {
			out = append(out, e.Field)
		}
		return out
	}
	require.ElementsMatch(t, []string{"model", "tokens.input", "start_time"}, fields(1))
	require.Equal(t, []string{"frobnicate"}, fields(3))
	require.Equal(t, []string{"start_time"}, fields(4))
	require.Equal(t, []string{"end_time"}, fields(5))

	// Deterministic ids from the record id: a retried batch dedups downstream.
	tid, sid := deriveIDs("prj_a", "call-1")
	require.Equal(t, tid.String(), ir.Results[0].TraceID)
	require.Equal(t, sid.String(), ir.Results[0].SpanID)
	require.Equal(t, "0af7651916cd43dd8448eb211c80319c", ir.Results[6].TraceID)

	spans := h.waitSpans("prj_a", 3)
	byID := map[string]int{}
	for i, s := range spans {
		byID[s.SpanContext.SpanID().String()] = i
	}
	s0 := spans[byID[ir.Results[0].SpanID]]
	a := attrs(s0)
	require.Equal(t, "chat gpt-4o", s0.Name)
	require.Equal(t, "openai", a[llmcall.AttrProvider])
	require.EqualValues(t, 10, a[llmcall.AttrInputTokens])
	require.Equal(t, "support-bot", a[llmcall.AttrEndpoint])
	require.Equal(t, "gold", a[AttrMetadataPrefix+"tier"])
	require.Equal(t, 2.0, a[AttrMetadataPrefix+"retries"])
	require.Equal(t, true, a[AttrMetadataPrefix+"beta"])
	require.Equal(t, now.Add(-time.Minute), s0.StartTime)
	require.Equal(t, now.Add(-time.Minute+420*time.Millisecond), s0.EndTime)
	require.JSONEq(t, `[{"role":"user","parts":[{"type":"text","content":"hi"}]}]`, a[llmcall.AttrInputMessages].(string))
	require.JSONEq(t, `[{"role":"assistant","parts":[{"type":"text","content":"hello!"}],"finish_reason":"stop"}]`, a[llmcall.AttrOutputMessages].(string))
	svc, _ := s0.Resource.Set().Value("service.name")
	require.Equal(t, ServiceIngest, svc.AsString())

	s2 := spans[byID[ir.Results[2].SpanID]]
	require.Equal(t, codes.Error, s2.Status.Code)
	require.Equal(t, "429 from upstream", s2.Status.Description)
	require.Equal(t, "rate_limited", attrs(s2)[llmcall.AttrErrorType])
	require.Equal(t, 1500*time.Millisecond, s2.EndTime.Sub(s2.StartTime))

	s6 := spans[byID[ir.Results[6].SpanID]]
	require.Equal(t, "b7ad6b7169203331", s6.Parent.SpanID().String())
	require.Contains(t, attrs(s6)[llmcall.AttrInputMessages], "otel style")
}

func TestIngestBatchShapeErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Server.MaxIngestRecords = 2
	h := newHarness(t, cfg)
	for body, want := range map[string]int{
		`{"records":[]}`: 400,
		`{"rows":[]}`:    400,
		`[1,2]`:          400,
		`{"records":[{"model":"a","latency_ms":1},{"model":"b","latency_ms":1},{"model":"c","latency_ms":1}]}`: 400,
		`{"records":[{}]}`: 400, // all rejected
	} {
		resp, b := h.do("POST", "/v1/ingest", keyA, body)
		require.Equal(t, want, resp.StatusCode, body+" → "+string(b))
	}
	resp, _ := h.do("POST", "/v1/ingest", "", `{"records":[]}`)
	require.Equal(t, 401, resp.StatusCode)
}

// flakyExporter fails until healthy is set, like a collector that is
// briefly down.
type flakyExporter struct {
	mu      sync.Mutex
	healthy atomic.Bool
	fails   atomic.Int64
	spans   []sdktrace.ReadOnlySpan
}

func (f *flakyExporter) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	if !f.healthy.Load() {
		f.fails.Add(1)
		return errors.New("connection refused")
	}
	f.mu.Lock()
	f.spans = append(f.spans, s...)
	f.mu.Unlock()
	return nil
}

func (f *flakyExporter) Shutdown(context.Context) error { return nil }

func (f *flakyExporter) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.spans)
}

func TestIngestSurvivesCollectorOutage(t *testing.T) {
	fx := &flakyExporter{}
	cfg := DefaultConfig()
	cfg.Telemetry.FlushInterval = 20 * time.Millisecond
	cfg.Telemetry.BatchSize = 10
	h := newHarness(t, cfg, func(o *Options) {
		o.ExporterFor = nil
		o.Exporter = fx
	})
	var records []string
	for i := range 25 {
		records = append(records, fmt.Sprintf(`{"id":"r%d","model":"gpt-4o","latency_ms":10}`, i))
	}
	resp, b := h.do("POST", "/v1/ingest", keyA, `{"records":[`+strings.Join(records, ",")+`]}`)
	require.Equal(t, 200, resp.StatusCode, string(b))
	resp, _ = h.do("POST", "/v1/chat/completions", keyA, chatBody)
	require.Equal(t, 200, resp.StatusCode)
	require.Eventually(t, func() bool { return fx.fails.Load() >= 2 }, 5*time.Second, 10*time.Millisecond)
	require.Zero(t, fx.count())
	fx.healthy.Store(true) // the collector is back
	require.Eventually(t, func() bool { return fx.count() == 26 }, 10*time.Second, 20*time.Millisecond)
	require.Zero(t, metricValue(h.gw.m.spansDropped.WithLabelValues("export_failed")))
}

func TestIngestRefusedWhenQueueFull(t *testing.T) {
	fx := &flakyExporter{} // never healthy: spans pile up
	cfg := DefaultConfig()
	cfg.Telemetry.QueueSpans = 10
	cfg.Telemetry.BatchSize = 5
	cfg.Telemetry.RetryMaxElapsed = time.Hour
	h := newHarness(t, cfg, func(o *Options) {
		o.ExporterFor = nil
		o.Exporter = fx
	})
	batch := func(n int) string {
		var rs []string
		for i := range n {
			rs = append(rs, fmt.Sprintf(`{"model":"m","latency_ms":%d}`, i))
		}
		return `{"records":[` + strings.Join(rs, ",") + `]}`
	}
	resp, _ := h.do("POST", "/v1/ingest", keyA, batch(8))
	require.Equal(t, 200, resp.StatusCode)
	resp, b := h.do("POST", "/v1/ingest", keyA, batch(5))
	require.Equal(t, 503, resp.StatusCode, string(b))
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
	// Gateway calls still work; their spans are dropped and counted.
	for range 5 {
		resp, _ = h.do("POST", "/v1/chat/completions", keyA, chatBody)
		require.Equal(t, 200, resp.StatusCode)
	}
	require.Eventually(t, func() bool { return metricValue(h.gw.m.spansDropped.WithLabelValues("queue_full")) >= 3 }, 5*time.Second, 10*time.Millisecond)
	// Shutdown gives up on the stuck batch at its deadline and says so.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	require.Error(t, h.gw.Shutdown(ctx))
}

func FuzzParseIngestRecord(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o","latency_ms":12,"messages":[{"role":"user","content":"hi"}],"output":"yo"}`,
		`{"model":"m","start_time":"2025-06-01T11:59:00Z","end_time":"2025-06-01T11:59:01Z","tokens":{"input":1,"output":2}}`,
		`{"model":"m","latency_ms":1,"output":[{"role":"assistant","parts":[{"type":"text","content":"x"}]}],"metadata":{"a":1}}`,
		`{"model":"m","latency_ms":1,"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331"}`,
		`{"model":"m","latency_ms":1,"messages":[{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`,
		`{}`, `null`, `[]`, `{"model":1}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, errs := ParseIngestRecord(raw, now)
		if (c == nil) == (errs == nil) {
			t.Fatalf("exactly one of call and errors must be set: %v %v", c, errs)
		}
		if c == nil {
			for _, e := range errs {
				if e.Message == "" {
					t.Fatal("empty error message")
				}
			}
			return
		}
		if c.r.Model == "" || c.end.Before(c.start) {
			t.Fatalf("accepted an invalid record: %+v", c.r)
		}
		for _, b := range [][]byte{c.input, c.output} {
			if len(b) > 0 && !json.Valid(b) {
				t.Fatalf("content is not JSON: %s", b)
			}
		}
	})
}
