package pgstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
	"github.com/llm-observatory/observatory/internal/storage/migrations"
	"github.com/llm-observatory/observatory/internal/storage/storagetest"
)

func TestDropChunksSQL(t *testing.T) {
	// The function is called in the extension's schema, the relation is
	// passed as a parameter cast to regclass and older_than is typed (the
	// parameter of drop_chunks is "any").
	require.Equal(t,
		`SELECT count(*) FROM "public"."drop_chunks"($1::text::regclass, older_than => $2::timestamptz)`,
		dropChunksSQL("public"))
	require.Equal(t,
		`SELECT count(*) FROM "ts ""x"""."drop_chunks"($1::text::regclass, older_than => $2::timestamptz)`,
		dropChunksSQL(`ts "x"`))
	require.Equal(t, `"test_0a1b"."spans"`, spansRelation("test_0a1b"))
	require.Equal(t, `"Tenant ""A"""."spans"`, spansRelation(`Tenant "A"`))
}

func openTimescaleTest(t *testing.T, opts Options) *Store {
	t.Helper()
	schema, _ := storagetest.NewPostgresSchema(t)
	opts.URL, opts.Schema, opts.MaxConns = storagetest.PostgresURL(t), schema, 2
	s, err := Open(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// timescaleUsable reports whether migration 0002 can convert spans on this
// server once the extension is installed: a preloaded timescaledb 2.13+.
func timescaleUsable(t *testing.T, s *Store) bool {
	t.Helper()
	var ok bool
	require.NoError(t, s.pool.QueryRow(context.Background(), `SELECT COALESCE(
		(SELECT string_to_array(substring(extversion FROM '^[0-9]+(?:\.[0-9]+)*'), '.')::int[] >= '{2,13}'
		   FROM pg_extension WHERE extname = 'timescaledb'), false)
		AND current_setting('timescaledb.disable_load', true) IS NOT DISTINCT FROM 'off'`).Scan(&ok))
	return ok
}

func spansRelkind(t *testing.T, s *Store) string {
	t.Helper()
	var kind string
	require.NoError(t, s.pool.QueryRow(context.Background(),
		`SELECT relkind::text FROM pg_class WHERE oid = 'spans'::regclass`).Scan(&kind))
	return kind
}

// TestMigration0002 runs on every server: without a usable timescaledb (as
// on plain PostgreSQL) or with DisableTimescaleDB, migration 0002 is
// recorded and leaves spans natively partitioned; with one, spans is a
// hypertable.
func TestMigration0002(t *testing.T) {
	for _, disable := range []bool{true, false} {
		t.Run(map[bool]string{true: "disabled", false: "default"}[disable], func(t *testing.T) {
			ctx := context.Background()
			s := openTimescaleTest(t, Options{DisableTimescaleDB: disable})

			var applied bool
			require.NoError(t, s.pool.QueryRow(ctx,
				`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = 2 AND name = '0002_timescaledb.sql')`).Scan(&applied))
			require.True(t, applied)

			want := !disable && timescaleUsable(t, s)
			require.Equal(t, want, s.TimescaleDB())
			if want {
				require.Equal(t, "r", spansRelkind(t, s))
				return
			}
			require.Equal(t, "p", spansRelkind(t, s), "spans stays natively partitioned")
			var aggs bool
			require.NoError(t, s.pool.QueryRow(ctx,
				`SELECT to_regclass('calls_1m') IS NOT NULL OR to_regclass('calls_1h') IS NOT NULL`).Scan(&aggs))
			require.False(t, aggs)

			// Partitions are created on demand and retention drops them.
			start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			require.NoError(t, s.WriteCalls(ctx, []llmcall.Call{{ProjectID: "p", TraceID: "t", SpanID: "s",
				StartTime: start, EndTime: start, IsLLM: true}}))
			parts, err := s.Partitions(ctx)
			require.NoError(t, err)
			require.Equal(t, []string{"spans_p20250301"}, parts)
			n, err := s.DropPartitionsBefore(ctx, start.Add(24*time.Hour))
			require.NoError(t, err)
			require.Equal(t, 1, n)

			// The name drop_chunks would get resolves to this spans.
			var same bool
			require.NoError(t, s.pool.QueryRow(ctx, `SELECT $1::text::regclass = 'spans'::regclass`,
				spansRelation(s.schema)).Scan(&same))
			require.True(t, same)
		})
	}
}

type rowsQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// describeSpans lists the columns (type, nullability, default), constraints
// and indexes of spans in schema, with the schema name left out.
func describeSpans(t *testing.T, q rowsQuerier, schema string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, query := range []string{
		`SELECT format('column %s %s not_null=%s default=%s', a.attname, format_type(a.atttypid, a.atttypmod),
				a.attnotnull, COALESCE(pg_get_expr(d.adbin, d.adrelid), '-'))
			FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			WHERE a.attrelid = format('%I.spans', $1::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped
			ORDER BY a.attnum`,
		`SELECT format('constraint %s %s', conname, pg_get_constraintdef(oid))
			FROM pg_constraint WHERE conrelid = format('%I.spans', $1::text)::regclass ORDER BY conname`,
		`SELECT format('index %s %s', c.relname,
				replace(replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON '), quote_ident($1::text) || '.', ''))
			FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE i.indrelid = format('%I.spans', $1::text)::regclass ORDER BY c.relname`,
	} {
		rows, err := q.Query(ctx, query, schema)
		require.NoError(t, err)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		out = append(out, lines...)
	}
	return out
}

// TestMigration0002SpansTable runs the block of 0002 that creates the plain
// spans (the table TimescaleDB converts) in an empty schema and checks it
// against 0001's partitioned spans: same columns, defaults, constraint and
// indexes, by name.
func TestMigration0002SpansTable(t *testing.T) {
	ctx := context.Background()
	native := openTimescaleTest(t, Options{DisableTimescaleDB: true})

	all, err := migrations.Postgres()
	require.NoError(t, err)
	var src string
	for _, m := range all {
		if m.Name == "0002_timescaledb.sql" {
			src = m.SQL
		}
	}
	begin, end := strings.Index(src, "-- BEGIN spans table"), strings.Index(src, "-- END spans table")
	require.True(t, begin >= 0 && end > begin, "0002 marks the spans table block")
	block := src[begin:end]
	require.Contains(t, block, "CREATE TABLE spans (")
	require.NotContains(t, block, ") PARTITION BY")

	plainSchema, plainURL := storagetest.NewPostgresSchema(t)
	conn, err := pgx.Connect(ctx, plainURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, block) // no arguments: simple protocol, every statement
	require.NoError(t, err)

	want := describeSpans(t, native.pool, native.schema)
	require.Contains(t, want, "constraint spans_key UNIQUE (start_time, project_id, trace_id, span_id)")
	require.Contains(t, want, "index spans_llm_idx CREATE INDEX spans_llm_idx ON spans USING btree (project_id, start_time, span_id, trace_id) WHERE is_llm")
	require.Equal(t, want, describeSpans(t, conn, plainSchema))

	var kind string
	require.NoError(t, conn.QueryRow(ctx, `SELECT relkind::text FROM pg_class WHERE oid = 'spans'::regclass`).Scan(&kind))
	require.Equal(t, "r", kind, "a plain table, as create_hypertable needs")
}

// TestTimescaleDB checks the hypertable mode where the server has a usable
// timescaledb (skipped on plain PostgreSQL): compression, continuous
// aggregates, and retention by drop_chunks with DropPartitionsBefore's
// contract (chunks ending at or before t go, the one holding t stays).
func TestTimescaleDB(t *testing.T) {
	ctx := context.Background()
	s := openTimescaleTest(t, Options{})
	if !s.TimescaleDB() {
		t.Skip("no usable timescaledb extension on this server: spans is natively partitioned (see TestPartitions)")
	}

	var compression bool
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT compression_enabled FROM timescaledb_information.hypertables
		WHERE hypertable_schema = $1 AND hypertable_name = 'spans'`, s.schema).Scan(&compression))
	require.True(t, compression)
	collect := func(query string) []string {
		rows, err := s.pool.Query(ctx, query, s.schema)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return out
	}
	require.Equal(t, []string{"calls_1h", "calls_1m"}, collect(`SELECT view_name::text
		FROM timescaledb_information.continuous_aggregates WHERE view_schema = $1 ORDER BY 1`))
	require.Equal(t, []string{"spans_key", "spans_llm_idx", "spans_project_span_idx", "spans_project_trace_idx"},
		collect(`SELECT indexname::text FROM pg_indexes WHERE schemaname = $1 AND tablename = 'spans' ORDER BY 1`))
	require.Equal(t, []string{"policy_compression"}, collect(`SELECT proc_name::text FROM timescaledb_information.jobs
		WHERE hypertable_schema = $1 AND hypertable_name = 'spans' ORDER BY 1`))
	require.Equal(t, []string{"calls_1h", "calls_1m"}, collect(`SELECT c.view_name::text
		FROM timescaledb_information.continuous_aggregates c
		JOIN timescaledb_information.jobs j ON j.hypertable_schema = c.materialization_hypertable_schema
			AND j.hypertable_name = c.materialization_hypertable_name
		WHERE c.view_schema = $1 AND j.proc_name = 'policy_refresh_continuous_aggregate' ORDER BY 1`))

	day0 := time.Date(2025, 1, 30, 0, 0, 0, 0, time.UTC)
	var calls []llmcall.Call
	for d := range 3 {
		for i := range 4 {
			start := day0.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*6*time.Hour)
			calls = append(calls, llmcall.Call{ProjectID: "p1", TraceID: "t1", SpanID: string(rune('a'+d)) + string(rune('a'+i)),
				StartTime: start, EndTime: start.Add(time.Second), IsLLM: true, Status: llmcall.StatusOK})
		}
	}
	calls[3].StartTime = day0.Add(24*time.Hour - time.Microsecond)
	require.NoError(t, s.WriteCalls(ctx, calls))
	require.NoError(t, s.WriteCalls(ctx, calls), "idempotent")
	parts, err := s.Partitions(ctx)
	require.NoError(t, err)
	require.Empty(t, parts, "no spans_p partitions: TimescaleDB's chunks instead")

	n, err := s.DropPartitionsBefore(ctx, day0.Add(24*time.Hour-time.Nanosecond))
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = s.DropPartitionsBefore(ctx, day0.Add(49*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	all := storage.CallQuery{ProjectID: "p1", From: day0.Add(-time.Hour), To: day0.Add(96 * time.Hour), Limit: 100}
	page, err := s.ListCalls(ctx, all)
	require.NoError(t, err)
	require.Len(t, page.Calls, 4)
	require.NoError(t, s.WriteCalls(ctx, calls[:1]), "a dropped day is written again")
	_, err = s.GetCall(ctx, "p1", "aa")
	require.NoError(t, err)

	_, err = s.pool.Exec(ctx, `CALL `+pgx.Identifier{s.ts.extSchema, "refresh_continuous_aggregate"}.Sanitize()+
		`($1::text::regclass, NULL, NULL)`, pgx.QueryExecModeSimpleProtocol, pgx.Identifier{s.schema, "calls_1h"}.Sanitize())
	require.NoError(t, err)
	var total int64
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT COALESCE(sum(calls), 0)::bigint FROM calls_1h WHERE project_id = 'p1'`).Scan(&total))
	require.EqualValues(t, 5, total)
}
