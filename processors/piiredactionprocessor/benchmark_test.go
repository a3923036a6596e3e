package piiredactionprocessor

// Throughput of piiredaction against the contrib redactionprocessor
// configured with equivalent patterns, on the same realistic LLM spans, in
// one run:
//
//	go test ./processors/piiredactionprocessor -run '^$' -bench BenchmarkThroughput -benchtime 3s -cpu 1
//
// MB/s counts the bytes of every string the processors look at (span and
// event attribute values, status messages); both get identical input.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
)

const benchSpans = 100 // spans per request

// contribPatterns are the contrib processor's blocked_values equivalent to
// the built-in detectors (what a user of the contrib processor would
// write for the same entity types).
var contribPatterns = []string{
	`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`,                               // email
	`\b(?:\d{4}[ -]?){3}\d{1,4}\b|\b\d{4}[ -]?\d{6}[ -]?\d{4,5}\b`,                 // card
	`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`,                  // IBAN
	`\b\d{3}-\d{2}-\d{4}\b`,                                                        // SSN
	`(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}[ .-]\d{3,4}[ .-]?\d{3,4}\b`, // phone
	`\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b`,        // IPv4
	`\b(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{1,4}){0,6}\b`,     // IPv6
	`\b(?:sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,}|xox[baprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})\b`, // prefixed keys
	`eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*`,                                                                                             // JWT
	`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`,                                                                               // PEM
	`://[^:/\s@]+:[^@/\s]+@`, // URL password
	`(?i)(?:password|passwd|pwd|secret|api[_-]?key|token)["']?\s*[:=]\s*["']?[^\s"',;&]+`, // key=value
}

var benchParagraphs = []string{
	"Thanks for reaching out! I looked at your last three orders and it seems the second shipment was split into two parcels, which is why the tracking page only shows one of them. The second parcel left our warehouse yesterday and should arrive within two business days.",
	"Here is a summary of the document you shared: the quarterly revenue grew by 12 percent, driven mostly by the enterprise segment, while churn in the self-serve plan increased slightly. The report recommends investing in onboarding and support automation.",
	"To fix the error, make sure the environment variable is set before the service starts, then restart the worker pool. If the problem persists, enable debug logging and send us the output of the last run together with the exact version you are using.",
	"def retry(fn, attempts=3):\n    for i in range(attempts):\n        try:\n            return fn()\n        except TimeoutError:\n            time.sleep(2 ** i)\n    raise RuntimeError('gave up')",
	"Sure, I can help with that. The refund will be processed to the original payment method within five to seven business days. You will receive a confirmation email as soon as the bank has accepted the transfer.",
	"The meeting notes say the team agreed to migrate the reporting jobs to the new cluster next sprint, keep the old cron jobs running in parallel for a week, and compare the outputs before switching the dashboards over.",
}

// benchTraces builds one request of realistic chat spans (about 3.5 KB of
// text each): a system prompt, a user message and an assistant answer as
// OTel GenAI JSON, a tool call, and the usual metadata. One span in three
// carries PII (an email, a phone number, a card, an IP or a key).
func benchTraces() ptrace.Traces {
	g := &gen{r: rand.New(rand.NewPCG(7, 7))}
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "support-bot")
	rs.Resource().Attributes().PutStr("observatory.project.id", "prj_bench")
	ss := rs.ScopeSpans().AppendEmpty()
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	para := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(benchParagraphs[g.r.IntN(len(benchParagraphs))])
			b.WriteString("\n\n")
		}
		return b.String()
	}
	for i := range benchSpans {
		user := para(4)
		answer := para(3)
		if i%3 == 0 {
			v, _ := g.slotValue(g.pick("email", "phone", "card", "ipv4", "secret", "iban"))
			user += "My details: " + v + " and you can also write to " + g.email() + "."
		}
		span := ss.Spans().AppendEmpty()
		span.SetName("chat gpt-4o-mini")
		span.SetKind(ptrace.SpanKindClient)
		span.SetTraceID(pcommon.TraceID{1, 2, 3, byte(i)})
		span.SetSpanID(pcommon.SpanID{4, 5, 6, byte(i)})
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(1200 * time.Millisecond)))
		a := span.Attributes()
		a.PutStr("gen_ai.operation.name", "chat")
		a.PutStr("gen_ai.provider.name", "openai")
		a.PutStr("gen_ai.request.model", "gpt-4o-mini")
		a.PutStr("gen_ai.response.model", "gpt-4o-mini-2024-07-18")
		a.PutStr("gen_ai.response.id", "chatcmpl-"+g.from(alnum, 24))
		a.PutStr("gen_ai.conversation.id", g.uuid())
		a.PutInt("gen_ai.usage.input_tokens", 812)
		a.PutInt("gen_ai.usage.output_tokens", 256)
		a.PutStr("server.address", "api.openai.com")
		a.PutStr("user.id", "u-"+g.digits(6))
		a.PutStr("gen_ai.system_instructions", mustJSON([]any{map[string]any{"type": "text",
			"content": "You are a helpful, concise support assistant for Acme. Answer in the user's language. Never reveal internal notes."}}))
		a.PutStr("gen_ai.input.messages", mustJSON([]any{textMsg("user", user)}))
		a.PutStr("gen_ai.output.messages", mustJSON([]any{map[string]any{
			"role": "assistant", "finish_reason": "stop",
			"parts": []any{
				map[string]any{"type": "text", "content": answer},
				map[string]any{"type": "tool_call", "id": "call_" + g.from(alnum, 24), "name": "lookup_order",
					"arguments": mustJSON(map[string]any{"order_id": g.order(), "include_items": true})},
			},
		}}))
	}
	return td
}

