package genaiprocessor

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// normalizeOne runs one span with the given attributes through the
// processor and returns its attributes.
func normalizeOne(t *testing.T, cfg *Config, name string, set func(pcommon.Map), status ptrace.StatusCode) map[string]any {
	t.Helper()
	td := validTraces(nil)
	ss := td.ResourceSpans().At(0).ScopeSpans().At(0)
	ss.Spans().RemoveIf(func(s ptrace.Span) bool { return s.SpanID() != (pcommon.SpanID{0xa, 0xb, 0xc, 0xd, 0, 0, 0, 1}) })
	span := ss.Spans().At(0)
	span.SetName(name)
	span.Attributes().Clear()
	span.Status().SetCode(status)
	set(span.Attributes())
	p := newTestProcessor(t, cfg, processortestSettings())
	out, err := p.processTraces(context.Background(), td)
	require.NoError(t, err)
	return out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw()
}

func TestNormalizeEdgeCases(t *testing.T) {
	t.Run("finish reasons as a JSON array in a string", func(t *testing.T) {
		got := normalizeOne(t, defaultCfg(), "chat x", func(m pcommon.Map) {
			m.PutStr("gen_ai.request.model", "gpt-4o")
			m.PutStr("gen_ai.response.finish_reasons", `["tool_calls","END_TURN","recitation"]`)
		}, ptrace.StatusCodeUnset)
		assert.Equal(t, []any{"tool_call", "stop", "recitation"}, got["gen_ai.response.finish_reasons"])
	})
	t.Run("structured system instructions become a JSON string", func(t *testing.T) {
		got := normalizeOne(t, defaultCfg(), "chat x", func(m pcommon.Map) {
			m.PutStr("gen_ai.request.model", "gpt-4o")
			p := m.PutEmptySlice("gen_ai.system_instructions").AppendEmpty().SetEmptyMap()
			p.PutStr("type", "text")
			p.PutStr("content", "Be brief.")
		}, ptrace.StatusCodeUnset)
		assert.Equal(t, `[{"type":"text","content":"Be brief."}]`, got["gen_ai.system_instructions"])
	})
	t.Run("bytes content is reported and kept", func(t *testing.T) {
		got := normalizeOne(t, defaultCfg(), "chat x", func(m pcommon.Map) {
			m.PutStr("gen_ai.request.model", "gpt-4o")
			m.PutEmptyBytes("gen_ai.input.messages").FromRaw([]byte("{}"))
		}, ptrace.StatusCodeUnset)
		assert.Equal(t, []byte("{}"), got["gen_ai.input.messages"])
		assert.Equal(t, []any{"wrong_type:gen_ai.input.messages"}, got[attrNormalizeIssues])
	})
	t.Run("an empty canonical value gives way to an alias", func(t *testing.T) {
		got := normalizeOne(t, defaultCfg(), "chat x", func(m pcommon.Map) {
			m.PutStr("gen_ai.provider.name", "")
			m.PutStr("gen_ai.system", "MistralAI")
		}, ptrace.StatusCodeUnset)
		assert.Equal(t, "mistral_ai", got["gen_ai.provider.name"])
		assert.NotContains(t, got, "gen_ai.system")
		assert.NotContains(t, got, attrNormalizeIssues)
	})
	t.Run("equal alias is removed, no issue", func(t *testing.T) {
		got := normalizeOne(t, defaultCfg(), "chat x", func(m pcommon.Map) {
			m.PutStr("gen_ai.provider.name", "openai")
			m.PutStr("gen_ai.system", "OpenAI")
			m.PutInt("gen_ai.usage.input_tokens", 10)
			m.PutDouble("gen_ai.usage.prompt_tokens", 10)
		}, ptrace.StatusCodeUnset)
		assert.NotContains(t, got, "gen_ai.system")
		assert.NotContains(t, got, "gen_ai.usage.prompt_tokens")
		assert.NotContains(t, got, attrNormalizeIssues)
	})
	t.Run("non-finite and string numbers", func(t *testing.T) {
		got := normalizeOne(t, defaultCfg(), "chat x", func(m pcommon.Map) {
			m.PutStr("gen_ai.request.model", "gpt-4o")
			m.PutDouble("gen_ai.response.time_to_first_chunk", math.NaN())
			m.PutDouble("gen_ai.usage.output_tokens", math.Inf(1))
			m.PutStr("gen_ai.usage.input_tokens", " 42 ")
			m.PutStr("gen_ai.usage.cost", "0.5")
			m.PutDouble("gen_ai.usage.reasoning.output_tokens", 1.5)
		}, ptrace.StatusCodeUnset)
		assert.Equal(t, int64(42), got["gen_ai.usage.input_tokens"])
		assert.Equal(t, 0.5, got["gen_ai.usage.cost"])
		assert.Equal(t, 0.5, got["observatory.cost.total_usd"])
		assert.ElementsMatch(t, []any{
			"non_finite:gen_ai.response.time_to_first_chunk",
			"non_finite:gen_ai.usage.output_tokens",
			"wrong_type:gen_ai.usage.reasoning.output_tokens",
		}, got[attrNormalizeIssues])
	})
	t.Run("max_token_count is configurable", func(t *testing.T) {
		cfg := defaultCfg()
		cfg.Normalize.MaxTokenCount = 1000
		got := normalizeOne(t, cfg, "chat x", func(m pcommon.Map) {
			m.PutStr("gen_ai.request.model", "gpt-4o")
			m.PutInt("gen_ai.usage.input_tokens", 1001)
			m.PutInt("gen_ai.usage.output_tokens", 1000)
		}, ptrace.StatusCodeUnset)
		assert.NotContains(t, got, "gen_ai.usage.input_tokens")
		assert.Equal(t, int64(1000), got["gen_ai.usage.output_tokens"])
		assert.Equal(t, []any{"absurd_value:gen_ai.usage.input_tokens"}, got[attrNormalizeIssues])
	})
	t.Run("a model alone makes a priced chat call", func(t *testing.T) {
		got := normalizeOne(t, defaultCfg(), "llm call", func(m pcommon.Map) {
			m.PutStr("gen_ai.response.model", "gpt-4o-mini")
			m.PutInt("gen_ai.usage.input_tokens", 1_000_000)
		}, ptrace.StatusCodeUnset)
		assert.Equal(t, "chat", got["gen_ai.operation.name"])
		assert.Equal(t, 0.15, got["observatory.cost.total_usd"])
		assert.Equal(t, "otel_genai", got["observatory.source_convention"])
	})
	t.Run("a tool span is not priced and gets no error finish reason", func(t *testing.T) {
		got := normalizeOne(t, defaultCfg(), "execute_tool get_weather", func(m pcommon.Map) {
			m.PutStr("gen_ai.tool.name", "get_weather")
		}, ptrace.StatusCodeError)
		assert.Equal(t, "execute_tool", got["gen_ai.operation.name"])
		assert.NotContains(t, got, "observatory.cost.unpriced")
		assert.NotContains(t, got, "observatory.cost.source")
		assert.NotContains(t, got, "gen_ai.response.finish_reasons")
	})
	t.Run("a priced operation without a model is unpriced", func(t *testing.T) {
		got := normalizeOne(t, defaultCfg(), "x", func(m pcommon.Map) {
			m.PutStr("gen_ai.operation.name", "chat")
			m.PutStr("gen_ai.provider.name", "openai")
		}, ptrace.StatusCodeUnset)
		assert.Equal(t, true, got["observatory.cost.unpriced"])
	})
	t.Run("the request model prices when the response model is unknown", func(t *testing.T) {
		got := normalizeOne(t, defaultCfg(), "chat", func(m pcommon.Map) {
			m.PutStr("gen_ai.request.model", "gpt-4o")
			m.PutStr("gen_ai.response.model", "gpt-4o-custom-deployment")
			m.PutInt("gen_ai.usage.output_tokens", 1_000_000)
		}, ptrace.StatusCodeUnset)
		assert.Equal(t, 10.0, got["observatory.cost.total_usd"])
	})
}

