package storagetest

import (
	"context"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

// newestFirst sorts calls as ListCalls returns them.
func newestFirst(calls []llmcall.Call) []llmcall.Call {
	out := slices.Clone(calls)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.StartTime.Equal(b.StartTime) {
			return a.StartTime.After(b.StartTime)
		}
		if a.SpanID != b.SpanID {
			return a.SpanID > b.SpanID
		}
		return a.TraceID > b.TraceID
	})
	return out
}

func testPagination(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var want []llmcall.Call
	var batch []llmcall.Call
	for i := range 25 {
		// Three calls share each start time: the order must stay total.
		c := llm("p1", 1+i%4, i, base().Add(time.Duration(i/3)*time.Second))
		want = append(want, c)
		batch = append(batch, c)
		if i%5 == 0 {
			batch = append(batch, plain("p1", 1, 500+i, base().Add(time.Duration(i/3)*time.Second)))
		}
	}
	// Same start time and span id in two traces.
	twin := llm("p1", 99, 7, want[7].StartTime)
	want = append(want, twin)
	batch = append(batch, twin)
	write(t, s, batch...)
	want = newestFirst(want)

	for _, limit := range []int{10, 13, 1, 26, 27} {
		q := dayRange("p1")
		q.Limit = limit
		var got []llmcall.Call
		var sizes []int
		for {
			page, err := s.ListCalls(ctx, q)
			require.NoError(t, err)
			sizes = append(sizes, len(page.Calls))
			got = append(got, page.Calls...)
			if page.NextCursor == "" {
				break
			}
			require.Len(t, page.Calls, limit, "a page before the last is full")
			q.Cursor = page.NextCursor
		}
		require.Equal(t, want, got, "limit %d", limit)
		pages := (len(want) + limit - 1) / limit
		require.Len(t, sizes, pages, "limit %d: page sizes %v (no empty last page)", limit, sizes)
	}

	// A cursor keeps working with filters and after new, newer writes.
	q := dayRange("p1")
	q.Limit = 10
	q.Model = "gpt-4o"
	page, err := s.ListCalls(ctx, q)
	require.NoError(t, err)
	require.Equal(t, want[:10], page.Calls)
	write(t, s, llm("p1", 1, 1000, base().Add(time.Hour)))
	q.Cursor = page.NextCursor
	page, err = s.ListCalls(ctx, q)
	require.NoError(t, err)
	require.Equal(t, want[10:20], page.Calls)
}

