// Package storagetest is the conformance suite of storage.Store: one set of
// tests that every implementation (sqlitestore, pgstore) passes, so both
// backends answer every read identically. It also holds the helpers that
// tests in any package use to reach the test PostgreSQL
// (TEST_DATABASE_URL, PostgresURL, NewPostgresSchema) and a shared write
// benchmark (BenchmarkWriteCalls).
//
// What the suite pins down beyond the storage.Store doc comment:
//
//   - A record reads back equal to what was written after normalisation:
//     times in UTC truncated to the microsecond; strings valid UTF-8
//     without NUL bytes (invalid bytes become U+FFFD); NaN/±Inf floats 0;
//     an empty FinishReasons, Scopes or list result is nil; a JSON field
//     that is empty, whitespace or the literal null is nil; other JSON is
//     returned in canonical form (compact, keys sorted, no HTML escaping,
//     numbers as PostgreSQL's numeric prints them: 1e2 → 100). JSON that
//     is already canonical comes back byte for byte.
//   - Within one batch, and across batches, the first written version of a
//     key (start time, project, trace, span) wins; invalid records are
//     skipped and reported with ErrInvalidRecord after the others are
//     written.
//   - Reads of empty ids are ErrInvalidQuery; query bounds From/To are
//     rounded up to the microsecond, Step down.
//   - Overview returns only buckets holding calls (nil when none) and a
//     Total whose Start is From.
//   - CreateOrg/CreateProject are idempotent on the id (a project id taken
//     by another org is ErrInvalidRecord, an unknown org ErrNotFound);
//     CreateAPIKey needs the project in the key's org (ErrNotFound) and a
//     new id and hash (ErrInvalidRecord); ListProjects is oldest first.
package storagetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

// Run runs the conformance suite. newStore must return a new, empty store
// for the calling (sub)test and arrange for it to be closed (t.Cleanup);
// subtests run in parallel, each with its own store.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Normalisation", testNormalisation},
		{"InvalidRecords", testInvalidRecords},
		{"IdempotentWrites", testIdempotentWrites},
		{"TenantIsolation", testTenantIsolation},
		{"Pagination", testPagination},
		{"Filters", testFilters},
		{"Overview", testOverview},
		{"OverviewAlignment", testOverviewAlignment},
		{"NonLLMSpans", testNonLLMSpans},
		{"GetTrace", testGetTrace},
		{"InvalidQueries", testInvalidQueries},
		{"DeleteProjectCalls", testDeleteProjectCalls},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Context", testContext},
		{"Tenants", testTenants},
		{"APIKeys", testAPIKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// base is the start of the test data: a fixed UTC time.
func base() time.Time { return time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC) }

func traceID(n int) string { return fmt.Sprintf("%032x", n) }
func spanID(n int) string  { return fmt.Sprintf("%016x", n) }

// llm returns a minimal, already normalised LLM call.
func llm(project string, trace, span int, start time.Time) llmcall.Call {
	return llmcall.Call{
		OrgID:         "org-1",
		ProjectID:     project,
		Endpoint:      "chat",
		TraceID:       traceID(trace),
		SpanID:        spanID(span),
		Name:          "chat gpt-4o",
		Kind:          "client",
		StartTime:     start,
		EndTime:       start.Add(250 * time.Millisecond),
		LatencyMS:     250,
		IsLLM:         true,
		Provider:      "openai",
		Operation:     "chat",
		RequestModel:  "gpt-4o",
		ResponseModel: "gpt-4o-2024-08-06",
		InputTokens:   12,
		OutputTokens:  30,
		TotalTokens:   42,
		CostTotalUSD:  0.0005,
		CostSource:    llmcall.CostSourcePriceTable,
		Status:        llmcall.StatusOK,
	}
}

