package genaiprocessor

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

func testConv(t *testing.T) *contentConv {
	t.Helper()
	m, err := loadMapping("")
	require.NoError(t, err)
	return &contentConv{m: m, issue: func(issueReason, string) {}}
}

func encodeMsgs(msgs []msg, output bool) string { return string(appendMessages(nil, msgs, output)) }

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v), s)
	return v
}

func TestFromRequestShapes(t *testing.T) {
	c := testConv(t)
	tests := []struct {
		name, body, in, sys string
	}{
		{
			"openai chat, multimodal and tool history",
			`{"model":"gpt-4o","messages":[{"role":"developer","content":"Be exact."},{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0K"}},{"type":"input_audio","input_audio":{"data":"UklGR","format":"wav"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"not json"}}]},{"role":"tool","tool_call_id":"c1","content":"42"},{"role":"function","name":"old","content":"x"}]}`,
			`[{"role":"developer","parts":[{"type":"text","content":"Be exact."}]},{"role":"user","parts":[{"type":"text","content":"What is this?"},{"type":"blob","modality":"image","mime_type":"image/png","content":"iVBORw0K"},{"type":"blob","modality":"audio","mime_type":"audio/wav","content":"UklGR"}]},{"role":"assistant","parts":[{"type":"tool_call","id":"c1","name":"f","arguments":"not json"}]},{"role":"tool","parts":[{"type":"tool_call_response","id":"c1","response":"42"}]},{"role":"tool","parts":[{"type":"tool_call_response","response":"x"}],"name":"old"}]`,
			"",
		},
		{
			"anthropic messages with system blocks, tool use and results",
			`{"model":"claude-sonnet-4","system":[{"type":"text","text":"You are Claude."}],"messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":[{"type":"thinking","thinking":"need a tool"},{"type":"tool_use","id":"tu1","name":"weather","input":{"city":"Oslo"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"tu1","content":"snow"},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/"}}]}]}`,
			`[{"role":"user","parts":[{"type":"text","content":"Weather?"}]},{"role":"assistant","parts":[{"type":"reasoning","content":"need a tool"},{"type":"tool_call","id":"tu1","name":"weather","arguments":{"city":"Oslo"}}]},{"role":"user","parts":[{"type":"tool_call_response","id":"tu1","response":"snow"},{"type":"blob","modality":"image","mime_type":"image/jpeg","content":"/9j/"}]}]`,
			`[{"type":"text","content":"You are Claude."}]`,
		},
		{
			"gemini contents",
			`{"contents":[{"role":"user","parts":[{"text":"Hi"},{"inlineData":{"mimeType":"image/png","data":"AAA"}}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":1}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"ok":true}}}]}],"systemInstruction":{"parts":[{"text":"Be kind."}]}}`,
			`[{"role":"user","parts":[{"type":"text","content":"Hi"},{"type":"blob","modality":"image","mime_type":"image/png","content":"AAA"}]},{"role":"assistant","parts":[{"type":"tool_call","name":"f","arguments":{"a":1}}]},{"role":"user","parts":[{"type":"tool_call_response","response":{"ok":true}}]}]`,
			`[{"type":"text","content":"Be kind."}]`,
		},
		{
			"responses api items",
			`{"model":"gpt-5","instructions":"Be short.","input":[{"role":"user","content":[{"type":"input_text","text":"Sum 2 and 3"}]},{"type":"function_call","call_id":"fc1","name":"add","arguments":"{\"a\":2,\"b\":3}"},{"type":"function_call_output","call_id":"fc1","output":"5"}]}`,
			`[{"role":"user","parts":[{"type":"text","content":"Sum 2 and 3"}]},{"role":"assistant","parts":[{"type":"tool_call","id":"fc1","name":"add","arguments":{"a":2,"b":3}}]},{"role":"tool","parts":[{"type":"tool_call_response","id":"fc1","response":"5"}]}]`,
			`[{"type":"text","content":"Be short."}]`,
		},
		{
			"embeddings input list",
			`{"model":"text-embedding-3-small","input":["a","b"]}`,
			`[{"role":"user","parts":[{"type":"text","content":"a"},{"type":"text","content":"b"}]}]`,
			"",
		},
		{
			"completions prompt",
			`{"model":"gpt-3.5-turbo-instruct","prompt":"Once upon"}`,
			`[{"role":"user","parts":[{"type":"text","content":"Once upon"}]}]`,
			"",
		},
		{
			"a bare message array",
			`[{"role":"user","content":"hey"}]`,
			`[{"role":"user","parts":[{"type":"text","content":"hey"}]}]`,
			"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := decodeJSON(tt.body)
			require.True(t, ok)
			in, sys, ok := c.fromRequest(v, "user")
			require.True(t, ok)
			assert.JSONEq(t, tt.in, encodeMsgs(in, false))
			if tt.sys != "" {
				assert.JSONEq(t, tt.sys, string(appendParts(nil, sys)))
			} else {
				assert.Nil(t, sys)
			}
		})
	}
	v, _ := decodeJSON(`{"city":"Paris"}`)
	_, _, ok := c.fromRequest(v, "user")
	assert.False(t, ok, "not a request body")
}

