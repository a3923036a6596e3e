package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/llm-observatory/observatory/gateway/providers"
	"github.com/llm-observatory/observatory/gateway/providers/mock"
)

const benchBody = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello! Can you tell me a short fact about otters?"}],"temperature":0.7,"max_tokens":64}`

// BenchmarkChatThroughOpenAIProvider is one non-streamed call through the
// gateway's handler and openai provider to a local mock upstream.
func BenchmarkChatThroughOpenAIProvider(b *testing.B) {
	m, _ := mock.New(mock.Options{})
	up := httptest.NewServer(mock.NewHandler(m, mock.HandlerOptions{}))
	defer up.Close()
	cfg := mustConfig(b, fmt.Sprintf("providers:\n  up: {type: openai, base_url: %q}\nmodels:\n  gpt-4o-mini: {provider: up}\n", up.URL+"/v1"))
	h := newHarness(b, cfg, discardSpans)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(benchBody))
		req.Header.Set("Authorization", "Bearer "+keyA)
		w := httptest.NewRecorder()
		h.gw.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
	b.StopTimer()
	reportOverhead(b, h)
}

// reportOverhead reports the mean of the overhead histogram.
func reportOverhead(b *testing.B, h *harness) {
	var m dto.Metric
	if err := h.gw.m.overhead.WithLabelValues(routeChat).(prometheus.Metric).Write(&m); err == nil && m.Histogram.GetSampleCount() > 0 {
		b.ReportMetric(m.Histogram.GetSampleSum()/float64(m.Histogram.GetSampleCount())*1e9, "overhead-ns/op")
	}
}

// BenchmarkChatMockProvider is one non-streamed call answered by the
// built-in mock: the gateway's own work without any HTTP upstream.
func BenchmarkChatMockProvider(b *testing.B) {
	h := newHarness(b, nil, discardSpans)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(benchBody))
		req.Header.Set("Authorization", "Bearer "+keyA)
		w := httptest.NewRecorder()
		h.gw.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
	b.StopTimer()
	reportOverhead(b, h)
}

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// discardSpans builds and exports spans as usual but keeps none.
func discardSpans(o *Options) { o.ExporterFor, o.Exporter = nil, discardExporter{} }

// rawProvider answers instantly with a fixed OpenAI body, like a
// pass-through upstream with no network: what is left is the gateway.
type rawProvider struct{ body []byte }

func (p rawProvider) Name() string { return "openai" }
func (p rawProvider) Chat(context.Context, *providers.ChatRequest) (*providers.ChatResponse, error) {
	return &providers.ChatResponse{Raw: p.body}, nil
}
func (p rawProvider) ChatStream(context.Context, *providers.ChatRequest) (providers.ChatStream, error) {
	return nil, providers.ErrUnsupported
}
func (p rawProvider) Embeddings(context.Context, *providers.EmbeddingsRequest) (*providers.EmbeddingsResponse, error) {
	return nil, providers.ErrUnsupported
}

// BenchmarkRequestPath is the gateway's request path alone: auth, body,
// parsing, routing, response, metrics and the hand-off to the span
// builder (which runs concurrently, as in production).
func BenchmarkRequestPath(b *testing.B) {
	body, err := os.ReadFile("testdata/openai_chat.json")
	if err != nil {
		b.Fatal(err)
	}
	cfg := mustConfig(b, "providers:\n  raw: {type: mock}\nmodels:\n  gpt-4o-mini: {provider: raw}\n")
	h := newHarness(b, cfg, discardSpans, func(o *Options) { o.Providers = map[string]providers.Provider{"raw": rawProvider{body}} })
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	req.Header.Set("Authorization", "Bearer "+keyA)
	rd := strings.NewReader(benchBody)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rd.Reset(benchBody)
		req.Body = io.NopCloser(rd)
		req.ContentLength = int64(len(benchBody))
		w := httptest.NewRecorder()
		h.gw.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
	b.StopTimer()
	reportOverhead(b, h)
}
