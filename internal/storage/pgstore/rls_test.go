package pgstore_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/storage"
	"github.com/llm-observatory/observatory/internal/storage/pgstore"
	"github.com/llm-observatory/observatory/internal/storage/storagetest"
)

// TestRowLevelSecurity shows that the database itself keeps the reader
// role inside one project: a query with no project filter at all, run the
// way the store runs query-API reads, returns only that project's rows.
func TestRowLevelSecurity(t *testing.T) {
	ctx := context.Background()
	schema, connURL := storagetest.NewPostgresSchema(t)
	// Native partitioning: on TimescaleDB, spans (a compressed hypertable) has no row security.
	s, err := pgstore.Open(ctx, pgstore.Options{URL: storagetest.PostgresURL(t), Schema: schema, MaxConns: 2, DisableTimescaleDB: true})
	require.NoError(t, err)
	defer s.Close()
	require.True(t, s.RowLevelSecurity(), "the test user (a superuser) can become the reader role")
	reader := s.ReaderRole()
	require.Contains(t, reader, "observatory_reader_")

	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	require.NoError(t, s.WriteCalls(ctx, storagetest.BenchCalls("prj_a", 0, 3, start)))
	require.NoError(t, s.WriteCalls(ctx, storagetest.BenchCalls("prj_b", 1, 5, start)))

	conn, err := pgx.Connect(ctx, connURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	asReader := func(project string, fn func(tx pgx.Tx) error) error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('role', $1, true), set_config('observatory.project_id', $2, true)`, reader, project); err != nil {
				return err
			}
			return fn(tx)
		})
	}
	count := func(project string) (n int, projects int) {
		require.NoError(t, asReader(project, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT count(*), count(DISTINCT project_id) FROM spans`).Scan(&n, &projects)
		}))
		return n, projects
	}
	n, p := count("prj_a")
	require.Equal(t, 3, n, "prj_a's rows only, with no WHERE clause")
	require.Equal(t, 1, p)
	n, _ = count("prj_b")
	require.Equal(t, 5, n)
	n, _ = count("")
	require.Zero(t, n, "no project set: nothing")

	var pgErr *pgconn.PgError
	err = asReader("prj_a", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM spans`)
		return err
	})
	require.True(t, errors.As(err, &pgErr) && pgErr.Code == "42501", "the reader cannot write: %v", err)
	err = asReader("prj_a", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT hash FROM api_keys`)
		return err
	})
	require.True(t, errors.As(err, &pgErr) && pgErr.Code == "42501", "the reader cannot read key hashes: %v", err)

	// The store's own reads go through the same role.
	page, err := s.ListCalls(ctx, storage.CallQuery{ProjectID: "prj_b", From: start.Add(-time.Minute), To: start.Add(time.Minute), Limit: 100})
	require.NoError(t, err)
	require.Len(t, page.Calls, 5)

	// Writers and the owner are not limited.
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM spans`).Scan(&n))
	require.Equal(t, 8, n)

	// A role granted the reader (say, a dashboard's) is bound like it.
	member := "rls_member_" + schema
	_, err = conn.Exec(ctx, `CREATE ROLE `+pgx.Identifier{member}.Sanitize()+` NOLOGIN IN ROLE `+pgx.Identifier{reader}.Sanitize())
	require.NoError(t, err)
	defer func() { _, _ = conn.Exec(context.Background(), `DROP ROLE `+pgx.Identifier{member}.Sanitize()) }()
	var asMember int
	require.NoError(t, pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('role', $1, true)`, member); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM spans`).Scan(&asMember)
	}))
	require.Zero(t, asMember, "a member of the reader role without a project sees nothing")

	// Another deployment (schema) has its own reader, which cannot even
	// reach this one's tables.
	other, _ := storagetest.NewPostgresSchema(t)
	s2, err := pgstore.Open(ctx, pgstore.Options{URL: storagetest.PostgresURL(t), Schema: other, MaxConns: 1, DisableTimescaleDB: true})
	require.NoError(t, err)
	defer s2.Close()
	require.NotEqual(t, reader, s2.ReaderRole())
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('role', $1, true), set_config('observatory.project_id', 'prj_a', true)`, s2.ReaderRole()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "spans"}.Sanitize())
		return err
	})
	require.True(t, errors.As(err, &pgErr) && pgErr.Code == "42501", "another deployment's reader cannot read here: %v", err)
}

// TestNonSuperuserOwner opens a store as an ordinary login role that owns
// its schema, with and without CREATEROLE: it migrates and serves reads
// either way, and reads as the reader role only when it could create it.
func TestNonSuperuserOwner(t *testing.T) {
	base := storagetest.PostgresURL(t)
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		t.Skip("TEST_DATABASE_URL is not a URL; this test needs one to switch users")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	defer admin.Close(ctx)
	for _, createRole := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "createrole"}[createRole], func(t *testing.T) {
			schema, _ := storagetest.NewPostgresSchema(t)
			owner := "owner_" + schema
			opt := ""
			if createRole {
				opt = " CREATEROLE"
			}
			_, err := admin.Exec(ctx, `CREATE ROLE `+pgx.Identifier{owner}.Sanitize()+` LOGIN`+opt)
			require.NoError(t, err)
			_, err = admin.Exec(ctx, `ALTER SCHEMA `+pgx.Identifier{schema}.Sanitize()+` OWNER TO `+pgx.Identifier{owner}.Sanitize())
			require.NoError(t, err)
			t.Cleanup(func() { // runs before the schema's own cleanup (LIFO): drop what the owner owns first
				storagetest.DropPostgresSchema(t, base, schema)
				_, err := admin.Exec(context.Background(), `DROP ROLE `+pgx.Identifier{owner}.Sanitize())
				require.NoError(t, err)
			})
			ou := *u
			ou.User = url.User(owner)
			s, err := pgstore.Open(ctx, pgstore.Options{URL: ou.String(), Schema: schema, MaxConns: 2, DisableTimescaleDB: true})
			require.NoError(t, err)
			defer s.Close()
			require.Equal(t, createRole, s.RowLevelSecurity())

			start := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
			require.NoError(t, s.WriteCalls(ctx, storagetest.BenchCalls("prj_a", 0, 2, start)))
			require.NoError(t, s.WriteCalls(ctx, storagetest.BenchCalls("prj_b", 1, 3, start)))
			page, err := s.ListCalls(ctx, storage.CallQuery{ProjectID: "prj_b", From: start.Add(-time.Minute), To: start.Add(time.Minute), Limit: 10})
			require.NoError(t, err)
			require.Len(t, page.Calls, 3)
		})
	}
}
