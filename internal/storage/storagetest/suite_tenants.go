package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

func testConcurrentWriters(t *testing.T, s storage.Store) {
	ctx := context.Background()
	const (
		writers   = 6
		total     = 300
		batchSize = 50
		batches   = 6
	)
	pool := make([]llmcall.Call, total)
	for i := range pool {
		// Spread over two days (two partitions where the store partitions).
		pool[i] = llm("p1", i/10, i, base().Add(time.Duration(i)*6*time.Minute))
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				// Overlapping batches, in a different order per writer.
				start := (w*37 + b*batchSize) % total
				batch := make([]llmcall.Call, 0, batchSize)
				for i := range batchSize {
					idx := (start + i*(1+w%3)) % total
					batch = append(batch, pool[idx])
				}
				if w%2 == 1 {
					for i, j := 0, len(batch)-1; i < j; i, j = i+1, j-1 {
						batch[i], batch[j] = batch[j], batch[i]
					}
				}
				if err := s.WriteCalls(ctx, batch); err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
				}
			}
		}()
	}
	// Readers run meanwhile.
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if _, err := s.ListCalls(ctx, storage.CallQuery{ProjectID: "p1", From: base(), To: base().Add(48 * time.Hour), Limit: 100}); err != nil {
					errs <- fmt.Errorf("reader: %w", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// Every pool entry written by some writer is stored exactly once; write
	// the whole pool last so the expected count is exact.
	write(t, s, pool...)
	ov, err := s.Overview(ctx, storage.OverviewQuery{ProjectID: "p1", From: base(), To: base().Add(48 * time.Hour), Step: time.Hour})
	require.NoError(t, err)
	require.EqualValues(t, total, ov.Total.Calls)
	require.Len(t, all(t, s, storage.CallQuery{ProjectID: "p1", From: base(), To: base().Add(48 * time.Hour), Limit: 77}), total)
}

func testContext(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, s.WriteCalls(ctx, []llmcall.Call{llm("p1", 1, 1, base())}))
	_, err := s.ListCalls(ctx, dayRange("p1"))
	require.Error(t, err)
	_, err = s.Overview(ctx, storage.OverviewQuery{ProjectID: "p1", From: base(), To: base().Add(time.Hour), Step: time.Minute})
	require.Error(t, err)
	require.NoError(t, s.Ping(context.Background()))
}

func testTenants(t *testing.T, s storage.Store) {
	ctx := context.Background()
	org := storage.Org{ID: "org-1", Name: "Acme", CreatedAt: base().Add(123 * time.Nanosecond)}
	require.NoError(t, s.CreateOrg(ctx, org))
	require.NoError(t, s.CreateOrg(ctx, storage.Org{ID: "org-1", Name: "renamed"}), "creating again is not an error")
	require.NoError(t, s.CreateOrg(ctx, storage.Org{ID: "org-2", Name: "Other", CreatedAt: base()}))
	require.ErrorIs(t, s.CreateOrg(ctx, storage.Org{Name: "no id"}), storage.ErrInvalidRecord)

	p1 := storage.Project{ID: "p1", OrgID: "org-1", Name: "Support bot", CreatedAt: base().Add(time.Second)}
	p2 := storage.Project{ID: "p2", OrgID: "org-2", Name: "Search", CreatedAt: base().Add(2 * time.Second)}
	require.NoError(t, s.CreateProject(ctx, p1))
	require.NoError(t, s.CreateProject(ctx, p2))
	require.NoError(t, s.CreateProject(ctx, storage.Project{ID: "p1", OrgID: "org-1", Name: "again"}), "creating again is not an error")
	require.ErrorIs(t, s.CreateProject(ctx, storage.Project{ID: "p1", OrgID: "org-2"}), storage.ErrInvalidRecord, "same id in another org")
	require.ErrorIs(t, s.CreateProject(ctx, storage.Project{ID: "p3", OrgID: "org-404"}), storage.ErrNotFound)
	require.ErrorIs(t, s.CreateProject(ctx, storage.Project{ID: "p4"}), storage.ErrInvalidRecord)

	got, err := s.GetProject(ctx, "p1")
	require.NoError(t, err)
	require.Equal(t, p1, got)
	_, err = s.GetProject(ctx, "p3")
	require.ErrorIs(t, err, storage.ErrNotFound)
	list, err := s.ListProjects(ctx)
	require.NoError(t, err)
	require.Equal(t, []storage.Project{p1, p2}, list)

	// A zero CreatedAt becomes the current time.
	before := time.Now().Add(-time.Second)
	require.NoError(t, s.CreateProject(ctx, storage.Project{ID: "p5", OrgID: "org-2"}))
	got, err = s.GetProject(ctx, "p5")
	require.NoError(t, err)
	require.True(t, got.CreatedAt.After(before), "created at %s", got.CreatedAt)
	require.Equal(t, time.UTC, got.CreatedAt.Location())
}

