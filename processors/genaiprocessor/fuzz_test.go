package genaiprocessor

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/ptracetest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

// fuzzKeys are the keys the fuzzer writes to: every source and target of
// the embedded mapping and the keys the processor owns.
func fuzzKeys(tb testing.TB) []string {
	m, err := loadMapping("")
	if err != nil {
		tb.Fatal(err)
	}
	set := map[string]struct{}{}
	for _, f := range m.fields {
		set[f.target] = struct{}{}
		for _, s := range f.sources {
			set[s] = struct{}{}
		}
	}
	for k := range reservedKeys {
		set[k] = struct{}{}
	}
	for _, r := range append(append([]contentRule(nil), m.inputRules...), m.outputRules...) {
		if r.Attribute != "" {
			set[r.Attribute] = struct{}{}
		}
		if r.Prefix != "" {
			set[r.Prefix+"0.content"] = struct{}{}
			set[r.Prefix+"0.message.content"] = struct{}{}
		}
	}
	for _, k := range []string{"gen_ai.embeddings.dimension.count", "gen_ai.agent.name", "service.name"} {
		set[k] = struct{}{}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func putFuzzValue(m pcommon.Map, key string, kind uint8, s string, i int64, d float64) {
	switch kind % 9 {
	case 0:
		m.PutStr(key, s)
	case 1:
		m.PutInt(key, i)
	case 2:
		m.PutDouble(key, d)
	case 3:
		m.PutBool(key, i%2 == 0)
	case 4:
		m.PutEmptyBytes(key).FromRaw([]byte(s))
	case 5:
		sl := m.PutEmptySlice(key)
		sl.AppendEmpty().SetStr(s)
		sl.AppendEmpty().SetInt(i)
	case 6:
		mm := m.PutEmptyMap(key)
		mm.PutStr("content", s)
		mm.PutDouble("n", d)
	case 7:
		m.PutEmpty(key)
	case 8:
		sl := m.PutEmptySlice(key)
		sl.AppendEmpty().SetStr(s)
	}
}

// FuzzProcessTraces builds GenAI spans from fuzzed attribute keys and
// values and checks that the processor never panics, that a rejection is
// a permanent error, that accepted output converts with llmcall.FromSpan and
// that a second pass changes nothing.
func FuzzProcessTraces(f *testing.F) {
	f.Add("chat gpt-4o", "gen_ai.request.model", "gpt-4o", int64(1200), 0.5, uint8(0), uint8(3), uint8(1), int64(-60))
	f.Add("x", "gen_ai.usage.input_tokens", "-1", int64(-5), -1.0, uint8(1), uint8(10), uint8(2), int64(0))
	f.Add("chat", "gen_ai.input.messages", `[{"role":"user"}]`, int64(0), 1e300, uint8(6), uint8(20), uint8(0), int64(3600))
	f.Add("\xff", "gen_ai.system", "AZ.AI.OPENAI", int64(1<<62), 3.5, uint8(5), uint8(7), uint8(8), int64(-1e9))
	f.Add("embeddings x", "gen_ai.response.finish_reasons", `["tool_calls","END_TURN"]`, int64(7), 0.0, uint8(0), uint8(0), uint8(4), int64(10))

	keys := fuzzKeys(f)
	cfg := defaultCfg()
	p := newTestProcessor(f, cfg, processortestSettings())
	second := *cfg
	second.Tenant.TrustResourceAttributes = true
	p2 := newTestProcessor(f, &second, processortestSettings())
	f.Fuzz(func(t *testing.T, name, key, sval string, ival int64, dval float64, kind, keyIdx, kind2 uint8, startOffset int64) {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "fuzz")
		putFuzzValue(rs.Resource().Attributes(), keys[int(keyIdx)%len(keys)], kind2, sval, ival, dval)
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetName(name)
		span.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		span.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
		start := testNow.Add(time.Duration(startOffset%(1<<40)) * time.Second)
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Second)))
		if ival%3 == 0 {
			span.Status().SetCode(ptrace.StatusCodeError)
		}
		a := span.Attributes()
		a.PutStr("gen_ai.operation.name", "chat")
		putFuzzValue(a, key, kind, sval, ival, dval)
		putFuzzValue(a, keys[int(keyIdx)%len(keys)], kind2, sval, ival, dval)
		putFuzzValue(a, keys[(int(keyIdx)*7+3)%len(keys)], kind+kind2, sval, ival, dval)

		ctx := withAuth(acmeAuth)
		out, err := p.processTraces(ctx, td)
		if err != nil {
			if !consumererror.IsPermanent(err) {
				t.Fatalf("rejection is not permanent: %v", err)
			}
			return
		}
		for _, rs := range out.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					call, err := llmcall.FromSpan(rs.Resource(), span)
					if err != nil {
						t.Fatalf("FromSpan: %v", err)
					}
					if call.OrgID != "org_acme" || call.ProjectID != "proj_support" {
						t.Fatalf("tenant not stamped: %q %q", call.OrgID, call.ProjectID)
					}
				}
			}
		}

		again := ptrace.NewTraces()
		out.CopyTo(again)
		again, err = p2.processTraces(ctx, again)
		if err != nil {
			t.Fatalf("second pass: %v", err)
		}
		if err := ptracetest.CompareTraces(out, again); err != nil {
			t.Fatalf("second pass changed the span: %v\nfirst:  %v\nsecond: %v", err,
				out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw(),
				again.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw())
		}
	})
}