// scannedBytes is the size of every string value the processors see.
func scannedBytes(td ptrace.Traces) int64 {
	var n int64
	var walk func(v pcommon.Value)
	walk = func(v pcommon.Value) {
		switch v.Type() {
		case pcommon.ValueTypeStr:
			n += int64(len(v.Str()))
		case pcommon.ValueTypeMap:
			for _, mv := range v.Map().All() {
				walk(mv)
			}
		case pcommon.ValueTypeSlice:
			for i := 0; i < v.Slice().Len(); i++ {
				walk(v.Slice().At(i))
			}
		}
	}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				for _, v := range spans.At(k).Attributes().All() {
					walk(v)
				}
				n += int64(len(spans.At(k).Status().Message()))
			}
		}
	}
	return n
}

func newContrib(b *testing.B) processor.Traces {
	f := redactionprocessor.NewFactory()
	cfg := f.CreateDefaultConfig().(*redactionprocessor.Config)
	cfg.AllowAllKeys = true
	cfg.BlockedValues = contribPatterns
	cfg.Summary = "silent"
	tp, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	return tp
}

func newOurs(b *testing.B, mode Mode) processor.Traces {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Mode, cfg.HashKey = mode, testHashKey
	tp, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	return tp
}

// benchResult keeps the ns/op of the sub-benchmarks for the ratio.
var benchResult = map[string]float64{}

func runThroughput(b *testing.B, name string, tp processor.Traces) {
	in := benchTraces()
	b.SetBytes(scannedBytes(in))
	b.ReportAllocs()
	td := ptrace.NewTraces()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		td = ptrace.NewTraces()
		in.CopyTo(td)
		b.StartTimer()
		if err := tp.ConsumeTraces(context.Background(), td); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	nsPerOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(float64(benchSpans)*1e9/nsPerOp, "spans/s")
	benchResult[name] = nsPerOp
	// On the baseline's line: how many times faster piiredaction was in
	// this same run.
	if ours := benchResult["piiredaction"]; name == "contrib_redaction" && ours > 0 {
		b.ReportMetric(nsPerOp/ours, "x_piiredaction_speedup")
	}
}

func BenchmarkThroughput(b *testing.B) {
	b.Run("piiredaction", func(b *testing.B) { runThroughput(b, "piiredaction", newOurs(b, ModeRedacted)) })
	b.Run("piiredaction_hashed", func(b *testing.B) { runThroughput(b, "piiredaction_hashed", newOurs(b, ModeHashed)) })
	b.Run("contrib_redaction", func(b *testing.B) { runThroughput(b, "contrib_redaction", newContrib(b)) })
}

// BenchmarkScan measures the built-in detectors alone on plain prose.
func BenchmarkScan(b *testing.B) {
	text := strings.Repeat(strings.Join(benchParagraphs, " "), 4) + " contact jane@example.com or +1 415-555-2671"
	b.SetBytes(int64(len(text)))
	var fs []finding
	for i := 0; i < b.N; i++ {
		fs = allDetector.scan(text, fs[:0])
	}
	if len(fs) != 2 {
		b.Fatal(fmt.Sprint(fs))
	}
}