func testAPIKeys(t *testing.T, s storage.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateOrg(ctx, storage.Org{ID: "org-1", CreatedAt: base()}))
	require.NoError(t, s.CreateOrg(ctx, storage.Org{ID: "org-2", CreatedAt: base()}))
	require.NoError(t, s.CreateProject(ctx, storage.Project{ID: "p1", OrgID: "org-1", CreatedAt: base()}))
	require.NoError(t, s.CreateProject(ctx, storage.Project{ID: "p2", OrgID: "org-2", CreatedAt: base()}))

	key := func(id, project, org string, n int, scopes ...string) storage.APIKey {
		return storage.APIKey{
			ID: id, OrgID: org, ProjectID: project, Name: "key " + id, Prefix: "obs_" + id,
			Hash: []byte{0xde, 0xad, byte(n), 0x00, 0xff}, Scopes: scopes,
			CreatedAt: base().Add(time.Duration(n) * time.Minute),
		}
	}
	k1 := key("k1", "p1", "org-1", 1, "ingest")
	k2 := key("k2", "p1", "org-1", 2, "ingest", "read")
	k3 := key("k3", "p1", "org-1", 3) // no scopes
	k4 := key("k4", "p2", "org-2", 4, "gateway")
	for _, k := range []storage.APIKey{k2, k1, k3, k4} {
		require.NoError(t, s.CreateAPIKey(ctx, k))
	}
	require.ErrorIs(t, s.CreateAPIKey(ctx, k1), storage.ErrInvalidRecord, "same id again")
	dupHash := key("k5", "p1", "org-1", 1)
	require.ErrorIs(t, s.CreateAPIKey(ctx, dupHash), storage.ErrInvalidRecord, "same hash again")
	require.ErrorIs(t, s.CreateAPIKey(ctx, key("k6", "p404", "org-1", 6)), storage.ErrNotFound)
	require.ErrorIs(t, s.CreateAPIKey(ctx, key("k7", "p2", "org-1", 7)), storage.ErrNotFound, "project of another org")
	noHash := key("k8", "p1", "org-1", 8)
	noHash.Hash = nil
	require.ErrorIs(t, s.CreateAPIKey(ctx, noHash), storage.ErrInvalidRecord)

	got, err := s.LookupAPIKey(ctx, k2.Hash)
	require.NoError(t, err)
	require.Equal(t, k2, got)
	_, err = s.LookupAPIKey(ctx, []byte("unknown"))
	require.ErrorIs(t, err, storage.ErrNotFound)
	_, err = s.LookupAPIKey(ctx, nil)
	require.ErrorIs(t, err, storage.ErrNotFound)

	list, err := s.ListAPIKeys(ctx, "p1")
	require.NoError(t, err)
	require.Equal(t, []storage.APIKey{k3, k2, k1}, list, "newest first; empty scopes are nil")
	list, err = s.ListAPIKeys(ctx, "p404")
	require.NoError(t, err)
	require.Empty(t, list)

	// Revocation keeps the first time; a revoked key is still found.
	at := base().Add(time.Hour + 1500*time.Nanosecond)
	require.NoError(t, s.RevokeAPIKey(ctx, "k1", at))
	require.NoError(t, s.RevokeAPIKey(ctx, "k1", at.Add(time.Hour)))
	got, err = s.LookupAPIKey(ctx, k1.Hash)
	require.NoError(t, err)
	require.NotNil(t, got.RevokedAt)
	require.Equal(t, at.Truncate(time.Microsecond), *got.RevokedAt)
	require.ErrorIs(t, s.RevokeAPIKey(ctx, "k404", at), storage.ErrNotFound)
	got, err = s.LookupAPIKey(ctx, k2.Hash)
	require.NoError(t, err)
	require.Nil(t, got.RevokedAt)
}
