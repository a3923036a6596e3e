package storagetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

// BenchCalls returns n realistic LLM calls (about 1 KB of message and
// attribute JSON each) of one project with unique keys derived from seq,
// starting at start.
func BenchCalls(project string, seq, n int, start time.Time) []llmcall.Call {
	question := strings.Repeat("How do I reset my password when the email link has expired? ", 6)
	answer := strings.Repeat("Open Settings, choose Security, then Reset password and follow the steps. ", 4)
	in, _ := json.Marshal([]map[string]any{{"role": "user", "parts": []map[string]string{{"type": "text", "content": question}}}})
	out, _ := json.Marshal([]map[string]any{{"role": "assistant", "finish_reason": "stop", "parts": []map[string]string{{"type": "text", "content": answer}}}})
	sys := json.RawMessage(`[{"type":"text","content":"You are the support assistant of Acme. Answer briefly."}]`)
	calls := make([]llmcall.Call, n)
	for i := range calls {
		id := seq*n + i
		st := start.Add(time.Duration(id) * time.Millisecond)
		calls[i] = llmcall.Call{
			OrgID: "org-bench", ProjectID: project, Endpoint: "support-bot", Environment: "production",
			ServiceName: "support-api", TraceID: fmt.Sprintf("%032x", id/4), SpanID: fmt.Sprintf("%016x", id),
			Name: "chat gpt-4o-mini", Kind: "client", SessionID: fmt.Sprintf("conv-%d", id/20), UserID: "user-123",
			StartTime: st, EndTime: st.Add(850 * time.Millisecond), LatencyMS: 850, TTFTMS: 210,
			IsLLM: true, Provider: "openai", Operation: "chat", RequestModel: "gpt-4o-mini",
			ResponseModel: "gpt-4o-mini-2024-07-18", SourceConvention: "otel_genai",
			InputTokens: 420, OutputTokens: 96, TotalTokens: 516, CacheReadTokens: 128,
			CostInputUSD: 0.000063, CostOutputUSD: 0.0000576, CostTotalUSD: 0.0001206,
			CostSource: llmcall.CostSourcePriceTable, Status: llmcall.StatusOK, HTTPStatus: 200,
			FinishReasons: []string{"stop"}, InputMessages: in, OutputMessages: out, SystemInstructions: sys,
			Attributes: json.RawMessage(`{"gen_ai.request.temperature":0.2,"gen_ai.request.max_tokens":512,"server.address":"api.openai.com","telemetry.sdk.language":"python"}`),
		}
	}
	return calls
}

// BenchmarkWriteCalls measures WriteCalls with batches of 1000 new calls
// and reports calls/s.
func BenchmarkWriteCalls(b *testing.B, s storage.Store) {
	const batch = 1000
	ctx := context.Background()
	start := time.Now().UTC().Truncate(time.Hour)
	var written int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		calls := BenchCalls("p-bench", i, batch, start)
		b.StartTimer()
		if err := s.WriteCalls(ctx, calls); err != nil {
			b.Fatal(err)
		}
		written += len(calls)
	}
	b.StopTimer()
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(float64(written)/sec, "calls/s")
	}
}
