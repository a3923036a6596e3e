package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// BenchmarkIngest measures calls/s from the opentelemetry-go OTLP gRPC
// exporter through the real binary (auth, genai, storage exporter) into
// storage, until every call is readable through the query API: embedded
// on SQLite and on PostgreSQL, and the scaled path (ingest collector →
// Kafka (kfake) → sink collector → PostgreSQL, read by `observatory api`).
//
//	go test -run '^$' -bench Ingest -benchtime 3x ./e2e/
func BenchmarkIngest(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchIngest(b, startInstance(b, "", "--pprof")) })
	b.Run("postgres", func(b *testing.B) { benchIngest(b, startInstance(b, postgresURL(b), "--pprof")) })
	b.Run("kafka_postgres", func(b *testing.B) {
		sc := startScaled(b)
		api := startRole(b, sc.env, "query API listening", "/readyz", func(addr string) []string { return []string{"api", "--addr", addr} })
		benchIngest(b, &instance{t: b, grpc: sc.grpc, api: api, key: sc.key(b, "ingest,read")})
	})
}

const (
	benchCallsPerOp = 20000
	benchBatch      = 500
	benchSenders    = 4
)

func benchIngest(b *testing.B, in *instance) {
	prompt := strings.Repeat("Summarise the customer's last three orders and suggest a follow-up. ", 16) // ~1 KB
	answer := strings.Repeat("The customer ordered shoes, a jacket and socks. ", 10)
	res := testResource
	exporters := make([]sdktrace.SpanExporter, benchSenders)
	for i := range exporters {
		exporters[i] = in.exporter(b, "grpc", in.key)
	}
	var seq uint64
	batch := func(start time.Time) []sdktrace.ReadOnlySpan {
		stubs := make(tracetest.SpanStubs, benchBatch)
		for i := range stubs {
			seq++
			var tid trace.TraceID
			var sid trace.SpanID
			for j := 0; j < 8; j++ {
				tid[j] = byte(seq >> (8 * j))
				sid[j] = byte(seq >> (8 * j))
			}
			tid[15] = 0xbe
			stubs[i] = tracetest.SpanStub{
				Name:        "chat gpt-4o-mini",
				SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}),
				SpanKind:    trace.SpanKindClient,
				StartTime:   start, EndTime: start.Add(800 * time.Millisecond),
				Attributes: []attribute.KeyValue{
					attribute.String("gen_ai.operation.name", "chat"),
					attribute.String("gen_ai.provider.name", "openai"),
					attribute.String("gen_ai.request.model", "gpt-4o-mini"),
					attribute.Int("gen_ai.usage.input_tokens", 250),
					attribute.Int("gen_ai.usage.output_tokens", 120),
					attribute.String("gen_ai.input.messages", fmt.Sprintf(`[{"role":"user","parts":[{"type":"text","content":%q}]}]`, prompt)),
					attribute.String("gen_ai.output.messages", fmt.Sprintf(`[{"role":"assistant","parts":[{"type":"text","content":%q}],"finish_reason":"stop"}]`, answer)),
				},
				Status:               sdktrace.Status{Code: codes.Ok},
				Resource:             res,
				InstrumentationScope: instrumentation.Scope{Name: "bench"},
			}
		}
		return stubs.Snapshots()
	}
	// BENCH_CPU_PROFILE=dir saves a 5 s CPU profile of the server per run.
	if dir := os.Getenv("BENCH_CPU_PROFILE"); dir != "" {
		go func() {
			resp, err := http.Get("http://" + in.api + "/debug/pprof/profile?seconds=5")
			if err != nil {
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return // no --pprof on this role
			}
			f, err := os.Create(filepath.Join(dir, strings.ReplaceAll(b.Name(), "/", "_")+".pprof"))
			if err == nil {
				_, _ = io.Copy(f, resp.Body)
				f.Close()
			}
		}()
	}
	total := 0
	var exportTime time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		start := time.Now().Add(-time.Minute)
		batches := make([][]sdktrace.ReadOnlySpan, benchCallsPerOp/benchBatch)
		for i := range batches {
			batches[i] = batch(start)
		}
		b.StartTimer()
		t0 := time.Now()
		var wg sync.WaitGroup
		work := make(chan []sdktrace.ReadOnlySpan)
		for _, exp := range exporters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for spans := range work {
					if err := exp.ExportSpans(context.Background(), spans); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for _, bt := range batches {
			work <- bt
		}
		close(work)
		wg.Wait()
		exportTime += time.Since(t0)
		total += benchCallsPerOp
		in.waitCalls(b, total)
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "calls/s")
	// Acknowledged: answered to the sender, i.e. durable (wait_for_result).
	b.ReportMetric(float64(total)/exportTime.Seconds(), "acked_calls/s")
}

// waitCalls polls the overview until n calls are stored.
func (in *instance) waitCalls(tb testing.TB, n int) {
	tb.Helper()
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var ov struct {
			Total struct {
				Calls int `json:"calls"`
			} `json:"total"`
		}
		if in.get(in.key, "/api/v1/stats/overview?step=1h&from="+from+"&to="+to, &ov) == http.StatusOK && ov.Total.Calls >= n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d calls stored after 5 minutes", ov.Total.Calls, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