// plain returns a non-LLM span.
func plain(project string, trace, span int, start time.Time) llmcall.Call {
	return llmcall.Call{
		OrgID:       "org-1",
		ProjectID:   project,
		Endpoint:    "chat",
		ServiceName: "api",
		TraceID:     traceID(trace),
		SpanID:      spanID(span),
		Name:        "GET /chat",
		Kind:        "server",
		StartTime:   start,
		EndTime:     start.Add(time.Second),
		LatencyMS:   1000,
		Status:      llmcall.StatusUnset,
		Attributes:  json.RawMessage(`{"http.route":"/chat"}`),
	}
}

// full returns an LLM call with every field set, in canonical form.
func full(project string, trace, span int, start time.Time) llmcall.Call {
	return llmcall.Call{
		OrgID:              "org-1",
		ProjectID:          project,
		Endpoint:           "support-bot",
		Environment:        "production",
		ServiceName:        "support-api",
		TraceID:            traceID(trace),
		SpanID:             spanID(span),
		ParentSpanID:       spanID(span + 1000),
		Name:               "chat gpt-4o",
		Kind:               "client",
		SessionID:          "conv-42",
		UserID:             "user-7",
		StartTime:          start,
		EndTime:            start.Add(1234567 * time.Microsecond),
		LatencyMS:          1234.567,
		TTFTMS:             180.25,
		IsLLM:              true,
		Provider:           "openai",
		Operation:          "chat",
		RequestModel:       "gpt-4o",
		ResponseModel:      "gpt-4o-2024-08-06",
		SourceConvention:   "otel_genai",
		InputTokens:        1200,
		OutputTokens:       345,
		TotalTokens:        1545,
		CacheReadTokens:    1024,
		CacheWriteTokens:   64,
		ReasoningTokens:    128,
		CostInputUSD:       0.003,
		CostOutputUSD:      0.00345,
		CostTotalUSD:       0.00645,
		CostSource:         llmcall.CostSourcePriceTable,
		Unpriced:           false,
		Status:             llmcall.StatusError,
		StatusMessage:      "upstream timeout",
		ErrorType:          "timeout",
		HTTPStatus:         504,
		FinishReasons:      []string{"stop", "length"},
		InputMessages:      json.RawMessage(`[{"parts":[{"content":"Hello, wörld <b>&</b> \"quoted\"\n\ttab","type":"text"}],"role":"user"}]`),
		OutputMessages:     json.RawMessage(`[{"finish_reason":"stop","parts":[{"content":"Hi! 😀","type":"text"}],"role":"assistant"}]`),
		SystemInstructions: json.RawMessage(`[{"content":"You are helpful.","type":"text"}]`),
		Attributes:         json.RawMessage(`{"custom.flag":true,"custom.num":1.5,"http.method":"POST","list":[1,2,3],"nested":{"a":null,"b":"x"}}`),
	}
}

func write(t *testing.T, s storage.Store, calls ...llmcall.Call) {
	t.Helper()
	require.NoError(t, s.WriteCalls(context.Background(), calls))
}

// all reads every page of q (Limit defaulting to 1000).
func all(t *testing.T, s storage.Store, q storage.CallQuery) []llmcall.Call {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	var out []llmcall.Call
	for i := 0; ; i++ {
		require.Less(t, i, 10000, "pagination does not end")
		page, err := s.ListCalls(context.Background(), q)
		require.NoError(t, err)
		out = append(out, page.Calls...)
		if page.NextCursor == "" {
			return out
		}
		q.Cursor = page.NextCursor
	}
}

func dayRange(project string) storage.CallQuery {
	return storage.CallQuery{ProjectID: project, From: base().Add(-24 * time.Hour), To: base().Add(24 * time.Hour), Limit: 1000}
}

func spanIDs(calls []llmcall.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.SpanID
	}
	return out
}

