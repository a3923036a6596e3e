package apikey

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/storage"
)

// memKeys is the slice of storage the verifier needs, in memory.
type memKeys struct {
	storage.Store
	mu      sync.Mutex
	keys    map[string]storage.APIKey
	lookups int
}

func (m *memKeys) CreateAPIKey(_ context.Context, k storage.APIKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[string(k.Hash)] = k
	return nil
}

func (m *memKeys) LookupAPIKey(_ context.Context, h []byte) (storage.APIKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups++
	k, ok := m.keys[string(h)]
	if !ok {
		return storage.APIKey{}, storage.ErrNotFound
	}
	return k, nil
}

func TestIssueVerifyRevoke(t *testing.T) {
	ctx := context.Background()
	h, err := NewHasher([]byte(strings.Repeat("x", 32)))
	require.NoError(t, err)
	st := &memKeys{keys: map[string]storage.APIKey{}}
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	plain, k, err := Issue(ctx, st, h, IssueRequest{OrgID: "o", ProjectID: "p", Scopes: []string{ScopeIngest}, Now: now})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(plain, "obs_"))
	require.Len(t, plain, 44)
	require.Equal(t, plain[:12], k.Prefix)
	require.NotContains(t, string(k.Hash), plain, "only the hash is stored")

	clock := now
	v, err := NewVerifier(VerifierOptions{Lookup: st, Hasher: h, CacheTTL: 10 * time.Second, Now: func() time.Time { return clock }})
	require.NoError(t, err)
	got, err := v.Verify(ctx, plain, ScopeIngest)
	require.NoError(t, err)
	require.Equal(t, "p", got.ProjectID)
	_, err = v.Verify(ctx, plain, ScopeIngest)
	require.NoError(t, err)
	require.Equal(t, 1, st.lookups, "cached")
	_, err = v.Verify(ctx, plain, ScopeRead)
	require.ErrorIs(t, err, ErrScope)
	require.Equal(t, "forbidden_scope", Reason(err))

	// Revoke: effective once the cache entry expires.
	revoked := now
	k.RevokedAt = &revoked
	require.NoError(t, st.CreateAPIKey(ctx, k))
	_, err = v.Verify(ctx, plain, ScopeIngest)
	require.NoError(t, err, "still cached")
	clock = clock.Add(11 * time.Second)
	_, err = v.Verify(ctx, plain, ScopeIngest)
	require.ErrorIs(t, err, ErrRevoked)

	_, err = v.Verify(ctx, "", ScopeIngest)
	require.ErrorIs(t, err, ErrMissing)
	_, err = v.Verify(ctx, "sk-openai-key", ScopeIngest)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = v.Verify(ctx, plain[:20]+"tampered", ScopeIngest)
	require.ErrorIs(t, err, ErrInvalid)
	require.NotContains(t, err.Error(), "tampered", "errors show only the prefix")
}

func TestParseScopes(t *testing.T) {
	s, err := ParseScopes(" read, ingest,read ")
	require.NoError(t, err)
	require.Equal(t, []string{"read", "ingest"}, s)
	_, err = ParseScopes("admin")
	require.ErrorContains(t, err, `unknown scope "admin"`)
	_, err = ParseScopes("")
	require.Error(t, err)
}

func TestFromHeaders(t *testing.T) {
	require.Equal(t, "k1", FromHeaders(map[string][]string{"Authorization": {"Bearer k1"}}))
	require.Equal(t, "k2", FromHeaders(map[string][]string{"authorization": {"bearer  k2 "}}))
	require.Equal(t, "k3", FromHeaders(map[string][]string{"X-Api-Key": {"k3"}}))
	require.Equal(t, "", FromHeaders(map[string][]string{"Authorization": {"Basic abc"}}))
	require.Equal(t, "", FromHeaders(map[string][]string{"x-api-key": {}}))
}

func FuzzFromHeaders(f *testing.F) {
	f.Add("Authorization", "Bearer obs_x")
	f.Add("x-api-key", "")
	f.Fuzz(func(t *testing.T, name, value string) {
		got := FromHeaders(map[string][]string{name: {value}})
		require.LessOrEqual(t, len(got), len(value))
	})
}

func TestLoadOrCreateSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret")
	a, err := LoadOrCreateSecret("", path)
	require.NoError(t, err)
	require.Len(t, a, 32)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b, err := LoadOrCreateSecret("", path)
	require.NoError(t, err)
	require.Equal(t, a, b, "persisted")
	_, err = LoadOrCreateSecret("short", path)
	require.ErrorContains(t, err, "too short")
	c, err := LoadOrCreateSecret(strings.Repeat("ab", 32), path)
	require.NoError(t, err)
	require.Len(t, c, 32, "hex decoded")
	_, err = NewHasher([]byte("short"))
	require.Error(t, err)
}

func TestFromHeadersPrecedence(t *testing.T) {
	h := map[string][]string{"x-api-key": {"from-x"}, "Authorization": {"Bearer from-bearer"}}
	for range 20 { // map order is random: the answer must not be
		require.Equal(t, "from-bearer", FromHeaders(h))
	}
	require.Equal(t, "from-x", FromHeaders(map[string][]string{"x-api-key": {"from-x"}, "Authorization": {"Basic zzz"}}))
}

func TestHashIsHMACSHA256(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	h, err := NewHasher(secret)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() { // pooled states under -race, each Reset to the keyed state
			defer wg.Done()
			for j := range 200 {
				key := fmt.Sprintf("obs_key_%d_%d", i, j)
				m := hmac.New(sha256.New, secret)
				m.Write([]byte(key))
				if got := h.Hash(key); !bytes.Equal(got, m.Sum(nil)) {
					t.Errorf("Hash(%q) = %x", key, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkHash: the pooled keyed HMAC against a fresh hmac.New per key
// (what Hash did before), in one run.
//
//	go test ./internal/apikey -run '^$' -bench Hash -benchmem
func BenchmarkHash(b *testing.B) {
	secret := []byte(strings.Repeat("s", 32))
	key := "obs_" + strings.Repeat("k", 40)
	h, err := NewHasher(secret)
	require.NoError(b, err)
	b.Run("pooled", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			h.Hash(key)
		}
	})
	b.Run("hmac_new_per_key", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(key))
			m.Sum(nil)
		}
	})
}
