package storeopen_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/storage/pgstore"
	"github.com/llm-observatory/observatory/internal/storage/sqlitestore"
	"github.com/llm-observatory/observatory/internal/storage/storagetest"
	"github.com/llm-observatory/observatory/internal/storage/storeopen"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, kind, target string }{
		{"postgres://u@h:5432/db?sslmode=disable", storeopen.Postgres, "postgres://u@h:5432/db?sslmode=disable"},
		{"postgresql://u@h/db", storeopen.Postgres, "postgresql://u@h/db"},
		{"sqlite:///var/lib/obs.db", storeopen.SQLite, "/var/lib/obs.db"},
		{"sqlite://data/obs.db", storeopen.SQLite, "data/obs.db"},
		{"sqlite:data/obs.db", storeopen.SQLite, "data/obs.db"},
		{"sqlite:/abs/obs.db", storeopen.SQLite, "/abs/obs.db"},
		{"./data/obs.db", storeopen.SQLite, "./data/obs.db"},
		{"/tmp/obs.db", storeopen.SQLite, "/tmp/obs.db"},
		{"obs.db", storeopen.SQLite, "obs.db"},
	} {
		kind, target, err := storeopen.Parse(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.kind, kind, tc.in)
		require.Equal(t, tc.target, target, tc.in)
	}
	for _, bad := range []string{"", "  ", "mysql://u@h/db", "sqlite://", "sqlite:"} {
		_, _, err := storeopen.Parse(bad)
		require.Error(t, err, bad)
	}
	_, _, err := storeopen.Parse("mysql://u@h/db")
	require.ErrorContains(t, err, `"mysql"`)
	require.ErrorContains(t, err, "postgres://")
	require.ErrorContains(t, err, "sqlite:")
}

func TestOpenSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, u := range []string{"sqlite://" + filepath.Join(dir, "a", "obs.db"), "sqlite:" + filepath.Join(dir, "b.db"), filepath.Join(dir, "c.db")} {
		s, err := storeopen.Open(ctx, u, nil)
		require.NoError(t, err, u)
		require.IsType(t, &sqlitestore.Store{}, s)
		require.NoError(t, s.Ping(ctx))
		require.NoError(t, s.Close())
	}
	_, err := storeopen.Open(ctx, "redis://localhost", nil)
	require.Error(t, err)
}

func TestOpenPostgres(t *testing.T) {
	ctx := context.Background()
	_, url := storagetest.NewPostgresSchema(t)
	s, err := storeopen.Open(ctx, url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.IsType(t, &pgstore.Store{}, s)
	_, err = s.ListProjects(ctx) // migrated into the schema of the URL's search_path
	require.NoError(t, err)
}
