package genaiprocessor

import (
	"encoding/json"
	"sort"
	"testing"
	"time"

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