func TestMergeIssues(t *testing.T) {
	m := pcommon.NewMap()
	s := m.PutEmptySlice(attrNormalizeIssues)
	for range 40 {
		s.AppendEmpty().SetStr("old")
	}
	assert.Len(t, mergeIssues(m, []string{"new"}), maxIssuesPerSpan)

	m = pcommon.NewMap()
	m.PutEmptySlice(attrNormalizeIssues).FromRaw([]any{"a", "b"})
	assert.Equal(t, []string{"a", "b", "c"}, mergeIssues(m, []string{"b", "c"}))

	m = pcommon.NewMap()
	m.PutStr(attrNormalizeIssues, "not a slice")
	assert.Equal(t, []string{"c"}, mergeIssues(m, []string{"c"}))
}

func TestProcessorIsConcurrencySafe(t *testing.T) {
	p := newTestProcessor(t, defaultCfg(), processortestSettings())
	src := benchTraces(true)
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 20 {
				td := ptrace.NewTraces()
				src.CopyTo(td)
				_, err := p.processTraces(withAuth(acmeAuth), td)
				assert.NoError(t, err)
			}
		}()
	}
	timeout := time.After(time.Minute)
	for range 8 {
		select {
		case <-done:
		case <-timeout:
			t.Fatal("timeout")
		}
	}
}
