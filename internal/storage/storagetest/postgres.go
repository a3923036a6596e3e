package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresURL returns TEST_DATABASE_URL (e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it is
// unset the test is skipped, or fails when CI=true: CI must not silently
// skip the database tests.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("TEST_DATABASE_URL is not set (required when CI=true): point it at a PostgreSQL 15+ database, " +
				"e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
		}
		tb.Skip("TEST_DATABASE_URL is not set: skipping PostgreSQL tests")
	}
	return u
}

// NewPostgresSchema creates a fresh, randomly named schema in the test
// database and drops it (CASCADE) when the test ends. It returns the schema
// name (for pgstore.Options.Schema) and a connection URL whose search_path
// selects the schema (for storeopen.Open or any pgx client). Close stores
// and pools before the test ends: register their Close with t.Cleanup after
// calling this, so they close first.
func NewPostgresSchema(tb testing.TB) (schema, connURL string) {
	tb.Helper()
	base := PostgresURL(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatalf("random schema name: %v", err)
	}
	schema = "test_" + hex.EncodeToString(b[:])
	ident := pgx.Identifier{schema}.Sanitize()

	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer func() { _ = conn.Close(context.Background()) }()
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + ident); err != nil {
		tb.Fatalf("create test schema (is PostgreSQL up at TEST_DATABASE_URL?): %v", err)
	}
	tb.Cleanup(func() { DropPostgresSchema(tb, base, schema) })
	return schema, WithSearchPath(tb, base, schema)
}

// DropPostgresSchema drops a test schema and the cluster-wide reader role
// its store created (migration 0003), so test runs leave no roles behind.
func DropPostgresSchema(tb testing.TB, base, schema string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Errorf("drop test schema %s: %v", schema, err)
		return
	}
	defer func() { _ = conn.Close(context.Background()) }()
	ident := pgx.Identifier{schema}.Sanitize()
	var role string
	if err := conn.QueryRow(ctx, `SELECT reader_role FROM `+pgx.Identifier{schema, "row_security"}.Sanitize()).Scan(&role); err != nil {
		role = "" // no store opened in it, or no role created
	}
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+ident+" CASCADE"); err != nil {
		tb.Errorf("drop test schema %s: %v", schema, err)
	}
	if role != "" {
		if _, err := conn.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize()); err != nil {
			tb.Logf("drop reader role %s: %v", role, err)
		}
	}
}

// WithSearchPath returns the connection string connStr with its
// search_path set to schema (URL or keyword/value form).
func WithSearchPath(tb testing.TB, connStr, schema string) string {
	tb.Helper()
	if strings.HasPrefix(connStr, "postgres://") || strings.HasPrefix(connStr, "postgresql://") {
		u, err := url.Parse(connStr)
		if err != nil {
			tb.Fatalf("parse TEST_DATABASE_URL: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return connStr + " search_path=" + schema
}
