package piiredactionprocessor

import (
	"context"
	"encoding/json"
	"flag"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/ptracetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/llm-observatory/observatory/processors/piiredactionprocessor/internal/metadata"
)

// Regenerate testdata/input and testdata/expected with
// `go test -run 'TestGolden' -update`, then review the diff.
var update = flag.Bool("update", false, "rewrite testdata/input and testdata/expected")

const testHashKey = "test-hash-key-0123456789abcdef-0123456789"

func defaultCfg() *Config { return createDefaultConfig().(*Config) }

func runTraces(t *testing.T, cfg *Config, td ptrace.Traces) ptrace.Traces {
	t.Helper()
	sink := new(consumertest.TracesSink)
	tp, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, tp.ConsumeTraces(context.Background(), td))
	require.Len(t, sink.AllTraces(), 1)
	return sink.AllTraces()[0]
}

func runLogs(t *testing.T, cfg *Config, ld plog.Logs) plog.Logs {
	t.Helper()
	sink := new(consumertest.LogsSink)
	lp, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, lp.ConsumeLogs(context.Background(), ld))
	require.Len(t, sink.AllLogs(), 1)
	return sink.AllLogs()[0]
}

var goldenCases = []struct {
	name string
	cfg  func(*Config)
}{
	{name: "redacted"},
	{name: "hashed", cfg: func(c *Config) { c.Mode, c.HashKey = ModeHashed, testHashKey }},
	{name: "none", cfg: func(c *Config) { c.Mode = ModeNone }},
	{name: "full", cfg: func(c *Config) { c.Mode = ModeFull }},
	{name: "projects", cfg: func(c *Config) {
		c.Projects = map[string]ProjectConfig{"prj_debug": {Mode: ModeFull}, "prj_strict": {Mode: ModeNone}}
	}},
}

// goldenProjects: the projects case has one resource per project (and one
// without a project id, which gets the pipeline mode).
func goldenProjects(name string) []string {
	if name == "projects" {
		return []string{"prj_default", "prj_debug", "prj_strict", ""}
	}
	return []string{"prj_default"}
}

func TestGoldenTraces(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			inPath := filepath.Join("testdata", "input", "traces_"+tc.name+".yaml")
			expPath := filepath.Join("testdata", "expected", "traces_"+tc.name+".yaml")
			if *update {
				require.NoError(t, golden.WriteTraces(t, inPath, piiTraces(goldenProjects(tc.name)...)))
			}
			in, err := golden.ReadTraces(inPath)
			require.NoError(t, err)
			cfg := defaultCfg()
			if tc.cfg != nil {
				tc.cfg(cfg)
			}
			got := runTraces(t, cfg, in)
			if *update {
				require.NoError(t, golden.WriteTraces(t, expPath, got))
			}
			want, err := golden.ReadTraces(expPath)
			require.NoError(t, err)
			require.NoError(t, ptracetest.CompareTraces(want, got))
		})
	}
}

func TestGoldenLogs(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			inPath := filepath.Join("testdata", "input", "logs_"+tc.name+".yaml")
			expPath := filepath.Join("testdata", "expected", "logs_"+tc.name+".yaml")
			if *update {
				require.NoError(t, golden.WriteLogs(t, inPath, piiLogs(goldenProjects(tc.name)...)))
			}
			in, err := golden.ReadLogs(inPath)
			require.NoError(t, err)
			cfg := defaultCfg()
			if tc.cfg != nil {
				tc.cfg(cfg)
			}
			got := runLogs(t, cfg, in)
			if *update {
				require.NoError(t, golden.WriteLogs(t, expPath, got))
			}
			want, err := golden.ReadLogs(expPath)
			require.NoError(t, err)
			require.NoError(t, plogtest.CompareLogs(want, got))
		})
	}
}

func firstSpan(td ptrace.Traces) ptrace.Span {
	return td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
}

func attrStr(t *testing.T, m pcommon.Map, k string) string {
	t.Helper()
	v, ok := m.Get(k)
	require.True(t, ok, k)
	return v.AsString()
}

var placeholderRE = regexp.MustCompile(`<([A-Z_]+)_(\d+)>`)

