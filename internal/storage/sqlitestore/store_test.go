package sqlitestore_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/storage"
	"github.com/llm-observatory/observatory/internal/storage/sqlitestore"
	"github.com/llm-observatory/observatory/internal/storage/storagetest"
)

func open(t testing.TB, path string) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), sqlitestore.Options{Path: path})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return open(t, filepath.Join(t.TempDir(), "obs.db"))
	})
}

func TestOpenTwiceAndConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "obs.db")
	// Several stores opening (and migrating) the same new file at once, as
	// two processes would, then once more.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	stores := make([]*sqlitestore.Store, 4)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = sqlitestore.Open(context.Background(), sqlitestore.Options{Path: path})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err)
		require.NoError(t, stores[i].Close())
	}
	s := open(t, path)
	require.NoError(t, s.Ping(context.Background()))
}

func TestOpenErrors(t *testing.T) {
	for _, p := range []string{"", "a.db?mode=ro", "file:a.db", ":memory:"} {
		_, err := sqlitestore.Open(context.Background(), sqlitestore.Options{Path: p})
		require.Error(t, err, p)
	}
}

func BenchmarkWriteCalls(b *testing.B) {
	storagetest.BenchmarkWriteCalls(b, open(b, filepath.Join(b.TempDir(), "bench.db")))
}