func testRoundTrip(t *testing.T, s storage.Store) {
	ctx := context.Background()
	f := full("p1", 1, 1, base().Add(123456*time.Microsecond))
	p := plain("p1", 1, 2, base())
	write(t, s, f, p)

	got, err := s.GetCall(ctx, "p1", f.SpanID)
	require.NoError(t, err)
	require.Equal(t, f, got)

	got, err = s.GetCall(ctx, "p1", p.SpanID)
	require.NoError(t, err)
	require.Equal(t, p, got)

	page, err := s.ListCalls(ctx, dayRange("p1"))
	require.NoError(t, err)
	require.Equal(t, []llmcall.Call{f}, page.Calls)
	require.Empty(t, page.NextCursor)

	trace, err := s.GetTrace(ctx, "p1", f.TraceID)
	require.NoError(t, err)
	require.Equal(t, []llmcall.Call{p, f}, trace)

	// Zero values everywhere but the key come back as zero values.
	z := llmcall.Call{ProjectID: "p1", TraceID: traceID(9), SpanID: spanID(9), StartTime: base()}
	write(t, s, z)
	got, err = s.GetCall(ctx, "p1", z.SpanID)
	require.NoError(t, err)
	require.Equal(t, z, got)
}

func testNormalisation(t *testing.T, s storage.Store) {
	ctx := context.Background()
	zone := time.FixedZone("UTC+1", 3600)
	c := llm("p1", 1, 1, base().In(zone).Add(1234567*time.Nanosecond))
	c.EndTime = c.StartTime.Add(999 * time.Nanosecond)
	c.Name = "a\x00b\xffc"
	c.TTFTMS = math.Inf(1)
	c.CostInputUSD = math.NaN()
	c.FinishReasons = []string{}
	c.InputMessages = json.RawMessage(`null`)
	c.OutputMessages = json.RawMessage(" \n ")
	c.SystemInstructions = json.RawMessage(`[ 1e2, -0.0, 1.50e-1, 12E+1, 5, -7.25, 0.5e-2 ]`)
	c.Attributes = json.RawMessage(`{ "b" : 1, "a": [ -0, 0.10, "x\u0000y", "\u00e9\ud83d\ude00", "\ud800" ], "a2": "<&>", "b": 2 }`)
	write(t, s, c)

	want := c
	want.StartTime = base().Add(1234 * time.Microsecond)
	want.EndTime = base().Add(1235 * time.Microsecond)
	want.Name = "ab\uFFFDc"
	want.TTFTMS = 0
	want.CostInputUSD = 0
	want.FinishReasons = nil
	want.InputMessages = nil
	want.OutputMessages = nil
	want.SystemInstructions = json.RawMessage(`[100,0.0,0.150,120,5,-7.25,0.005]`)
	want.Attributes = json.RawMessage(`{"a":[0,0.10,"xy","é😀","` + "\uFFFD" + `"],"a2":"<&>","b":2}`)

	got, err := s.GetCall(ctx, "p1", c.SpanID)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, string(want.Attributes), string(got.Attributes))
	require.Equal(t, string(want.SystemInstructions), string(got.SystemInstructions))

	// The caller's slice is not modified.
	require.Equal(t, "a\x00b\xffc", c.Name)
	require.Empty(t, c.FinishReasons)
	require.NotNil(t, c.FinishReasons)
}

func testInvalidRecords(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ok1 := llm("p1", 1, 1, base())
	ok2 := llm("p1", 1, 2, base().Add(time.Second))
	noProject := llm("", 1, 3, base())
	noSpan := llm("p1", 1, 4, base())
	noSpan.SpanID = ""
	noTrace := llm("p1", 1, 5, base())
	noTrace.TraceID = ""
	noStart := llm("p1", 1, 6, time.Time{})
	badJSON := llm("p1", 1, 7, base())
	badJSON.Attributes = json.RawMessage(`{"a":`)
	farFuture := llm("p1", 1, 8, time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC))

	err := s.WriteCalls(ctx, []llmcall.Call{ok1, noProject, noSpan, noTrace, noStart, badJSON, farFuture, ok2})
	require.ErrorIs(t, err, storage.ErrInvalidRecord)
	require.Contains(t, err.Error(), "6 of 8")

	// The valid records were written.
	got := all(t, s, dayRange("p1"))
	require.Equal(t, []string{ok2.SpanID, ok1.SpanID}, spanIDs(got))

	require.ErrorIs(t, s.WriteCalls(ctx, []llmcall.Call{badJSON}), storage.ErrInvalidRecord)
	require.NoError(t, s.WriteCalls(ctx, nil))
	require.NoError(t, s.WriteCalls(ctx, []llmcall.Call{}))
}

