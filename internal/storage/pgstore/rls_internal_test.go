package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/storage/storagetest"
)

// TestReadProjectBecomesReader checks the store's own read path: inside
// readProject a query runs as observatory_reader bound to the project, and
// the pooled connection is back to normal afterwards.
func TestReadProjectBecomesReader(t *testing.T) {
	ctx := context.Background()
	schema, _ := storagetest.NewPostgresSchema(t)
	s, err := Open(ctx, Options{URL: storagetest.PostgresURL(t), Schema: schema, MaxConns: 1})
	require.NoError(t, err)
	defer s.Close()
	require.NotEmpty(t, s.reader)
	var user, project string
	require.NoError(t, s.readProject(ctx, "prj_x", func(q querier) error {
		return q.QueryRow(ctx, `SELECT current_user::text, current_setting('observatory.project_id', true)`).Scan(&user, &project)
	}))
	require.Equal(t, s.reader, user)
	require.Equal(t, "prj_x", project)
	// MaxConns 1: the same connection, after the read.
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT current_user::text, coalesce(current_setting('observatory.project_id', true), '')`).Scan(&user, &project))
	require.NotEqual(t, s.reader, user)
	require.Empty(t, project)
}

// BenchmarkGetCallRLS measures what reading as the reader role costs: the
// store's GetCall with row-level security against the same store reading
// as the connecting user, in one run.
//
//	go test ./internal/storage/pgstore -run '^$' -bench GetCallRLS -benchtime 2s -count 3
func BenchmarkGetCallRLS(b *testing.B) {
	ctx := context.Background()
	schema, _ := storagetest.NewPostgresSchema(b)
	s, err := Open(ctx, Options{URL: storagetest.PostgresURL(b), Schema: schema, MaxConns: 2, DisableTimescaleDB: true})
	require.NoError(b, err)
	defer s.Close()
	calls := storagetest.BenchCalls("prj_a", 0, 1000, time.Now().UTC().Add(-time.Hour))
	require.NoError(b, s.WriteCalls(ctx, calls))
	reader := s.reader
	for _, role := range []string{reader, ""} {
		name := map[bool]string{true: "as_reader", false: "as_connecting_user"}[role != ""]
		b.Run(name, func(b *testing.B) {
			s.reader = role
			for i := range b.N {
				if _, err := s.GetCall(ctx, "prj_a", calls[i%len(calls)].SpanID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
