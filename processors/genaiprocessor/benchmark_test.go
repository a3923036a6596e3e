package genaiprocessor

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

const benchBatch = 100 // spans per request

// benchTraces is one request of benchBatch realistic chat spans: a 2 KB
// prompt, a 1 KB completion, usage, model and the usual attributes. legacy
// uses ≤1.36 keys and a structured output value instead.
func benchTraces(legacy bool) ptrace.Traces {
	if legacy {
		return benchTracesVariant("legacy")
	}
	return benchTracesVariant("current")
}

// benchTracesVariant builds the request in one convention: current (OTel
// GenAI v1.37+), legacy (≤ 1.36 keys, structured output) or openinference
// (llm.* keys, llm.input_messages.N.*, input.value / output.value holding
// the whole request and response JSON, converted to the OTel message
// schema).
func benchTracesVariant(variant string) ptrace.Traces {
	legacy := variant == "legacy"
	prompt := strings.Repeat("Summarise the customer's last three orders and suggest a reply. ", 32)[:2048]
	completion := strings.Repeat("Thanks for reaching out, here is a summary of your orders. ", 18)[:1024]
	in, _ := json.Marshal([]any{
		map[string]any{"role": "user", "parts": []any{map[string]any{"type": "text", "content": prompt}}},
	})
	out, _ := json.Marshal([]any{
		map[string]any{"role": "assistant", "finish_reason": "stop", "parts": []any{map[string]any{"type": "text", "content": completion}}},
	})
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	ra := rs.Resource().Attributes()
	ra.PutStr("service.name", "support-bot")
	ra.PutStr("deployment.environment.name", "prod")
	ra.PutStr("telemetry.sdk.language", "python")
	ra.PutStr("telemetry.sdk.name", "opentelemetry")
	ra.PutStr("telemetry.sdk.version", "1.38.0")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("opentelemetry.instrumentation.openai_v2")
	start := testNow.Add(-time.Minute)
	for i := range benchBatch {
		span := ss.Spans().AppendEmpty()
		span.SetName("chat gpt-4o-mini")
		span.SetKind(ptrace.SpanKindClient)
		span.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, byte(i)})
		span.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, byte(i)})
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(1200 * time.Millisecond)))
		a := span.Attributes()
		if variant == "openinference" {
			span.SetName("ChatCompletion")
			a.PutStr("openinference.span.kind", "LLM")
			a.PutStr("llm.model_name", "gpt-4o-mini-2024-07-18")
			a.PutStr("llm.provider", "openai")
			a.PutStr("llm.system", "openai")
			a.PutStr("llm.invocation_parameters", `{"model":"gpt-4o-mini","temperature":0.2,"max_tokens":1024}`)
			req, _ := json.Marshal(map[string]any{"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "user", "content": prompt}}})
			resp, _ := json.Marshal(map[string]any{"id": "chatcmpl-AbCdEf123456", "model": "gpt-4o-mini-2024-07-18",
				"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": completion}}},
				"usage":   map[string]any{"prompt_tokens": 512, "completion_tokens": 256, "total_tokens": 768}})
			a.PutStr("input.value", string(req))
			a.PutStr("input.mime_type", "application/json")
			a.PutStr("output.value", string(resp))
			a.PutStr("output.mime_type", "application/json")
			a.PutStr("llm.input_messages.0.message.role", "user")
			a.PutStr("llm.input_messages.0.message.content", prompt)
			a.PutStr("llm.output_messages.0.message.role", "assistant")
			a.PutStr("llm.output_messages.0.message.content", completion)
			a.PutStr("llm.finish_reason", "stop")
			a.PutInt("llm.token_count.prompt", 512)
			a.PutInt("llm.token_count.completion", 256)
			a.PutInt("llm.token_count.total", 768)
			a.PutStr("session.id", "conv-1234")
			a.PutStr("user.id", "u-42")
			continue
		}
		a.PutStr("gen_ai.operation.name", "chat")
		a.PutStr("gen_ai.request.model", "gpt-4o-mini")
		a.PutStr("gen_ai.response.model", "gpt-4o-mini-2024-07-18")
		a.PutStr("gen_ai.response.id", "chatcmpl-AbCdEf123456")
		a.PutDouble("gen_ai.request.temperature", 0.2)
		a.PutInt("gen_ai.request.max_tokens", 1024)
		a.PutStr("gen_ai.conversation.id", "conv-1234")
		a.PutStr("server.address", "api.openai.com")
		a.PutInt("server.port", 443)
		a.PutStr("user.id", "u-42")
		if legacy {
			a.PutStr("gen_ai.system", "openai")
			a.PutInt("gen_ai.usage.prompt_tokens", 512)
			a.PutInt("gen_ai.usage.completion_tokens", 256)
			a.PutInt("llm.usage.total_tokens", 768)
			a.PutStr("gen_ai.response.finish_reason", "stop")
			a.PutStr("gen_ai.input.messages", string(in))
			v := a.PutEmpty("gen_ai.output.messages")
			var raw []any
			_ = json.Unmarshal(out, &raw)
			_ = v.SetEmptySlice().FromRaw(raw)
		} else {
			a.PutStr("gen_ai.provider.name", "openai")
			a.PutInt("gen_ai.usage.input_tokens", 512)
			a.PutInt("gen_ai.usage.output_tokens", 256)
			a.PutInt("gen_ai.usage.cache_read.input_tokens", 128)
			a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr("stop")
			a.PutStr("gen_ai.input.messages", string(in))
			a.PutStr("gen_ai.output.messages", string(out))
		}
	}
	return td
}

// BenchmarkProcessTraces compares the genai processor with a no-op
// processor (same processorhelper wrapping) on the same requests in the
// same run. Copying the input for the genai processor is not timed. Run:
//
//	go test -run '^$' -bench BenchmarkProcessTraces -benchmem -count 5 ./processors/genaiprocessor/
func BenchmarkProcessTraces(b *testing.B) {
	noop := func(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) { return td, nil }
	newNoop := func(b *testing.B) processor.Traces {
		tp, err := processorhelper.NewTraces(context.Background(), processortestSettings(), defaultCfg(),
			consumertest.NewNop(), noop, processorhelper.WithCapabilities(processorCapabilities))
		if err != nil {
			b.Fatal(err)
		}
		return tp
	}
	newGenAI := func(b *testing.B) processor.Traces {
		tp, _ := newTestTraces(b, defaultCfg(), processortestSettings(), consumertest.NewNop())
		return tp
	}
	for _, bc := range []struct {
		name    string
		variant string
		create  func(*testing.B) processor.Traces
	}{
		{"noop", "current", newNoop},
		{"genai/current", "current", newGenAI},
		{"genai/legacy_structured", "legacy", newGenAI},
		{"genai/openinference", "openinference", newGenAI},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tp := bc.create(b)
			src := benchTracesVariant(bc.variant)
			ctx := withAuth(acmeAuth)
			mutates := bc.name != "noop"
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				td := src
				if mutates {
					// The genai processor rewrites its input: give it a fresh
					// copy, untimed. The no-op one reads the same request.
					b.StopTimer()
					td = ptrace.NewTraces()
					src.CopyTo(td)
					b.StartTimer()
				}
				if err := tp.ConsumeTraces(ctx, td); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "spans/s")
		})
	}
}