func TestFromResponseShapes(t *testing.T) {
	c := testConv(t)
	tests := []struct{ name, body, out string }{
		{
			"openai chat, two choices out of order, refusal",
			`{"choices":[{"index":1,"message":{"role":"assistant","content":"B"},"finish_reason":"length"},{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't."},"finish_reason":"content_filter"}]}`,
			`[{"role":"assistant","parts":[{"type":"refusal","content":"I can't."}],"finish_reason":"content_filter"},{"role":"assistant","parts":[{"type":"text","content":"B"}],"finish_reason":"length"}]`,
		},
		{
			"completions",
			`{"choices":[{"index":0,"text":" there was","finish_reason":"stop"}]}`,
			`[{"role":"assistant","parts":[{"type":"text","content":" there was"}],"finish_reason":"stop"}]`,
		},
		{
			"anthropic",
			`{"type":"message","role":"assistant","content":[{"type":"text","text":"Hi"},{"type":"tool_use","id":"t","name":"n","input":{}}],"stop_reason":"tool_use"}`,
			`[{"role":"assistant","parts":[{"type":"text","content":"Hi"},{"type":"tool_call","id":"t","name":"n","arguments":{}}],"finish_reason":"tool_call"}]`,
		},
		{
			"gemini",
			`{"candidates":[{"content":{"role":"model","parts":[{"text":"thinking","thought":true},{"text":"Yes"}]},"finishReason":"MAX_TOKENS"}]}`,
			`[{"role":"assistant","parts":[{"type":"reasoning","content":"thinking"},{"type":"text","content":"Yes"}],"finish_reason":"length"}]`,
		},
		{
			"responses api",
			`{"status":"completed","output":[{"type":"reasoning","summary":[{"type":"summary_text","text":"plan"}]},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Done"}]},{"type":"function_call","call_id":"f1","name":"g","arguments":"{}"}]}`,
			`[{"role":"assistant","parts":[{"type":"reasoning","content":"plan"},{"type":"text","content":"Done"},{"type":"tool_call","id":"f1","name":"g","arguments":{}}],"finish_reason":"stop"}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := decodeJSON(tt.body)
			require.True(t, ok)
			out, ok, skip := c.fromResponse(v, "assistant")
			require.True(t, ok)
			require.False(t, skip)
			assert.JSONEq(t, tt.out, encodeMsgs(out, true))
		})
	}
	v, _ := decodeJSON(`{"object":"list","data":[{"object":"embedding","embedding":[0.1,0.2]}]}`)
	_, ok, skip := c.fromResponse(v, "assistant")
	assert.False(t, ok)
	assert.True(t, skip, "embeddings carry no messages")
}

func TestTruncateJSON(t *testing.T) {
	long := strings.Repeat("ab€", 200_000) // 1 MB of text with multi-byte runes
	doc := encodeMsgs([]msg{
		{role: "system", parts: []any{textPart("short system prompt")}},
		{role: "user", parts: []any{textPart(long), textPart("tail")}},
		{role: "assistant", parts: []any{textPart(long[:300_000])}},
	}, false)
	for _, limit := range []int{1024, 4096, 100_000, 1 << 20} {
		out := truncateJSON(doc, limit)
		assert.LessOrEqual(t, len(out), limit)
		require.True(t, json.Valid([]byte(out)), "limit %d", limit)
		v := decode(t, out).([]any)
		require.Len(t, v, 3, "messages are kept, their text is cut")
		assert.Equal(t, "short system prompt", v[0].(map[string]any)["parts"].([]any)[0].(map[string]any)["content"])
		first := v[1].(map[string]any)["parts"].([]any)[0].(map[string]any)["content"].(string)
		assert.True(t, strings.HasSuffix(first, truncationMarker))
		assert.Equal(t, "tail", v[1].(map[string]any)["parts"].([]any)[1].(map[string]any)["content"])
		assert.Equal(t, out, truncateJSON(out, limit), "truncating twice changes nothing")
	}
	// Escapes count: quotes and control characters grow when encoded.
	escaped := encodeMsgs([]msg{{role: "user", parts: []any{textPart(strings.Repeat("\"\n\x01", 100_000))}}}, false)
	out := truncateJSON(escaped, 10_000)
	assert.LessOrEqual(t, len(out), 10_000)
	assert.True(t, json.Valid([]byte(out)))
	// Too many messages for the cap even with empty texts: leading messages are kept.
	many := make([]msg, 5000)
	for i := range many {
		many[i] = msg{role: "user", parts: []any{textPart("x")}}
	}
	out = truncateJSON(encodeMsgs(many, false), 2048)
	assert.LessOrEqual(t, len(out), 2048)
	assert.NotEmpty(t, decode(t, out).([]any))
	// Not JSON: cut at a rune boundary.
	out = truncateJSON(strings.Repeat("é", 1000)+"{", 1001)
	assert.Equal(t, strings.Repeat("é", 500), out)
}

// contentSpan runs one span through the processor.
func contentSpan(t *testing.T, cfg *Config, set func(ptrace.Span)) pcommon.Map {
	t.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	span.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	span.SetName("chat")
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(testNow.Add(-time2s)))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(testNow))
	set(span)
	p := newTestProcessor(t, cfg, processortestSettings())
	out, err := p.processTraces(withAuth(acmeAuth), td)
	require.NoError(t, err)
	// Idempotent.
	again := ptrace.NewTraces()
	out.CopyTo(again)
	second := *cfg
	second.Tenant.TrustResourceAttributes = true
	p2 := newTestProcessor(t, &second, processortestSettings())
	again, err = p2.processTraces(withAuth(acmeAuth), again)
	require.NoError(t, err)
	assert.Equal(t, out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw(),
		again.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw())
	return out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
}

func TestTenMegabyteContent(t *testing.T) {
	tenMB := strings.Repeat("All work and no play makes Jack a dull boy. ", 10<<20/44)
	t.Run("canonical attribute", func(t *testing.T) {
		attrs := contentSpan(t, defaultCfg(), func(s ptrace.Span) {
			s.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
			s.Attributes().PutInt("gen_ai.usage.input_tokens", 2_500_000)
			s.Attributes().PutStr("gen_ai.input.messages", encodeMsgs([]msg{{role: "user", parts: []any{textPart(tenMB)}}}, false))
		})
		in, _ := attrs.Get(llmcall.AttrInputMessages)
		assert.LessOrEqual(t, len(in.Str()), 1<<20)
		assert.True(t, json.Valid([]byte(in.Str())))
		trunc, _ := attrs.Get(attrContentTruncated)
		assert.True(t, trunc.Bool())
		issues, _ := attrs.Get(attrNormalizeIssues)
		assert.Equal(t, []any{"truncated:gen_ai.input.messages"}, issues.Slice().AsRaw())
		cost, _ := attrs.Get(llmcall.AttrCostTotal)
		assert.Equal(t, 6.25, cost.Double(), "the call is kept whole: tokens and cost")
	})
	t.Run("configurable cap, openinference input.value", func(t *testing.T) {
		cfg := defaultCfg()
		cfg.Normalize.MaxContentBytes = 64 << 10
		attrs := contentSpan(t, cfg, func(s ptrace.Span) {
			s.Attributes().PutStr("openinference.span.kind", "LLM")
			s.Attributes().PutStr("llm.model_name", "gpt-4o")
			b, _ := json.Marshal(map[string]any{"messages": []any{map[string]any{"role": "user", "content": tenMB}}})
			s.Attributes().PutStr("input.value", string(b))
		})
		in, _ := attrs.Get(llmcall.AttrInputMessages)
		assert.LessOrEqual(t, len(in.Str()), 64<<10)
		assert.Greater(t, len(in.Str()), 60<<10, "the cap is used, not much less")
		assert.True(t, json.Valid([]byte(in.Str())))
		_, ok := attrs.Get("input.value")
		assert.False(t, ok)
	})
	t.Run("not JSON", func(t *testing.T) {
		attrs := contentSpan(t, defaultCfg(), func(s ptrace.Span) {
			s.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
			s.Attributes().PutStr("gen_ai.output.messages", tenMB)
		})
		out, _ := attrs.Get(llmcall.AttrOutputMessages)
		assert.Len(t, out.Str(), 1<<20)
		issues, _ := attrs.Get(attrNormalizeIssues)
		assert.ElementsMatch(t, []any{"invalid_json:gen_ai.output.messages", "truncated:gen_ai.output.messages"}, issues.Slice().AsRaw())
	})
}

func TestTokenRules(t *testing.T) {
	tests := []struct {
		name     string
		attrs    map[string]any
		want     map[string]int64
		issues   []any
		provider string
	}{
		{
			name:   "input includes cached (OpenAI): unchanged",
			attrs:  map[string]any{"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.cache_read.input_tokens": 800, "gen_ai.usage.output_tokens": 10},
			want:   map[string]int64{"gen_ai.usage.input_tokens": 1000, "observatory.usage.total_tokens": 1010},
			issues: nil,
		},
		{
			name: "Anthropic-style exclusive input, seen from the total",
			attrs: map[string]any{"gen_ai.usage.input_tokens": 500, "gen_ai.usage.cache_read.input_tokens": 300,
				"gen_ai.usage.cache_write.input_tokens": 200, "gen_ai.usage.output_tokens": 50, "gen_ai.usage.total_tokens": 1050},
			want:   map[string]int64{"gen_ai.usage.input_tokens": 1000, "observatory.usage.total_tokens": 1050},
			issues: []any{"input_excluded_cache:gen_ai.usage.input_tokens"},
		},
		{
			name:   "exclusive input with an exclusive total: both corrected",
			attrs:  map[string]any{"gen_ai.usage.input_tokens": 10, "gen_ai.usage.cache_read.input_tokens": 90, "gen_ai.usage.output_tokens": 5, "llm.usage.total_tokens": 15},
			want:   map[string]int64{"gen_ai.usage.input_tokens": 100, "observatory.usage.total_tokens": 105},
			issues: []any{"input_excluded_cache:gen_ai.usage.input_tokens"},
		},
		{
			name:   "Gemini-style output without reasoning",
			attrs:  map[string]any{"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20, "gen_ai.usage.reasoning.output_tokens": 300},
			want:   map[string]int64{"gen_ai.usage.output_tokens": 320, "observatory.usage.total_tokens": 420},
			issues: []any{"output_excluded_reasoning:gen_ai.usage.output_tokens"},
		},
		{
			name:   "output without reasoning, seen from the total",
			attrs:  map[string]any{"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 200, "gen_ai.usage.reasoning.output_tokens": 150, "gen_ai.usage.total_tokens": 450},
			want:   map[string]int64{"gen_ai.usage.output_tokens": 350, "observatory.usage.total_tokens": 450},
			issues: []any{"output_excluded_reasoning:gen_ai.usage.output_tokens"},
		},
		{
			name:   "a total below input + output is kept and reported",
			attrs:  map[string]any{"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 200, "gen_ai.usage.total_tokens": 250},
			want:   map[string]int64{"observatory.usage.total_tokens": 250},
			issues: []any{"inconsistent_total:observatory.usage.total_tokens"},
		},
		{
			name:   "OpenInference counts",
			attrs:  map[string]any{"llm.token_count.prompt": 7, "llm.token_count.completion": "3", "llm.token_count.total": 10.0, "llm.token_count.prompt_details.cache_read": 2, "llm.token_count.completion_details.reasoning": 1},
			want:   map[string]int64{"gen_ai.usage.input_tokens": 7, "gen_ai.usage.output_tokens": 3, "observatory.usage.total_tokens": 10, "gen_ai.usage.cache_read.input_tokens": 2, "gen_ai.usage.reasoning.output_tokens": 1},
			issues: nil,
		},
		{
			name:   "absurd, negative and wrong-typed counts in other conventions",
			attrs:  map[string]any{"llm.token_count.prompt": -4, "llm.token_count.completion": 1e12, "llm.token_count.total": "many", "gen_ai.usage.output_tokens": 3},
			want:   map[string]int64{"gen_ai.usage.output_tokens": 3},
			issues: []any{"negative_value:llm.token_count.prompt", "absurd_value:llm.token_count.completion", "wrong_type:llm.token_count.total"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := contentSpan(t, defaultCfg(), func(s ptrace.Span) {
				s.Attributes().PutStr("gen_ai.request.model", "claude-sonnet-4")
				require.NoError(t, s.Attributes().FromRaw(mergeRaw(s.Attributes().AsRaw(), tt.attrs)))
			}).AsRaw()
			for k, v := range tt.want {
				assert.Equal(t, v, attrs[k], k)
			}
			if tt.issues == nil {
				assert.NotContains(t, attrs, attrNormalizeIssues)
			} else {
				assert.ElementsMatch(t, tt.issues, attrs[attrNormalizeIssues])
			}
		})
	}
}

func mergeRaw(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestBadContentInOtherConventions(t *testing.T) {
	attrs := contentSpan(t, defaultCfg(), func(s ptrace.Span) {
		a := s.Attributes()
		a.PutStr("openinference.span.kind", "LLM")
		a.PutStr("llm.model_name", "gpt-4o")
		a.PutStr("input.value", `{"messages": [`)
		a.PutStr("input.mime_type", "application/json")
		a.PutEmptyBytes("gen_ai.completion.0.content").FromRaw([]byte("raw"))
		a.PutStr("gen_ai.completion.0.role", "assistant")
		a.PutStr("llm.input_messages.99999999.message.content", "index out of range")
	}).AsRaw()
	// Not JSON: kept whole as text, reported.
	assert.JSONEq(t, `[{"role":"user","parts":[{"type":"text","content":"{\"messages\": ["}]}]`, attrs[llmcall.AttrInputMessages].(string))
	// Bytes content: kept (base64), reported.
	assert.JSONEq(t, `[{"role":"assistant","parts":[{"type":"text","content":"cmF3"}]}]`, attrs[llmcall.AttrOutputMessages].(string))
	assert.ElementsMatch(t, []any{"invalid_json:input.value", "wrong_type:gen_ai.completion.0.content"}, attrs[attrNormalizeIssues])
	// A key the readers cannot place is left as sent.
	assert.Equal(t, "index out of range", attrs["llm.input_messages.99999999.message.content"])
}

func TestProviderInference(t *testing.T) {
	for host, want := range map[string]string{
		"api.openai.com":                          "openai",
		"my-res.openai.azure.com":                 "azure.ai.openai",
		"bedrock-runtime.us-east-1.amazonaws.com": "aws.bedrock",
		"api.groq.com":                            "groq",
		"localhost":                               "",
		"notapi.openai.com.evil.example":          "",
	} {
		attrs := contentSpan(t, defaultCfg(), func(s ptrace.Span) {
			s.Attributes().PutStr("gen_ai.request.model", "m")
			s.Attributes().PutStr("server.address", host)
		}).AsRaw()
		if want == "" {
			assert.NotContains(t, attrs, llmcall.AttrProvider, host)
		} else {
			assert.Equal(t, want, attrs[llmcall.AttrProvider], host)
		}
	}
}

const time2s = 2 * 1e9
