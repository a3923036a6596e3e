package pgstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
	"github.com/llm-observatory/observatory/internal/storage/pgstore"
	"github.com/llm-observatory/observatory/internal/storage/storagetest"
)

func open(t testing.TB) *pgstore.Store {
	t.Helper()
	schema, _ := storagetest.NewPostgresSchema(t)
	s, err := pgstore.Open(context.Background(), pgstore.Options{URL: storagetest.PostgresURL(t), Schema: schema, MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// openNative opens a store that keeps native partitioning even where
// TimescaleDB is available, for the tests of partitions.
func openNative(t testing.TB) *pgstore.Store {
	t.Helper()
	schema, _ := storagetest.NewPostgresSchema(t)
	s, err := pgstore.Open(context.Background(), pgstore.Options{URL: storagetest.PostgresURL(t), Schema: schema, MaxConns: 4, DisableTimescaleDB: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t) })
}

func TestOpenTwiceAndConcurrently(t *testing.T) {
	url := storagetest.PostgresURL(t)
	schema, _ := storagetest.NewPostgresSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	stores := make([]*pgstore.Store, 4)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = pgstore.Open(context.Background(), pgstore.Options{URL: url, Schema: schema, MaxConns: 2})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err)
		require.NoError(t, stores[i].Close())
	}
	s, err := pgstore.Open(context.Background(), pgstore.Options{URL: url, Schema: schema})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Ping(context.Background()))
}

func TestOpenCreatesSchema(t *testing.T) {
	url := storagetest.PostgresURL(t)
	schema, _ := storagetest.NewPostgresSchema(t)
	schema += "_new" // does not exist yet
	t.Cleanup(func() { storagetest.DropPostgresSchema(t, url, schema) })
	s, err := pgstore.Open(context.Background(), pgstore.Options{URL: url, Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	_, err = s.ListProjects(context.Background())
	require.NoError(t, err)
}

func TestOpenErrors(t *testing.T) {
	_, err := pgstore.Open(context.Background(), pgstore.Options{})
	require.ErrorContains(t, err, "URL is required")
	_, err = pgstore.Open(context.Background(), pgstore.Options{URL: "postgres://%zz"})
	require.Error(t, err)
}

func TestPartitions(t *testing.T) {
	ctx := context.Background()
	s := openNative(t)
	day0 := time.Date(2025, 1, 30, 0, 0, 0, 0, time.UTC)
	var calls []llmcall.Call
	for d := range 3 {
		for i := range 4 {
			n := d*10 + i
			start := day0.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*6*time.Hour)
			calls = append(calls, llmcall.Call{
				ProjectID: "p1", TraceID: "t1", SpanID: string(rune('a'+d)) + string(rune('a'+i)),
				StartTime: start, EndTime: start.Add(time.Second), IsLLM: true, Status: llmcall.StatusOK,
				LatencyMS: float64(n),
			})
		}
	}
	// The first and last microsecond of a day land in that day.
	calls[0].StartTime = day0
	calls[3].StartTime = day0.Add(24*time.Hour - time.Microsecond)
	require.NoError(t, s.WriteCalls(ctx, calls))

	parts, err := s.Partitions(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"spans_p20250130", "spans_p20250131", "spans_p20250201"}, parts)

	all := storage.CallQuery{ProjectID: "p1", From: day0.Add(-time.Hour), To: day0.Add(96 * time.Hour), Limit: 100}
	page, err := s.ListCalls(ctx, all)
	require.NoError(t, err)
	require.Len(t, page.Calls, 12)

	// Nothing ends before the first day's end.
	n, err := s.DropPartitionsBefore(ctx, day0.Add(24*time.Hour-time.Nanosecond))
	require.NoError(t, err)
	require.Zero(t, n)

	// Drop the two oldest days: their rows disappear, the third day stays.
	n, err = s.DropPartitionsBefore(ctx, day0.Add(48*time.Hour+time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	parts, err = s.Partitions(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"spans_p20250201"}, parts)
	page, err = s.ListCalls(ctx, all)
	require.NoError(t, err)
	require.Len(t, page.Calls, 4)
	for _, c := range page.Calls {
		require.False(t, c.StartTime.Before(day0.Add(48*time.Hour)))
	}
	_, err = s.GetCall(ctx, "p1", "aa")
	require.ErrorIs(t, err, storage.ErrNotFound)
	trace, err := s.GetTrace(ctx, "p1", "t1")
	require.NoError(t, err)
	require.Len(t, trace, 4)

	// Writing into a dropped day creates its partition again.
	require.NoError(t, s.WriteCalls(ctx, calls[:1]))
	parts, err = s.Partitions(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"spans_p20250130", "spans_p20250201"}, parts)
}

func TestPartitionDroppedByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	url := storagetest.PostgresURL(t)
	schema, _ := storagetest.NewPostgresSchema(t)
	a, err := pgstore.Open(ctx, pgstore.Options{URL: url, Schema: schema, DisableTimescaleDB: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	b, err := pgstore.Open(ctx, pgstore.Options{URL: url, Schema: schema, DisableTimescaleDB: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })

	start := time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC)
	c := llmcall.Call{ProjectID: "p1", TraceID: "t", SpanID: "s1", StartTime: start, EndTime: start, IsLLM: true}
	require.NoError(t, a.WriteCalls(ctx, []llmcall.Call{c}))
	n, err := b.DropPartitionsBefore(ctx, start.Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	// a still believes the partition exists; the write recreates it.
	c.SpanID = "s2"
	require.NoError(t, a.WriteCalls(ctx, []llmcall.Call{c}))
	got, err := b.GetCall(ctx, "p1", "s2")
	require.NoError(t, err)
	require.Equal(t, start, got.StartTime)
}

func BenchmarkWriteCalls(b *testing.B) {
	storagetest.BenchmarkWriteCalls(b, open(b))
}