func testFilters(t *testing.T, s storage.Store) {
	ctx := context.Background()
	from, to := base(), base().Add(time.Hour)
	mk := func(span int, start time.Time, endpoint, reqModel, respModel, status string) llmcall.Call {
		c := llm("p1", 1, span, start)
		c.Endpoint, c.RequestModel, c.ResponseModel, c.Status = endpoint, reqModel, respModel, status
		return c
	}
	calls := []llmcall.Call{
		mk(1, from, "search", "gpt-4o", "gpt-4o-2024-08-06", llmcall.StatusOK),
		mk(2, from.Add(time.Minute), "search", "gpt-4o-mini", "gpt-4o-mini", llmcall.StatusError),
		mk(3, from.Add(2*time.Minute), "chat", "gpt-4o", "", llmcall.StatusOK),
		mk(4, from.Add(3*time.Minute), "chat", "claude", "gpt-4o-2024-08-06", llmcall.StatusUnset),
		mk(5, to.Add(-time.Microsecond), "chat", "claude", "claude", llmcall.StatusError),
		mk(6, to, "chat", "gpt-4o", "gpt-4o", llmcall.StatusOK),                          // excluded: To is exclusive
		mk(7, from.Add(-time.Microsecond), "chat", "gpt-4o", "gpt-4o", llmcall.StatusOK), // excluded: before From
	}
	write(t, s, calls...)
	ids := func(q storage.CallQuery) string {
		q.ProjectID, q.From, q.To = "p1", from, to
		var out []string
		for _, c := range all(t, s, q) {
			out = append(out, strings.TrimLeft(c.SpanID, "0"))
		}
		return strings.Join(out, ",")
	}
	require.Equal(t, "5,4,3,2,1", ids(storage.CallQuery{}))
	require.Equal(t, "2,1", ids(storage.CallQuery{Endpoint: "search"}))
	require.Equal(t, "3,1", ids(storage.CallQuery{Model: "gpt-4o"}))
	require.Equal(t, "4,1", ids(storage.CallQuery{Model: "gpt-4o-2024-08-06"}))
	require.Equal(t, "5,2", ids(storage.CallQuery{Status: llmcall.StatusError}))
	require.Equal(t, "4", ids(storage.CallQuery{Status: llmcall.StatusUnset}))
	require.Equal(t, "5,4", ids(storage.CallQuery{Endpoint: "chat", Model: "claude"}))
	require.Equal(t, "", ids(storage.CallQuery{Endpoint: "nope"}))

	// From is inclusive at microsecond precision; sub-microsecond bounds
	// round up.
	page, err := s.ListCalls(ctx, storage.CallQuery{ProjectID: "p1", From: from.Add(-time.Microsecond), To: from.Add(time.Nanosecond), Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []string{spanID(1), spanID(7)}, spanIDs(page.Calls))
	page, err = s.ListCalls(ctx, storage.CallQuery{ProjectID: "p1", From: from.Add(-time.Nanosecond), To: from.Add(time.Microsecond), Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []string{spanID(1)}, spanIDs(page.Calls))
}

// expectBucket computes a bucket the way the contract defines it.
func expectBucket(start time.Time, calls []llmcall.Call) storage.Bucket {
	b := storage.Bucket{Start: start}
	var lat []float64
	for _, c := range calls {
		b.Calls++
		if c.Status == llmcall.StatusError {
			b.Errors++
		}
		lat = append(lat, c.LatencyMS)
		b.InputTokens += c.InputTokens
		b.OutputTokens += c.OutputTokens
		b.TotalTokens += c.TotalTokens
		b.CostUSD += c.CostTotalUSD
		if c.Unpriced {
			b.UnpricedCalls++
		}
	}
	if b.Calls == 0 {
		return b
	}
	b.ErrorRate = float64(b.Errors) / float64(b.Calls)
	sort.Float64s(lat)
	rank := func(p int) float64 {
		n := len(lat)
		r := (p*n + 99) / 100 // ceil(p/100 * n)
		return lat[r-1]
	}
	b.LatencyP50MS, b.LatencyP95MS, b.LatencyP99MS = rank(50), rank(95), rank(99)
	return b
}

func requireBucket(t *testing.T, want, got storage.Bucket, msg string) {
	t.Helper()
	require.True(t, want.Start.Equal(got.Start), "%s: start %s, want %s", msg, got.Start, want.Start)
	require.Equal(t, time.UTC, got.Start.Location(), msg)
	require.InDelta(t, want.CostUSD, got.CostUSD, 1e-9, msg)
	require.InDelta(t, want.ErrorRate, got.ErrorRate, 1e-12, msg)
	want.CostUSD, got.CostUSD = 0, 0
	want.ErrorRate, got.ErrorRate = 0, 0
	want.Start, got.Start = time.Time{}, time.Time{}
	require.Equal(t, want, got, msg)
}

func testOverview(t *testing.T, s storage.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	from, step := base(), time.Minute
	to := from.Add(5 * step)
	byBucket := map[int][]llmcall.Call{}
	var calls []llmcall.Call
	n := 0
	for _, bucket := range []int{0, 1, 3, 4} { // bucket 2 stays empty
		for range 7 + bucket*9 {
			n++
			start := from.Add(time.Duration(bucket)*step + time.Duration(rng.Int64N(int64(step))))
			if n == 1 {
				start = from // From is inclusive
			}
			c := llm("p1", n, n, start.Truncate(time.Microsecond))
			c.LatencyMS = float64(rng.IntN(5000)) + float64(rng.IntN(1000))/1000
			if rng.IntN(4) == 0 {
				c.Status = llmcall.StatusError
			}
			c.InputTokens, c.OutputTokens = rng.Int64N(2000), rng.Int64N(800)
			c.TotalTokens = c.InputTokens + c.OutputTokens
			c.CostTotalUSD = float64(rng.IntN(100000)) / 1e7
			if rng.IntN(5) == 0 {
				c.Unpriced, c.CostTotalUSD = true, 0
			}
			if rng.IntN(3) == 0 {
				c.Endpoint, c.RequestModel, c.ResponseModel = "search", "claude", "claude-3-5"
			}
			byBucket[bucket] = append(byBucket[bucket], c)
			calls = append(calls, c)
		}
	}
	// Not counted: outside the range, not LLM, another project.
	calls = append(calls,
		llm("p1", 900, 900, to),
		llm("p1", 901, 901, from.Add(-time.Microsecond)),
		plain("p1", 902, 902, from.Add(step)),
		llm("p2", 903, 903, from.Add(step)),
	)
	write(t, s, calls...)

	check := func(q storage.OverviewQuery, keep func(llmcall.Call) bool) {
		t.Helper()
		q.ProjectID, q.From, q.To, q.Step = "p1", from, to, step
		got, err := s.Overview(ctx, q)
		require.NoError(t, err)
		var total []llmcall.Call
		var wantBuckets []storage.Bucket
		for bucket := range 5 {
			var in []llmcall.Call
			for _, c := range byBucket[bucket] {
				if keep(c) {
					in = append(in, c)
				}
			}
			total = append(total, in...)
			if len(in) > 0 {
				wantBuckets = append(wantBuckets, expectBucket(from.Add(time.Duration(bucket)*step), in))
			}
		}
		requireBucket(t, expectBucket(from, total), got.Total, "total")
		require.Len(t, got.Buckets, len(wantBuckets))
		for i := range wantBuckets {
			requireBucket(t, wantBuckets[i], got.Buckets[i], "bucket")
		}
	}
	check(storage.OverviewQuery{}, func(llmcall.Call) bool { return true })
	check(storage.OverviewQuery{Endpoint: "search"}, func(c llmcall.Call) bool { return c.Endpoint == "search" })
	check(storage.OverviewQuery{Model: "gpt-4o-2024-08-06"}, func(c llmcall.Call) bool { return c.ResponseModel == "gpt-4o-2024-08-06" })
	check(storage.OverviewQuery{Model: "claude", Endpoint: "search"}, func(c llmcall.Call) bool { return c.RequestModel == "claude" })

	// No data: zero total starting at From, no buckets.
	got, err := s.Overview(ctx, storage.OverviewQuery{ProjectID: "p1", From: to.Add(time.Hour), To: to.Add(2 * time.Hour), Step: time.Minute})
	require.NoError(t, err)
	require.Empty(t, got.Buckets)
	requireBucket(t, storage.Bucket{Start: to.Add(time.Hour)}, got.Total, "empty")
}

func testOverviewAlignment(t *testing.T, s storage.Store) {
	ctx := context.Background()
	// Buckets are aligned to From, not to the clock: From at :17, step 90s.
	from, step := base().Add(17*time.Second), 90*time.Second
	a := llm("p1", 1, 1, from.Add(89*time.Second+999999*time.Microsecond)) // last µs of bucket 0
	a.LatencyMS = 10
	b := llm("p1", 1, 2, from.Add(90*time.Second)) // first µs of bucket 1
	b.LatencyMS = 20
	c := llm("p1", 1, 3, from.Add(4*step+time.Second)) // bucket 4, the last (partial) one
	c.LatencyMS = 30
	write(t, s, a, b, c)
	got, err := s.Overview(ctx, storage.OverviewQuery{ProjectID: "p1", From: from, To: from.Add(4*step + 2*time.Second), Step: step})
	require.NoError(t, err)
	require.Len(t, got.Buckets, 3)
	requireBucket(t, expectBucket(from, []llmcall.Call{a}), got.Buckets[0], "bucket 0")
	requireBucket(t, expectBucket(from.Add(step), []llmcall.Call{b}), got.Buckets[1], "bucket 1")
	requireBucket(t, expectBucket(from.Add(4*step), []llmcall.Call{c}), got.Buckets[2], "bucket 4")
	requireBucket(t, expectBucket(from, []llmcall.Call{a, b, c}), got.Total, "total")
	require.InDelta(t, 20, got.Total.LatencyP50MS, 0)
	require.InDelta(t, 30, got.Total.LatencyP95MS, 0)

	// Exactly 2000 buckets is allowed, 2001 is not.
	_, err = s.Overview(ctx, storage.OverviewQuery{ProjectID: "p1", From: from, To: from.Add(2000 * time.Second), Step: time.Second})
	require.NoError(t, err)
	_, err = s.Overview(ctx, storage.OverviewQuery{ProjectID: "p1", From: from, To: from.Add(2000*time.Second + time.Millisecond), Step: time.Second})
	require.ErrorIs(t, err, storage.ErrInvalidQuery)
}

func testNonLLMSpans(t *testing.T, s storage.Store) {
	ctx := context.Background()
	root := plain("p1", 1, 1, base())
	tool := plain("p1", 1, 2, base().Add(10*time.Millisecond))
	tool.ParentSpanID, tool.Name, tool.Kind = root.SpanID, "execute_tool lookup", "internal"
	call := llm("p1", 1, 3, base().Add(20*time.Millisecond))
	call.ParentSpanID = root.SpanID
	write(t, s, root, tool, call)

	trace, err := s.GetTrace(ctx, "p1", traceID(1))
	require.NoError(t, err)
	require.Equal(t, []llmcall.Call{root, tool, call}, trace)
	got, err := s.GetCall(ctx, "p1", tool.SpanID)
	require.NoError(t, err)
	require.Equal(t, tool, got)

	require.Equal(t, []llmcall.Call{call}, all(t, s, dayRange("p1")))
	ov, err := s.Overview(ctx, storage.OverviewQuery{ProjectID: "p1", From: base(), To: base().Add(time.Minute), Step: time.Minute})
	require.NoError(t, err)
	require.EqualValues(t, 1, ov.Total.Calls)
	require.Len(t, ov.Buckets, 1)
}

func testGetTrace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	// Ordered by start time, then span id; written out of order.
	c1 := llm("p1", 1, 3, base().Add(time.Second))
	c2 := plain("p1", 1, 1, base().Add(2*time.Second))
	c3 := llm("p1", 1, 2, base().Add(time.Second))
	c4 := plain("p1", 1, 4, base())
	other := llm("p1", 2, 5, base())
	write(t, s, c1, c2, other, c3, c4)
	trace, err := s.GetTrace(ctx, "p1", traceID(1))
	require.NoError(t, err)
	require.Equal(t, []llmcall.Call{c4, c3, c1, c2}, trace)
	_, err = s.GetTrace(ctx, "p1", traceID(3))
	require.ErrorIs(t, err, storage.ErrNotFound)
	_, err = s.GetCall(ctx, "p1", spanID(6))
	require.ErrorIs(t, err, storage.ErrNotFound)
}

func testInvalidQueries(t *testing.T, s storage.Store) {
	ctx := context.Background()
	write(t, s, llm("p1", 1, 1, base()))
	ok := storage.CallQuery{ProjectID: "p1", From: base(), To: base().Add(time.Hour), Limit: 10}
	lists := map[string]func(q *storage.CallQuery){
		"limit 0":      func(q *storage.CallQuery) { q.Limit = 0 },
		"limit -1":     func(q *storage.CallQuery) { q.Limit = -1 },
		"limit 1001":   func(q *storage.CallQuery) { q.Limit = 1001 },
		"no from":      func(q *storage.CallQuery) { q.From = time.Time{} },
		"no to":        func(q *storage.CallQuery) { q.To = time.Time{} },
		"to == from":   func(q *storage.CallQuery) { q.To = q.From },
		"to < from":    func(q *storage.CallQuery) { q.To = q.From.Add(-time.Second) },
		"no project":   func(q *storage.CallQuery) { q.ProjectID = "" },
		"cursor junk":  func(q *storage.CallQuery) { q.Cursor = "not a cursor!" },
		"cursor b64":   func(q *storage.CallQuery) { q.Cursor = "eyJ4IjoxfQ" }, // {"x":1}
		"cursor empty": func(q *storage.CallQuery) { q.Cursor = "e30" },        // {}
	}
	for name, mutate := range lists {
		q := ok
		mutate(&q)
		_, err := s.ListCalls(ctx, q)
		require.ErrorIs(t, err, storage.ErrInvalidQuery, name)
	}
	page, err := s.ListCalls(ctx, ok)
	require.NoError(t, err)
	require.Len(t, page.Calls, 1)
	ok.Limit = 1000
	_, err = s.ListCalls(ctx, ok)
	require.NoError(t, err)

	okOv := storage.OverviewQuery{ProjectID: "p1", From: base(), To: base().Add(time.Hour), Step: time.Minute}
	overviews := map[string]func(q *storage.OverviewQuery){
		"step 0":       func(q *storage.OverviewQuery) { q.Step = 0 },
		"step -1m":     func(q *storage.OverviewQuery) { q.Step = -time.Minute },
		"step 1ns":     func(q *storage.OverviewQuery) { q.Step = time.Nanosecond },
		"2001 buckets": func(q *storage.OverviewQuery) { q.Step = time.Hour / 2001 },
		"no from":      func(q *storage.OverviewQuery) { q.From = time.Time{} },
		"to == from":   func(q *storage.OverviewQuery) { q.To = q.From },
		"no project":   func(q *storage.OverviewQuery) { q.ProjectID = "" },
	}
	for name, mutate := range overviews {
		q := okOv
		mutate(&q)
		_, err := s.Overview(ctx, q)
		require.ErrorIs(t, err, storage.ErrInvalidQuery, name)
	}
	_, err = s.Overview(ctx, okOv)
	require.NoError(t, err)

	_, err = s.GetCall(ctx, "", spanID(1))
	require.ErrorIs(t, err, storage.ErrInvalidQuery)
	_, err = s.GetCall(ctx, "p1", "")
	require.ErrorIs(t, err, storage.ErrInvalidQuery)
	_, err = s.GetTrace(ctx, "p1", "")
	require.ErrorIs(t, err, storage.ErrInvalidQuery)
	_, err = s.DeleteProjectCalls(ctx, "")
	require.ErrorIs(t, err, storage.ErrInvalidQuery)
}

func testDeleteProjectCalls(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var calls []llmcall.Call
	for i := range 7 {
		calls = append(calls, llm("p1", i, i, base().Add(time.Duration(i)*25*time.Hour)))
	}
	calls = append(calls, plain("p1", 1, 100, base()), llm("p2", 1, 1, base()))
	write(t, s, calls...)
	n, err := s.DeleteProjectCalls(ctx, "p1")
	require.NoError(t, err)
	require.EqualValues(t, 8, n)
	_, err = s.GetCall(ctx, "p1", spanID(100))
	require.ErrorIs(t, err, storage.ErrNotFound)
	_, err = s.GetTrace(ctx, "p1", traceID(1))
	require.ErrorIs(t, err, storage.ErrNotFound)
	n, err = s.DeleteProjectCalls(ctx, "p1")
	require.NoError(t, err)
	require.Zero(t, n)
	_, err = s.GetCall(ctx, "p2", spanID(1))
	require.NoError(t, err)
	// Writing again after a delete works (the key is free again).
	write(t, s, calls[0])
	_, err = s.GetCall(ctx, "p1", calls[0].SpanID)
	require.NoError(t, err)
}
