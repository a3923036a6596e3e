package piiredactionprocessor

import (
	"encoding/json"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/llm-observatory/observatory/processors/piiredactionprocessor/internal/metadata"
)

// Test values: every built-in type, each valid (Luhn, mod-97, SSN ranges).
const (
	piiEmail     = "jane.doe@example.com"
	piiEmail2    = "ops-team@acme-corp.io"
	piiPhone     = "+1 415-555-2671"
	piiPhoneDE   = "030 12345678"
	piiCard      = "4111 1111 1111 1111"
	piiCardAmex  = "3782 822463 10005"
	piiIBAN      = "DE89 3704 0044 0532 0130 00"
	piiSSN       = "123-45-6788"
	piiIPv4      = "203.0.113.42"
	piiIPv6      = "2001:db8::8a2e:370:7334"
	piiOpenAI    = "sk-proj-Xr4tY7uI9oP2aS5dF8gH1jK3lZ6xC0vB"
	piiAnthropic = "sk-ant-api03-Qw3rTy6uIo9pAs2dFg5hJk8lZx1cVb4nM7qW0eRt3yU6iO9pA2sD5fG8hJ1kL4zX7cV0bN3mQ6wE9rT2yU5iO8pA1sD4fG7hJ0kL3zX6AA"
	piiAWS       = "AKIAIOSFODNN7EXAMPLE"
	piiGitHub    = "ghp_1234567890abcdefghijABCDEFGHIJ123456"
	piiSlack     = "xoxb-12345678901-123456789012-AbCdEfGhIjKlMnOpQrStUvWx"
	piiGoogle    = "AIzaSyA1234567890abcdefghijklmnopqrstuv"
	piiJWT       = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUgRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	piiURLPass   = "s3cr3t-P4ss"
	piiPassword  = "Tr0ub4dor&3"
	piiCardNum   = 5555555555554444 // a card sent as a number
	piiPhoneNum  = "14155550123"    // digits only, under a "phone" key
	piiPEM       = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yQ5P3QmNKQ3Vtq7E3X9bJ8p0Y2y0Q1XJtZ3u9D8gk0n2yQ7fW5hA\n-----END RSA PRIVATE KEY-----"
)

// rawPII lists every raw value the fixtures embed; none may survive
// redaction.
var rawPII = []string{piiEmail, piiEmail2, piiPhone, piiPhoneDE, piiCard, piiCardAmex, piiIBAN, piiSSN, piiIPv4, piiIPv6,
	piiOpenAI, piiAnthropic, piiAWS, piiGitHub, piiSlack, piiGoogle, piiJWT, piiURLPass, piiPassword, piiPEM,
	"5555555555554444", piiPhoneNum}

var fixtureStart = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func textMsg(role, content string) map[string]any {
	return map[string]any{"role": role, "parts": []any{map[string]any{"type": "text", "content": content}}}
}

// chatSpan fills a span the way the genai processor leaves a chat call,
// with PII in every place content can be: JSON content attributes, a tool
// call whose arguments are JSON inside JSON, legacy indexed keys,
// OpenInference keys, a structured attribute, plain attributes, span
// events, a link and the status message.
func chatSpan(span ptrace.Span, i byte) {
	span.SetName("chat gpt-4o-mini")
	span.SetKind(ptrace.SpanKindClient)
	span.SetTraceID(pcommon.TraceID{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, i})
	span.SetSpanID(pcommon.SpanID{0xb1, 0xb1, 0xb1, 0xb1, 0xb1, 0xb1, 0xb1, i})
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(fixtureStart))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(fixtureStart.Add(1200 * time.Millisecond)))
	a := span.Attributes()
	a.PutStr("gen_ai.operation.name", "chat")
	a.PutStr("gen_ai.provider.name", "openai")
	a.PutStr("gen_ai.request.model", "gpt-4o-mini")
	a.PutStr("gen_ai.response.id", "chatcmpl-AbCdEf123456")
	a.PutInt("gen_ai.usage.input_tokens", 412)
	a.PutInt("gen_ai.usage.output_tokens", 96)
	a.PutDouble("observatory.cost.total_usd", 0.000124)
	a.PutStr("gen_ai.system_instructions", mustJSON([]any{map[string]any{"type": "text",
		"content": "You are the support agent of Acme. Escalate to " + piiEmail2 + ". Internal key: " + piiOpenAI}}))
	a.PutStr("gen_ai.input.messages", mustJSON([]any{
		textMsg("user", "Hi, I'm Jane ("+piiEmail+", "+piiPhone+"). My card "+piiCard+" was charged twice.\nPlease refund to IBAN "+piiIBAN+". My SSN is "+piiSSN+"."),
		textMsg("assistant", "Thanks Jane, I will email "+piiEmail+" once it is done."),
		textMsg("user", "Also my Amex "+piiCardAmex+" and my office "+piiPhoneDE+". Login from "+piiIPv4+"."),
	}))
	args := mustJSON(map[string]any{"email": piiEmail, "card_number": piiCard, "password": piiPassword, "amount": 19.99,
		"backup_card": piiCardNum, "phone": piiPhoneNum})
	a.PutStr("gen_ai.output.messages", mustJSON([]any{map[string]any{
		"role": "assistant", "finish_reason": "tool_call",
		"parts": []any{
			map[string]any{"type": "text", "content": "Refunding the charge for " + piiEmail + "."},
			map[string]any{"type": "tool_call", "id": "call_1", "name": "refund", "arguments": args},
		},
	}}))
	a.PutStr("gen_ai.prompt.0.role", "user")
	a.PutStr("gen_ai.prompt.0.content", "GitHub token "+piiGitHub+" and Slack "+piiSlack)
	a.PutStr("gen_ai.completion.0.content", "Use AWS key "+piiAWS+" and Google key "+piiGoogle)
	a.PutStr("input.value", mustJSON(map[string]any{"messages": []any{map[string]any{"role": "user",
		"content": "Decode " + piiJWT + " and use Anthropic " + piiAnthropic}}}))
	a.PutStr("llm.input_messages.0.message.content", "Deploy key:\n"+piiPEM)
	a.PutStr("enduser.email", piiEmail)
	a.PutStr("db.password", piiPassword)
	a.PutStr("url.full", "postgres://app:"+piiURLPass+"@db.internal:5432/orders")
	a.PutStr("client.address", piiIPv6)
	m := a.PutEmptyMap("app.customer")
	m.PutStr("email", piiEmail)
	m.PutStr("api_key", "k9Xy2mQw8Rt5Zp3L")
	m.PutEmptySlice("phones").AppendEmpty().SetStr(piiPhone)
	m.PutInt("card", piiCardNum)
	a.PutStr("enduser.phone", piiPhoneNum)
	// Client-sent: must not survive (the processor writes these).
	a.PutInt("observatory.pii.email", 0)
	a.PutStr("observatory.pii.mode", "full")

	ev := span.Events().AppendEmpty()
	ev.SetName("gen_ai.user.message")
	ev.SetTimestamp(pcommon.NewTimestampFromTime(fixtureStart))
	ev.Attributes().PutStr("content", "Reach me at "+piiEmail+" or "+piiPhone)
	ev2 := span.Events().AppendEmpty()
	ev2.SetName("exception")
	ev2.SetTimestamp(pcommon.NewTimestampFromTime(fixtureStart))
	ev2.Attributes().PutStr("exception.message", "card "+piiCard+" declined for "+piiEmail)
	l := span.Links().AppendEmpty()
	l.SetTraceID(pcommon.TraceID{1})
	l.SetSpanID(pcommon.SpanID{1})
	l.Attributes().PutStr("peer.ip", piiIPv4)
	span.Status().SetCode(ptrace.StatusCodeError)
	span.Status().SetMessage("refund failed for " + piiEmail)
}