func testIdempotentWrites(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var batch []llmcall.Call
	for i := range 10 {
		batch = append(batch, llm("p1", 1, i, base().Add(time.Duration(i)*time.Second)))
	}
	dup := batch[3]
	dup.Name = "duplicate within the batch"
	batch = append(batch, dup)

	write(t, s, batch...)
	write(t, s, batch...)
	got := all(t, s, dayRange("p1"))
	require.Len(t, got, 10)

	// A redelivered record with the same key changes nothing: the first
	// written version is kept (also within one batch).
	changed := batch[5]
	changed.Name = "changed on redelivery"
	changed.InputTokens = 999
	write(t, s, changed)
	c, err := s.GetCall(ctx, "p1", changed.SpanID)
	require.NoError(t, err)
	require.Equal(t, batch[5], c)
	c, err = s.GetCall(ctx, "p1", dup.SpanID)
	require.NoError(t, err)
	require.Equal(t, batch[3], c)

	ov, err := s.Overview(ctx, storage.OverviewQuery{ProjectID: "p1", From: base(), To: base().Add(time.Hour), Step: time.Hour})
	require.NoError(t, err)
	require.EqualValues(t, 10, ov.Total.Calls)
}

func testTenantIsolation(t *testing.T, s storage.Store) {
	ctx := context.Background()
	// A and B share trace and span ids and times; each sees only its own.
	var calls []llmcall.Call
	for i := range 5 {
		a := llm("A", 1, i, base().Add(time.Duration(i)*time.Second))
		a.Endpoint = "a-endpoint"
		b := llm("B", 1, i, base().Add(time.Duration(i)*time.Second))
		b.Endpoint = "b-endpoint"
		b.OrgID = "org-2"
		calls = append(calls, a, b)
	}
	bOnly := llm("B", 2, 100, base())
	bOnly.OrgID = "org-2"
	calls = append(calls, bOnly, plain("B", 1, 101, base()))
	write(t, s, calls...)

	got := all(t, s, dayRange("A"))
	require.Len(t, got, 5)
	for _, c := range got {
		require.Equal(t, "A", c.ProjectID)
		require.Equal(t, "a-endpoint", c.Endpoint)
	}
	c, err := s.GetCall(ctx, "A", spanID(1))
	require.NoError(t, err)
	require.Equal(t, "a-endpoint", c.Endpoint)
	_, err = s.GetCall(ctx, "A", spanID(100))
	require.ErrorIs(t, err, storage.ErrNotFound)
	_, err = s.GetCall(ctx, "A", spanID(101))
	require.ErrorIs(t, err, storage.ErrNotFound)
	trace, err := s.GetTrace(ctx, "A", traceID(1))
	require.NoError(t, err)
	require.Len(t, trace, 5)
	for _, c := range trace {
		require.Equal(t, "A", c.ProjectID)
	}
	_, err = s.GetTrace(ctx, "A", traceID(2))
	require.ErrorIs(t, err, storage.ErrNotFound)
	ov, err := s.Overview(ctx, storage.OverviewQuery{ProjectID: "A", From: base(), To: base().Add(time.Minute), Step: time.Minute})
	require.NoError(t, err)
	require.EqualValues(t, 5, ov.Total.Calls)
	_, err = s.GetCall(ctx, "C", spanID(1))
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.Empty(t, all(t, s, dayRange("C")))

	n, err := s.DeleteProjectCalls(ctx, "A")
	require.NoError(t, err)
	require.EqualValues(t, 5, n)
	require.Empty(t, all(t, s, dayRange("A")))
	require.Len(t, all(t, s, dayRange("B")), 6)
	trace, err = s.GetTrace(ctx, "B", traceID(1))
	require.NoError(t, err)
	require.Len(t, trace, 6)
}