func TestRedactedPlaceholdersConsistentWithinCall(t *testing.T) {
	t.Parallel()
	td := runTraces(t, defaultCfg(), piiTraces("prj_a"))
	a := firstSpan(td).Attributes()

	in := attrStr(t, a, "gen_ai.input.messages")
	out := attrStr(t, a, "gen_ai.output.messages")
	sys := attrStr(t, a, "gen_ai.system_instructions")
	// Attributes are walked in order: the system instructions come first,
	// so the escalation address is <EMAIL_1> and Jane's is <EMAIL_2>.
	assert.Contains(t, sys, "Escalate to <EMAIL_1>.")
	// The same address is the same placeholder in both messages, the
	// tool-call arguments nested in them, the structured attribute and the
	// status message.
	assert.Equal(t, 2, strings.Count(in, "<EMAIL_2>"), in)
	assert.Contains(t, out, "Refunding the charge for <EMAIL_2>.")
	assert.Contains(t, out, `\"email\":\"<EMAIL_2>\"`)
	assert.Contains(t, out, `\"password\":\"<SECRET_`)
	assert.Equal(t, "<EMAIL_2>", attrStr(t, a, "enduser.email"))
	assert.Equal(t, "refund failed for <EMAIL_2>", firstSpan(td).Status().Message())
	// JSON stays valid, nested JSON too.
	for _, k := range []string{"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions", "input.value"} {
		require.True(t, json.Valid([]byte(attrStr(t, a, k))), k)
	}
	var msgs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &msgs))
	args := msgs[0]["parts"].([]any)[1].(map[string]any)["arguments"].(string)
	require.True(t, json.Valid([]byte(args)), args)
	// Counts and mode.
	v, _ := a.Get("observatory.pii.email")
	assert.Equal(t, int64(10), v.Int())
	assert.Equal(t, "redacted", attrStr(t, a, "observatory.pii.mode"))
	// Numbering restarts in the next call (the plain span has no PII).
	plain := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).Attributes()
	assert.Equal(t, "redacted", attrStr(t, plain, "observatory.pii.mode"))
	_, has := plain.Get("observatory.pii.email")
	assert.False(t, has)
	// Every placeholder is well-formed.
	for _, m := range placeholderRE.FindAllStringSubmatch(in+out+sys, -1) {
		assert.Contains(t, []string{"EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "SECRET"}, m[1])
	}
}

func TestHashedTokensStableAcrossCalls(t *testing.T) {
	t.Parallel()
	cfg := defaultCfg()
	cfg.Mode, cfg.HashKey = ModeHashed, testHashKey
	td := runTraces(t, cfg, piiTraces("prj_a", "prj_b"))
	a1 := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	a2 := td.ResourceSpans().At(1).ScopeSpans().At(0).Spans().At(0).Attributes()
	tok := attrStr(t, a1, "enduser.email")
	assert.Regexp(t, `^<EMAIL_h[0-9a-f]{16}>$`, tok)
	assert.Equal(t, tok, attrStr(t, a2, "enduser.email"), "same value, same token in another call")
	// Canonical form: case does not change the token.
	w := newWorker(mustProcessor(t, cfg))
	w.reset(ModeHashed)
	assert.Equal(t, w.placeholder(entEmail, "Jane.Doe@Example.com"), tok)
	// Another key, other tokens.
	cfg2 := defaultCfg()
	cfg2.Mode, cfg2.HashKey = ModeHashed, "another-key-0123456789abcdef-0123456789"
	a3 := firstSpan(runTraces(t, cfg2, piiTraces("prj_a"))).Attributes()
	assert.NotEqual(t, tok, attrStr(t, a3, "enduser.email"))
}

func mustProcessor(t *testing.T, cfg *Config) *piiProcessor {
	t.Helper()
	p, err := newPIIProcessor(processortest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	return p
}

func TestNoneModeDropsContentKeepsMetadata(t *testing.T) {
	t.Parallel()
	cfg := defaultCfg()
	cfg.Mode = ModeNone
	cfg.ContentKeys = []string{"app.customer"}
	span := firstSpan(runTraces(t, cfg, piiTraces("prj_a")))
	a := span.Attributes()
	for _, k := range []string{"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions", "input.value",
		"gen_ai.prompt.0.content", "gen_ai.completion.0.content", "llm.input_messages.0.message.content", "app.customer"} {
		_, ok := a.Get(k)
		assert.False(t, ok, k)
	}
	for _, k := range []string{"gen_ai.request.model", "gen_ai.usage.input_tokens", "observatory.cost.total_usd", "gen_ai.prompt.0.role"} {
		_, ok := a.Get(k)
		assert.True(t, ok, k)
	}
	// Non-content strings are redacted, not dropped.
	assert.Equal(t, "<EMAIL_1>", attrStr(t, a, "enduser.email"))
	// The gen_ai event keeps its name, loses its content; the exception
	// event is redacted.
	_, ok := span.Events().At(0).Attributes().Get("content")
	assert.False(t, ok)
	assert.Equal(t, "card <CREDIT_CARD_1> declined for <EMAIL_1>", attrStr(t, span.Events().At(1).Attributes(), "exception.message"))
	// Entities in the dropped content are still counted.
	v, _ := a.Get("observatory.pii.credit_card")
	assert.Equal(t, int64(6), v.Int())
	assert.Equal(t, "none", attrStr(t, a, "observatory.pii.mode"))
}

func TestFullModeKeepsContentAndCounts(t *testing.T) {
	t.Parallel()
	cfg := defaultCfg()
	cfg.Mode = ModeFull
	in := piiTraces("prj_a")
	orig := ptrace.NewTraces()
	in.CopyTo(orig)
	out := runTraces(t, cfg, in)
	a, oa := firstSpan(out).Attributes(), firstSpan(orig).Attributes()
	for _, k := range []string{"gen_ai.input.messages", "gen_ai.output.messages", "enduser.email", "db.password"} {
		assert.Equal(t, attrStr(t, oa, k), attrStr(t, a, k))
	}
	v, _ := a.Get("observatory.pii.secret")
	assert.Positive(t, v.Int())
	assert.Equal(t, "full", attrStr(t, a, "observatory.pii.mode"))
}

func TestProjectOverride(t *testing.T) {
	t.Parallel()
	cfg := defaultCfg()
	cfg.Projects = map[string]ProjectConfig{"prj_debug": {Mode: ModeFull}}
	td := runTraces(t, cfg, piiTraces("prj_default", "prj_debug"))
	assert.Equal(t, "<EMAIL_2>", attrStr(t, td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes(), "enduser.email"))
	assert.Equal(t, piiEmail, attrStr(t, td.ResourceSpans().At(1).ScopeSpans().At(0).Spans().At(0).Attributes(), "enduser.email"))
}

func TestCustomEntitiesAndAllowList(t *testing.T) {
	t.Parallel()
	cfg := defaultCfg()
	cfg.CustomEntities = []CustomEntityConfig{
		{Name: "employee_id", Pattern: `EMP-\d{6}`},
		{Name: "routing_number", Pattern: `\b\d{9}\b`, Validator: "aba_routing"},
	}
	cfg.AllowList = AllowListConfig{
		Values:   []string{"Support@Example.com"},
		Patterns: []string{`.*@acme-corp\.io`},
		Keys:     []string{"app.debug", "internal_note"},
	}
	td := ptrace.NewTraces()
	a := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes()
	a.PutStr("note", "EMP-123456 routes 021000021 not 021000022; write support@example.com or "+piiEmail2+" or "+piiEmail)
	a.PutStr("app.debug", piiEmail)
	a.PutStr("payload", `{"internal_note":"`+piiEmail+`","user":"`+piiEmail+`"}`)
	out := firstSpan(runTraces(t, cfg, td)).Attributes()
	assert.Equal(t, "<EMPLOYEE_ID_1> routes <ROUTING_NUMBER_1> not 021000022; write support@example.com or "+piiEmail2+" or <EMAIL_1>", attrStr(t, out, "note"))
	assert.Equal(t, piiEmail, attrStr(t, out, "app.debug"))
	assert.Equal(t, `{"internal_note":"`+piiEmail+`","user":"<EMAIL_1>"}`, attrStr(t, out, "payload"))
	v, _ := out.Get("observatory.pii.employee_id")
	assert.Equal(t, int64(1), v.Int())
}

func TestEntitiesSubset(t *testing.T) {
	t.Parallel()
	cfg := defaultCfg()
	cfg.Entities = []string{"email"}
	td := ptrace.NewTraces()
	a := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes()
	a.PutStr("note", "mail "+piiEmail+" card "+piiCard)
	assert.Equal(t, "mail <EMAIL_1> card "+piiCard, attrStr(t, firstSpan(runTraces(t, cfg, td)).Attributes(), "note"))
}

func TestResourceAttributesOptIn(t *testing.T) {
	t.Parallel()
	mk := func() ptrace.Traces {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("host.ip", piiIPv4)
		rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		return td
	}
	res := func(td ptrace.Traces) string {
		return attrStr(t, td.ResourceSpans().At(0).Resource().Attributes(), "host.ip")
	}
	assert.Equal(t, piiIPv4, res(runTraces(t, defaultCfg(), mk())))
	cfg := defaultCfg()
	cfg.ScanResourceAttributes = true
	assert.Equal(t, "<IP_ADDRESS_1>", res(runTraces(t, cfg, mk())))
}

func TestInvalidJSONFallsBackToText(t *testing.T) {
	t.Parallel()
	td := ptrace.NewTraces()
	a := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes()
	a.PutStr("gen_ai.input.messages", `[{"role":"user","content":"mail `+piiEmail+`"]`) // missing }
	assert.Equal(t, `[{"role":"user","content":"mail <EMAIL_1>"]`, attrStr(t, firstSpan(runTraces(t, defaultCfg(), td)).Attributes(), "gen_ai.input.messages"))
}

func TestJSONEscapesAndFormattingPreserved(t *testing.T) {
	t.Parallel()
	w := newWorker(mustProcessor(t, defaultCfg()))
	w.reset(ModeRedacted)
	in := "{\n  \"a\": 1.50e+3,\n  \"b\": \"line1\\nmail \\u006aane@example.com\\t\\\"q\\\" \\ud83d\\ude00\",\n  \"c\": [true, null, \"x\"]\n}"
	out, changed := w.redact(in, 0)
	require.True(t, changed)
	assert.Equal(t, "{\n  \"a\": 1.50e+3,\n  \"b\": \"line1\\nmail <EMAIL_1>\\t\\\"q\\\" 😀\",\n  \"c\": [true, null, \"x\"]\n}", out)
	require.True(t, json.Valid([]byte(out)))
}

func TestStructuredLogBodyAndEventName(t *testing.T) {
	t.Parallel()
	cfg := defaultCfg()
	cfg.Mode = ModeNone
	out := runLogs(t, cfg, piiLogs("prj_a"))
	lrs := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	// GenAI events: body dropped in none mode (by EventName and by the
	// event.name attribute).
	assert.Equal(t, pcommon.ValueTypeEmpty, lrs.At(0).Body().Type())
	assert.Equal(t, pcommon.ValueTypeEmpty, lrs.At(1).Body().Type())
	v, _ := lrs.At(0).Attributes().Get("observatory.pii.credit_card")
	assert.Equal(t, int64(1), v.Int())
	// Application logs are redacted (attributes first: the IPv6 client
	// address is <IP_ADDRESS_1>).
	assert.Equal(t, "<IP_ADDRESS_1>", attrStr(t, lrs.At(2).Attributes(), "client.address"))
	assert.Equal(t, "login failed user=<EMAIL_1> ip=<IP_ADDRESS_2> password=<SECRET_1>", lrs.At(2).Body().Str())
	assert.Equal(t, `{"msg":"kyc ok","ssn":"<US_SSN_1>","iban":"<IBAN_1>","token":"<SECRET_1>"}`, lrs.At(3).Body().Str())
}

func TestReadOnlyDataIsNotMutatedInPlace(t *testing.T) {
	t.Parallel()
	// The processor declares MutatesData; the pipeline gives it its own
	// copy. This documents the capability.
	lp, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type), defaultCfg(), consumertest.NewNop())
	require.NoError(t, err)
	assert.True(t, lp.Capabilities().MutatesData)
}