func plainSpan(span ptrace.Span, i byte) {
	span.SetName("GET /healthz")
	span.SetTraceID(pcommon.TraceID{0x11, i})
	span.SetSpanID(pcommon.SpanID{0x22, i})
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(fixtureStart))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(fixtureStart.Add(time.Millisecond)))
	span.Attributes().PutStr("http.route", "/healthz")
	span.Attributes().PutInt("http.response.status_code", 200)
}

// piiTraces is one resource per project id (empty: no project attribute).
func piiTraces(projects ...string) ptrace.Traces {
	td := ptrace.NewTraces()
	for pi, p := range projects {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "support-bot")
		rs.Resource().Attributes().PutStr("observatory.org.id", "org_acme")
		if p != "" {
			rs.Resource().Attributes().PutStr("observatory.project.id", p)
		}
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("opentelemetry.instrumentation.openai_v2")
		chatSpan(ss.Spans().AppendEmpty(), byte(pi*2))
		plainSpan(ss.Spans().AppendEmpty(), byte(pi*2+1))
	}
	return td
}

// piiLogs has a GenAI event with a structured body, a GenAI event with a
// string body, an application log line and a JSON log line.
func piiLogs(projects ...string) plog.Logs {
	ld := plog.NewLogs()
	for _, p := range projects {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", "support-bot")
		if p != "" {
			rl.Resource().Attributes().PutStr("observatory.project.id", p)
		}
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		ts := pcommon.NewTimestampFromTime(fixtureStart)

		lr := lrs.AppendEmpty()
		lr.SetTimestamp(ts)
		lr.SetEventName("gen_ai.user.message")
		lr.Attributes().PutStr("gen_ai.system", "openai")
		body := lr.Body().SetEmptyMap()
		body.PutStr("content", "My card is "+piiCard+", mail "+piiEmail+", key "+piiOpenAI)
		body.PutStr("role", "user")

		lr = lrs.AppendEmpty()
		lr.SetTimestamp(ts)
		lr.Attributes().PutStr("event.name", "gen_ai.choice")
		lr.Body().SetStr(mustJSON(map[string]any{"index": 0, "message": map[string]any{"content": "Sent to " + piiEmail + " and " + piiPhone}}))

		lr = lrs.AppendEmpty()
		lr.SetTimestamp(ts)
		lr.SetSeverityText("WARN")
		lr.Body().SetStr("login failed user=" + piiEmail + " ip=" + piiIPv4 + " password=" + piiPassword)
		lr.Attributes().PutStr("client.address", piiIPv6)

		lr = lrs.AppendEmpty()
		lr.SetTimestamp(ts)
		lr.SetSeverityText("INFO")
		lr.Body().SetStr(`{"msg":"kyc ok","ssn":"` + piiSSN + `","iban":"` + piiIBAN + `","token":"` + piiGitHub + `"}`)
	}
	return ld
}

func processortestSettings() processor.Settings { return processortest.NewNopSettings(metadata.Type) }
