package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// piiValues are what must never reach storage.
var piiValues = []string{
	"jane.doe@example.com",
	"4111 1111 1111 1111",
	"4111111111111111",
	"DE89370400440532013000",
	"078-05-1120",
	"+1 415 555 0132",
	"sk-proj-Abc123Def456Ghi789Jkl012Mno345Pqr678Stu901",
	"AKIAIOSFODNN7EXAMPLE",
	"203.0.113.77",
}

func piiSpans(start time.Time) []sdktrace.ReadOnlySpan {
	tid := trace.TraceID{0xd0, 0x11}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{0xd0, 1}, TraceFlags: trace.FlagsSampled})
	prompt := "My email is jane.doe@example.com, card 4111 1111 1111 1111, IBAN DE89370400440532013000, SSN 078-05-1120, call +1 415 555 0132. My key is sk-proj-Abc123Def456Ghi789Jkl012Mno345Pqr678Stu901 and AKIAIOSFODNN7EXAMPLE from 203.0.113.77."
	stubs := tracetest.SpanStubs{{
		Name:        "chat gpt-4o",
		SpanContext: sc,
		SpanKind:    trace.SpanKindClient,
		StartTime:   start, EndTime: start.Add(time.Second),
		Attributes: []attribute.KeyValue{
			attribute.String("gen_ai.operation.name", "chat"),
			attribute.String("gen_ai.provider.name", "openai"),
			attribute.String("gen_ai.request.model", "gpt-4o"),
			attribute.Int("gen_ai.usage.input_tokens", 80),
			attribute.Int("gen_ai.usage.output_tokens", 20),
			attribute.String("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":`+quote(prompt)+`}]}]`),
			attribute.String("gen_ai.output.messages", `[{"role":"assistant","parts":[{"type":"text","content":"I emailed jane.doe@example.com about card 4111111111111111."}],"finish_reason":"stop"}]`),
			attribute.String("app.note", "customer 078-05-1120 called from 203.0.113.77"),
		},
		Events: []sdktrace.Event{{Name: "gen_ai.user.message", Time: start,
			Attributes: []attribute.KeyValue{attribute.String("content", "IBAN DE89370400440532013000")}}},
		Resource:             testResource,
		InstrumentationScope: instrumentation.Scope{Name: "leak"},
	}}
	return stubs.Snapshots()
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// TestNoPIIReachesStorage sends spans full of PII through the real
// pipeline and scans what was stored, byte by byte.
func TestNoPIIReachesStorage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Now().Add(-time.Minute)

	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		in := startInstance(t, "")
		spans := piiSpans(start)
		require.NoError(t, in.exporter(t, "grpc", in.key).ExportSpans(ctx, spans))
		tr := in.waitTrace(t, spans[0].SpanContext().TraceID().String(), 1)
		require.Contains(t, string(tr.Spans[0].InputMessages), "EMAIL_1", "content is kept, redacted")
		require.Contains(t, string(tr.Spans[0].Attributes), "observatory.pii.email")
		// Stop the process so the WAL is checkpointed, then scan every file.
		in.stop(t)
		var all []byte
		files, _ := filepath.Glob(filepath.Join(in.dataDir, "observatory.db*"))
		require.NotEmpty(t, files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			all = append(all, b...)
		}
		require.Contains(t, string(all), "EMAIL_1", "the scan sees stored content")
		for _, v := range piiValues {
			require.False(t, bytes.Contains(all, []byte(v)), "raw %q found in the SQLite files", v)
		}
	})

	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := postgresURL(t)
		in := startInstance(t, url)
		spans := piiSpans(start)
		require.NoError(t, in.exporter(t, "http", in.key).ExportSpans(ctx, spans))
		in.waitTrace(t, spans[0].SpanContext().TraceID().String(), 1)
		conn, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		defer conn.Close(ctx)
		var dump string
		require.NoError(t, conn.QueryRow(ctx, `SELECT string_agg(s::text, E'\n') FROM spans s`).Scan(&dump))
		require.Contains(t, dump, "EMAIL_1")
		for _, v := range piiValues {
			require.NotContains(t, dump, v)
		}
	})
}
