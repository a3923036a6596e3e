package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/queryapi"
)

// exporter returns an opentelemetry-go OTLP exporter for protocol.
func (in *instance) exporter(t testing.TB, protocol, key string) sdktrace.SpanExporter {
	t.Helper()
	ctx := context.Background()
	headers := map[string]string{"x-api-key": key}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch protocol {
	case "grpc":
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(in.grpc), otlptracegrpc.WithInsecure(),
			otlptracegrpc.WithHeaders(headers), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	case "http":
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(in.http), otlptracehttp.WithInsecure(),
			otlptracehttp.WithHeaders(headers), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp
}

var testResource = resource.NewWithAttributes("",
	attribute.String("service.name", "checkout-assistant"),
	attribute.String("deployment.environment.name", "test"),
	// A client cannot choose its tenant: this is overwritten from the key.
	attribute.String(llmcall.AttrProjectID, "prj_someone_else"))

// llmTrace is a plain HTTP root span with one chat call under it.
func llmTrace(traceByte byte, start time.Time, model string) []sdktrace.ReadOnlySpan {
	tid := trace.TraceID{traceByte, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	root := trace.SpanID{traceByte, 0, 0, 0, 0, 0, 0, 1}
	child := trace.SpanID{traceByte, 0, 0, 0, 0, 0, 0, 2}
	scope := instrumentation.Scope{Name: "e2e"}
	stubs := tracetest.SpanStubs{
		{
			Name:                 "POST /checkout/ask",
			SpanContext:          trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: root, TraceFlags: trace.FlagsSampled}),
			SpanKind:             trace.SpanKindServer,
			StartTime:            start,
			EndTime:              start.Add(900 * time.Millisecond),
			Attributes:           []attribute.KeyValue{attribute.String("http.request.method", "POST")},
			Resource:             testResource,
			InstrumentationScope: scope,
		},
		{
			Name:        "chat " + model,
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: child, TraceFlags: trace.FlagsSampled}),
			Parent:      trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: root, TraceFlags: trace.FlagsSampled}),
			SpanKind:    trace.SpanKindClient,
			StartTime:   start.Add(100 * time.Millisecond),
			EndTime:     start.Add(800 * time.Millisecond),
			Attributes: []attribute.KeyValue{
				attribute.String("gen_ai.operation.name", "chat"),
				attribute.String("gen_ai.provider.name", "openai"),
				attribute.String("gen_ai.request.model", model),
				attribute.String("gen_ai.response.model", model+"-2024-08-06"),
				attribute.Int("gen_ai.usage.input_tokens", 1200),
				attribute.Int("gen_ai.usage.output_tokens", 300),
				attribute.StringSlice("gen_ai.response.finish_reasons", []string{"stop"}),
				attribute.String("gen_ai.conversation.id", "sess-42"),
				attribute.String("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":"Where is my order?"}]}]`),
				attribute.String("gen_ai.output.messages", `[{"role":"assistant","parts":[{"type":"text","content":"It ships today."}],"finish_reason":"stop"}]`),
			},
			Status:               sdktrace.Status{Code: codes.Ok},
			Resource:             testResource,
			InstrumentationScope: scope,
		},
	}
	return stubs.Snapshots()
}

type callsPage struct {
	Calls      []llmcall.Call `json:"calls"`
	NextCursor string         `json:"next_cursor"`
}

// waitTrace polls the trace endpoint until it holds n spans.
func (in *instance) waitTrace(t testing.TB, traceID string, n int) queryapi.Trace {
	t.Helper()
	var tr queryapi.Trace
	require.Eventually(t, func() bool {
		tr = queryapi.Trace{}
		return in.get(in.key, "/api/v1/traces/"+traceID, &tr) == http.StatusOK && len(tr.Spans) >= n
	}, 20*time.Second, 50*time.Millisecond, "trace %s never reached %d spans", traceID, n)
	return tr
}

func TestEndToEndSQLite(t *testing.T) {
	t.Parallel()
	testEndToEnd(t, startInstance(t, "", "--max-request-bytes", "1048576"))
}

func TestEndToEndPostgres(t *testing.T) {
	t.Parallel()
	testEndToEnd(t, startInstance(t, postgresURL(t), "--max-request-bytes", "1048576"))
}

func testEndToEnd(t *testing.T, in *instance) {
	ctx := context.Background()
	now := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)

	for i, protocol := range []string{"grpc", "http"} {
		t.Run("export over "+protocol, func(t *testing.T) {
			spans := llmTrace(byte(0xa0+i), now, "gpt-4o")
			exp := in.exporter(t, protocol, in.key)
			require.NoError(t, exp.ExportSpans(ctx, spans))
			tid := spans[0].SpanContext().TraceID().String()
			tr := in.waitTrace(t, tid, 2)

			require.Len(t, tr.Spans, 2)
			root, chat := tr.Spans[0], tr.Spans[1]
			require.Equal(t, 0, root.Depth)
			require.Equal(t, 1, chat.Depth)
			require.False(t, root.IsLLM, "a span without GenAI attributes is kept as a plain span of its trace")
			require.True(t, chat.IsLLM)
			require.Equal(t, "prj_default", chat.ProjectID, "tenant comes from the key, not from attributes")
			require.Equal(t, "org_default", chat.OrgID)
			require.Equal(t, "checkout-assistant", chat.Endpoint)
			require.Equal(t, "openai", chat.Provider)
			require.Equal(t, "gpt-4o", chat.RequestModel)
			require.EqualValues(t, 1200, chat.InputTokens)
			require.EqualValues(t, 300, chat.OutputTokens)
			require.EqualValues(t, 1500, chat.TotalTokens)
			require.Greater(t, chat.CostTotalUSD, 0.0, "gpt-4o is priced")
			require.False(t, chat.Unpriced)
			require.Equal(t, "sess-42", chat.SessionID)
			require.Equal(t, []string{"stop"}, chat.FinishReasons)
			require.Contains(t, string(chat.InputMessages), "Where is my order?")
			require.InDelta(t, 700, chat.LatencyMS, 0.01)
			require.InDelta(t, chat.CostTotalUSD, root.SubtreeCostUSD, 1e-12, "cost rolls up to the root")

			var one llmcall.Call
			require.Equal(t, http.StatusOK, in.get(in.key, "/api/v1/calls/"+chat.SpanID, &one))
			require.Equal(t, chat.Call.SpanID, one.SpanID)

			// The same spans again: stored once.
			require.NoError(t, exp.ExportSpans(ctx, spans))
			time.Sleep(500 * time.Millisecond)
			tr = in.waitTrace(t, tid, 2)
			require.Len(t, tr.Spans, 2, "a redelivered span is stored once")
		})
	}

	t.Run("list, filter and overview", func(t *testing.T) {
		var page callsPage
		require.Equal(t, http.StatusOK, in.get(in.key, "/api/v1/calls?model=gpt-4o&limit=1", &page))
		require.Len(t, page.Calls, 1)
		require.NotEmpty(t, page.NextCursor)
		var page2 callsPage
		require.Equal(t, http.StatusOK, in.get(in.key, "/api/v1/calls?model=gpt-4o&limit=1&cursor="+page.NextCursor, &page2))
		require.Len(t, page2.Calls, 1)
		require.NotEqual(t, page.Calls[0].SpanID, page2.Calls[0].SpanID)
		require.Empty(t, page2.NextCursor)

		var ov struct {
			Total struct {
				Calls       int64   `json:"calls"`
				TotalTokens int64   `json:"total_tokens"`
				CostUSD     float64 `json:"cost_usd"`
				P95         float64 `json:"latency_p95_ms"`
			} `json:"total"`
		}
		require.Equal(t, http.StatusOK, in.get(in.key, "/api/v1/stats/overview?step=1m", &ov))
		require.EqualValues(t, 2, ov.Total.Calls, "two LLM calls; plain spans are not calls")
		require.EqualValues(t, 3000, ov.Total.TotalTokens)
		require.InDelta(t, 700, ov.Total.P95, 0.01)

		require.Equal(t, http.StatusBadRequest, in.get(in.key, "/api/v1/calls?limit=0", nil))
		require.Equal(t, http.StatusBadRequest, in.get(in.key, "/api/v1/calls?from=yesterday", nil))
		require.Equal(t, http.StatusNotFound, in.get(in.key, "/api/v1/traces/"+strings.Repeat("0", 31)+"1", nil))
	})

	t.Run("keys and scopes", func(t *testing.T) {
		require.Equal(t, http.StatusUnauthorized, in.get("", "/api/v1/calls", nil))
		require.Equal(t, http.StatusUnauthorized, in.get("obs_notakey", "/api/v1/calls", nil))

		out, err := in.cli("keys", "create", "--scopes", "ingest", "--name", "checkout-service")
		require.NoError(t, err, out)
		ingestKey := ""
		for _, f := range strings.Fields(out) {
			if strings.HasPrefix(f, "obs_") {
				ingestKey = f
			}
		}
		require.NotEmpty(t, ingestKey, out)
		require.Equal(t, http.StatusForbidden, in.get(ingestKey, "/api/v1/calls", nil), "an ingest key cannot read prompts back")

		spans := llmTrace(0xb0, now, "gpt-4o-mini")
		require.NoError(t, in.exporter(t, "http", ingestKey).ExportSpans(ctx, spans), "an ingest key can send")
		in.waitTrace(t, spans[0].SpanContext().TraceID().String(), 2)

		out, err = in.cli("keys", "create", "--scopes", "read")
		require.NoError(t, err, out)
		readKey := strings.Fields(out[strings.Index(out, "obs_"):])[0]
		err = in.exporter(t, "grpc", readKey).ExportSpans(ctx, llmTrace(0xb1, now, "gpt-4o"))
		require.Error(t, err, "a read-only key cannot ingest")
		require.Equal(t, grpccodes.PermissionDenied, status.Code(err), err.Error())
		require.Contains(t, err.Error(), "scope")
		err = in.exporter(t, "http", readKey).ExportSpans(ctx, llmTrace(0xb1, now, "gpt-4o"))
		require.ErrorContains(t, err, "401", "confighttp answers every authentication error with 401")
		require.ErrorContains(t, err, "scope")

		err = in.exporter(t, "grpc", "obs_wrongwrongwrongwrong").ExportSpans(ctx, llmTrace(0xb2, now, "gpt-4o"))
		require.Equal(t, grpccodes.Unauthenticated, status.Code(err))

		out, err = in.cli("keys", "list")
		require.NoError(t, err, out)
		require.Contains(t, out, "checkout-service")
		id := ""
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "checkout-service") {
				id = strings.Fields(line)[0]
			}
		}
		out, err = in.cli("keys", "revoke", id)
		require.NoError(t, err, out)
	})

	t.Run("bad input is refused with a reason and the process keeps serving", func(t *testing.T) {
		post := func(contentType string, body []byte, key string) (int, string) {
			req, err := http.NewRequest(http.MethodPost, "http://"+in.http+"/v1/traces", bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("x-api-key", key)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			return resp.StatusCode, b.String()
		}
		code, _ := post("application/x-protobuf", []byte{0xff, 0xff, 0xff, 0x01, 0x02}, in.key)
		require.Equal(t, http.StatusBadRequest, code, "malformed protobuf")
		code, _ = post("application/json", []byte(`{"resourceSpans": [`), in.key)
		require.Equal(t, http.StatusBadRequest, code, "malformed JSON")
		code, _ = post("text/plain", []byte("hello"), in.key)
		require.Equal(t, http.StatusUnsupportedMediaType, code, "wrong content type")
		code, _ = post("application/x-protobuf", bytes.Repeat([]byte{0}, 2<<20), in.key)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, code, "oversized payload")
		code, _ = post("application/x-protobuf", nil, "obs_wrong")
		require.Equal(t, http.StatusUnauthorized, code)

		build := func(mut func(ptrace.Span)) []byte {
			td := ptrace.NewTraces()
			s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			s.SetTraceID(pcommon.TraceID{1, 2, 3})
			s.SetSpanID(pcommon.SpanID{4, 5, 6})
			s.SetName("chat gpt-4o")
			s.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Second)))
			mut(s)
			b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
			require.NoError(t, err)
			return b
		}
		code, body := post("application/x-protobuf", build(func(s ptrace.Span) { s.SetName("bad \xff\xfe name") }), in.key)
		require.Equal(t, http.StatusBadRequest, code, "invalid UTF-8: %s", body)
		code, body = post("application/x-protobuf", build(func(s ptrace.Span) {
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Date(2301, 1, 1, 0, 0, 0, 0, time.UTC)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(time.Date(2301, 1, 1, 0, 0, 1, 0, time.UTC)))
		}), in.key)
		require.Equal(t, http.StatusBadRequest, code, "absurd timestamp: %s", body)
		code, body = post("application/x-protobuf", build(func(s ptrace.Span) { s.SetStartTimestamp(1) }), in.key)
		require.Equal(t, http.StatusBadRequest, code, "absurd timestamp: %s", body)

		// Still serving, and every refusal is a metric with its reason.
		spans := llmTrace(0xc0, now, "gpt-4o")
		require.NoError(t, in.exporter(t, "http", in.key).ExportSpans(ctx, spans))
		in.waitTrace(t, spans[0].SpanContext().TraceID().String(), 2)
		m := in.metrics()
		for _, want := range []string{
			`outcome="bad_request",transport="http"`,
			`outcome="unsupported_media_type",transport="http"`,
			`outcome="too_large",transport="http"`,
			`reason="absurd_timestamp"`,
			`reason="invalid_utf8"`,
			`reason="invalid_key"`,
			`reason="forbidden_scope"`,
			`observatory_storage_stored`,
		} {
			require.Contains(t, m, want, "metrics:\n%s", grepLines(m, "observatory_"))
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestDemoShowsDataWithinSeconds(t *testing.T) {
	t.Parallel()
	in := startInstance(t, "")
	start := time.Now()
	out, err := in.cli("demo", "--traces", "12")
	require.NoError(t, err, out)
	require.Contains(t, out, "sent 12 traces")
	var page callsPage
	require.Eventually(t, func() bool {
		page = callsPage{}
		return in.get(in.key, "/api/v1/calls?limit=1000", &page) == http.StatusOK && len(page.Calls) > 12
	}, 20*time.Second, 100*time.Millisecond)
	t.Logf("demo: %d calls visible %s after start", len(page.Calls), time.Since(start).Round(time.Millisecond))
	models := map[string]bool{}
	for _, c := range page.Calls {
		models[c.RequestModel] = true
	}
	require.GreaterOrEqual(t, len(models), 3, fmt.Sprint(models))

	out, err = in.cli("demo", "--traces", "3", "--reset")
	require.NoError(t, err, out)
	require.Contains(t, out, "reset: deleted")
}