// FuzzValidJSON checks validJSON against encoding/json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{
		`[]`, `{}`, `[{"role":"user","parts":[{"type":"text","content":"hi \"x\" \u00e9"}]}]`,
		`{"a":[1,-0.5e+3,true,false,null,"\/"]}`, ` [ 1 , 2 ] `, `[1,]`, `{"a" 1}`, `{"a":}`, `01`, `-`, `1.`,
		`1e`, `"\x"`, `"\u12"`, `[[[[]]]]`, `]`, `{"a":1}}`, `nul`, "\"\t\"", `[1 2]`, `{,}`, `"abc`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validJSON(s), json.Valid([]byte(s)); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", s, got, want)
		}
	})
}

// FuzzContentParsers feeds fuzzed text to every content reader: raw
// request/response JSON (input.value / output.value), OpenLLMetry and
// OpenInference indexed keys, <= 1.36 message events (span events and log
// records) and the details event. The processor must not panic, content it
// converted must be valid JSON, the call must convert with llmcall.FromSpan
// and a second pass must change nothing.
func FuzzContentParsers(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAA"}}]},{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"c","content":"1"}]}`,
		`{"choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1}}`,
		`{"system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"r"}]}]}]}`,
		`{"type":"message","role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":{"q":[1,2]}}],"stop_reason":"end_turn"}`,
		`{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]}],"systemInstruction":{"parts":[{"text":"x"}]}}`,
		`{"candidates":[{"content":{"parts":[{"text":"a","thought":true}]},"finishReason":"STOP"}]}`,
		`{"input":[{"type":"function_call","call_id":"1","name":"f","arguments":"{}"},"text",3],"instructions":"i"}`,
		`{"output":[{"type":"reasoning","summary":[{"text":"s"}]}],"status":"incomplete"}`,
		`{"index":1,"finish_reason":"length","message":{"content":[{"type":"text","text":"t"}],"tool_calls":[{"function":{}}]}}`,
		`[{"role":"user","parts":[{"type":"text","content":"otel"}]}]`,
		`[{"type":"text","text":"parts only"}]`,
		`{"data":[{"embedding":[0.1]}]}`,
		`"just a string"`, `not json {`, `[`, `null`, `{"messages":null,"prompt":[1,{"a":null}]}`, "",
	} {
		f.Add(s, "0.content", "application/json", uint8(0))
		f.Add(s, "1.message.content", "", uint8(2))
		f.Add(s, "0.tool_calls.0.arguments", "text/plain", uint8(1))
		f.Add(s, "", "", uint8(3))
		f.Add(s, "", "", uint8(4))
		f.Add(s, "", "", uint8(5))
		f.Add(s, "", "", uint8(6))
	}
	f.Add("x", "0.message.contents.1.message_content.image.image.url", "", uint8(2))
	f.Add("x", "2.message.tool_calls.0.tool_call.function.arguments", "", uint8(2))
	f.Add("x", "99999999999.content", "", uint8(1))

	cfg := defaultCfg()
	cfg.Normalize.MaxContentBytes = 2048
	p := newTestProcessor(f, cfg, processortestSettings())
	second := *cfg
	second.Tenant.TrustResourceAttributes = true
	p2 := newTestProcessor(f, &second, processortestSettings())
	f.Fuzz(func(t *testing.T, raw, suffix, mime string, which uint8) {
		if !utf8.ValidString(raw) || !utf8.ValidString(suffix) || !utf8.ValidString(mime) {
			return // rejected at ingest, tested elsewhere
		}
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetName("chat fuzz")
		span.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		span.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(testNow.Add(-time.Second)))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(testNow))
		a := span.Attributes()
		a.PutStr("gen_ai.request.model", "gpt-4o")
		var body any
		if d, ok := decodeJSON(raw); ok {
			body = d
		} else {
			body = raw
		}
		switch which % 7 {
		case 0:
			a.PutStr("openinference.span.kind", "LLM")
			a.PutStr("input.value", raw)
			a.PutStr("input.mime_type", mime)
			a.PutStr("output.value", raw)
		case 1:
			a.PutStr("gen_ai.prompt."+suffix, raw)
			a.PutStr("gen_ai.completion.0."+suffix, raw)
			a.PutStr("gen_ai.prompt.0.role", mime)
		case 2:
			a.PutStr("llm.input_messages."+suffix, raw)
			a.PutStr("llm.output_messages.0.message."+suffix, raw)
		case 3:
			e := span.Events().AppendEmpty()
			e.SetName("gen_ai.choice")
			e.Attributes().PutStr("gen_ai.event.content", raw)
			e = span.Events().AppendEmpty()
			e.SetName("gen_ai.user.message")
			e.Attributes().PutStr("content", raw)
			e = span.Events().AppendEmpty()
			e.SetName("gen_ai.tool.message")
			e.Attributes().PutStr("id", suffix)
		case 4:
			e := span.Events().AppendEmpty()
			e.SetName("gen_ai.client.inference.operation.details")
			e.Attributes().PutStr("gen_ai.input.messages", raw)
			e.Attributes().PutStr("gen_ai.output.messages", raw)
		case 5:
			a.PutStr("gen_ai.prompt", raw)
			a.PutStr("traceloop.entity.output", raw)
			e := span.Events().AppendEmpty()
			e.SetName("gen_ai.content.completion")
			e.Attributes().PutStr("gen_ai.completion", raw)
		case 6:
			// Content from log records, joined.
			evs := []contentEvent{
				{name: "gen_ai.user.message", spec: p.mapping.events["gen_ai.user.message"], body: body, givesIn: true},
				{name: "gen_ai.choice", spec: p.mapping.events["gen_ai.choice"], body: body, givesOut: true},
				{name: "gen_ai.client.inference.operation.details", spec: p.mapping.events["gen_ai.client.inference.operation.details"],
					attrs: map[string]any{"gen_ai.system_instructions": body}},
			}
			p.applyJoined(context.Background(), rs.Resource(), span, evs)
		}
		out, err := p.processTraces(withAuth(acmeAuth), td)
		if err != nil {
			t.Fatalf("processTraces: %v", err)
		}
		s := out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
		issues := map[string]bool{}
		if v, ok := s.Attributes().Get(attrNormalizeIssues); ok {
			for _, e := range v.Slice().All() {
				issues[e.Str()] = true
			}
		}
		for _, key := range []string{llmcall.AttrInputMessages, llmcall.AttrOutputMessages, llmcall.AttrSystemInstructions} {
			v, ok := s.Attributes().Get(key)
			if !ok {
				continue
			}
			if v.Type() != pcommon.ValueTypeStr {
				t.Fatalf("%s is a %s", key, v.Type())
			}
			if len(v.Str()) > cfg.Normalize.MaxContentBytes {
				t.Fatalf("%s longer than the cap: %d", key, len(v.Str()))
			}
			if !json.Valid([]byte(v.Str())) && !issues["invalid_json:"+key] {
				t.Fatalf("%s is not JSON and not reported: %q", key, v.Str())
			}
		}
		if _, err := llmcall.FromSpan(out.ResourceSpans().At(0).Resource(), s); err != nil {
			t.Fatalf("FromSpan: %v", err)
		}
		again := ptrace.NewTraces()
		out.CopyTo(again)
		again, err = p2.processTraces(withAuth(acmeAuth), again)
		if err != nil {
			t.Fatalf("second pass: %v", err)
		}
		if err := ptracetest.CompareTraces(out, again); err != nil {
			t.Fatalf("second pass changed the span: %v\nfirst:  %v\nsecond: %v", err,
				s.Attributes().AsRaw(), again.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw())
		}
	})
}

// FuzzTruncateJSON checks that truncated JSON stays JSON within the cap.
func FuzzTruncateJSON(f *testing.F) {
	f.Add(`[{"role":"user","parts":[{"type":"text","content":"hello world, this is long"}]}]`, uint16(40))
	f.Add(`{"a":"\u00e9\u00e9\u00e9\u00e9\"\"\"\n\n\n","b":[1,2,3,"xxxxxxxxxxxxxxxxxxxxxx"]}`, uint16(20))
	f.Add(`[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]`, uint16(10))
	f.Add(`"€€€€€€€€€€€€€€€€€€€€"`, uint16(9))
	f.Fuzz(func(t *testing.T, s string, limit uint16) {
		max := 8 + int(limit)%2048
		out := truncateJSON(s, max)
		if len(out) > max {
			t.Fatalf("len %d > %d", len(out), max)
		}
		if json.Valid([]byte(s)) && !json.Valid([]byte(out)) {
			t.Fatalf("invalid result %q from %q", out, s)
		}
		if len(s) <= max && out != s {
			t.Fatalf("changed a value within the cap")
		}
		if !utf8.ValidString(out) && utf8.ValidString(s) {
			t.Fatalf("split a rune: %q", out)
		}
	})
}
