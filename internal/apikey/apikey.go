// Package apikey issues and verifies project API keys. A key is shown once;
// only its HMAC-SHA256 under the server secret is stored, next to a visible
// prefix so people can tell keys apart. Keys carry scopes so the key baked
// into an instrumented service can send data but not read prompts back.
package apikey

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/llm-observatory/observatory/internal/storage"
)

// Scopes a key can hold.
const (
	ScopeIngest  = "ingest"  // OTLP and the ingest API
	ScopeGateway = "gateway" // LLM calls through the gateway
	ScopeRead    = "read"    // the query API
)

// AllScopes lists every scope, in display order.
var AllScopes = []string{ScopeIngest, ScopeGateway, ScopeRead}

// keyPrefix starts every key so secret scanners and people recognise it.
const keyPrefix = "obs_"

// visiblePrefixLen is how much of a key is stored and shown in listings.
const visiblePrefixLen = len(keyPrefix) + 8

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Verification errors. ErrMissing, ErrInvalid and ErrRevoked mean "who are
// you?" (401); ErrScope means "you may not" (403).
var (
	ErrMissing = errors.New("missing API key")
	ErrInvalid = errors.New("invalid API key")
	ErrRevoked = errors.New("API key revoked")
	ErrScope   = errors.New("API key lacks the required scope")
)

// Reason returns a bounded label for metrics for a verification error.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrMissing):
		return "missing_key"
	case errors.Is(err, ErrRevoked):
		return "revoked_key"
	case errors.Is(err, ErrScope):
		return "forbidden_scope"
	case errors.Is(err, ErrInvalid):
		return "invalid_key"
	default:
		return "auth_error"
	}
}

// ParseScopes parses a comma-separated scope list; unknown scopes are an error.
func ParseScopes(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(AllScopes, p) {
			return nil, fmt.Errorf("unknown scope %q (valid: %s)", p, strings.Join(AllScopes, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scope given (valid: %s)", strings.Join(AllScopes, ", "))
	}
	return out, nil
}

// Hasher computes the stored form of a key. Every gateway request and
// OTLP export hashes its key, so keyed HMAC states are pooled: Reset
// returns one to its keyed state without re-deriving the pads.
type Hasher struct{ macs sync.Pool }

// NewHasher returns a Hasher; the secret must be at least 32 bytes.
func NewHasher(secret []byte) (*Hasher, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("server secret is %d bytes; it must be at least 32", len(secret))
	}
	secret = slices.Clone(secret)
	h := &Hasher{}
	h.macs.New = func() any { return hmac.New(sha256.New, secret) }
	return h, nil
}

// Hash returns HMAC-SHA256(secret, key).
func (h *Hasher) Hash(key string) []byte {
	m := h.macs.Get().(hash.Hash)
	m.Reset()
	_, _ = io.WriteString(m, key)
	sum := m.Sum(make([]byte, 0, sha256.Size))
	h.macs.Put(m)
	return sum
}

func randomString(n int) (string, error) {
	var b strings.Builder
	max := big.NewInt(int64(len(alphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("read random: %w", err)
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String(), nil
}

// IssueRequest describes a key to create.
type IssueRequest struct {
	OrgID, ProjectID, Name string
	Scopes                 []string
	Now                    time.Time
}

// Issue creates a key, stores its hash and returns the plaintext key, which
// is never retrievable again.
func Issue(ctx context.Context, st storage.Store, h *Hasher, req IssueRequest) (string, storage.APIKey, error) {
	if req.ProjectID == "" || req.OrgID == "" {
		return "", storage.APIKey{}, errors.New("issue key: org and project are required")
	}
	if len(req.Scopes) == 0 {
		return "", storage.APIKey{}, errors.New("issue key: at least one scope is required")
	}
	secret, err := randomString(40)
	if err != nil {
		return "", storage.APIKey{}, err
	}
	id, err := randomString(16)
	if err != nil {
		return "", storage.APIKey{}, err
	}
	plain := keyPrefix + secret
	k := storage.APIKey{
		ID:        "key_" + id,
		OrgID:     req.OrgID,
		ProjectID: req.ProjectID,
		Name:      req.Name,
		Prefix:    plain[:visiblePrefixLen],
		Hash:      h.Hash(plain),
		Scopes:    slices.Clone(req.Scopes),
		CreatedAt: req.Now.UTC().Truncate(time.Microsecond),
	}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return "", storage.APIKey{}, fmt.Errorf("store key: %w", err)
	}
	return plain, k, nil
}

// FromHeaders extracts a key from `Authorization: Bearer …`, else from
// `x-api-key: …`, in that order whatever the map order. Header names are
// matched case-insensitively so both HTTP headers and gRPC metadata work.
func FromHeaders(headers map[string][]string) string {
	var bearer, xAPIKey string
	for name, vs := range headers {
		if len(vs) == 0 {
			continue
		}
		switch strings.ToLower(name) {
		case "authorization":
			v := strings.TrimSpace(vs[0])
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				bearer = strings.TrimSpace(v[7:])
			}
		case "x-api-key":
			xAPIKey = strings.TrimSpace(vs[0])
		}
	}
	if bearer != "" {
		return bearer
	}
	return xAPIKey
}

// Lookup is the part of storage a Verifier needs.
type Lookup interface {
	LookupAPIKey(ctx context.Context, hash []byte) (storage.APIKey, error)
}

// VerifierOptions configures a Verifier.
type VerifierOptions struct {
	Lookup Lookup
	Hasher *Hasher
	// CacheTTL bounds how long a verified key is trusted without asking
	// storage again, so a revocation takes effect within CacheTTL.
	// Default 10s; negative disables caching.
	CacheTTL time.Duration
	Now      func() time.Time
}

// Verifier checks keys against storage with a short positive cache, so the
// ingest hot path does not hit the database per request.
type Verifier struct {
	o     VerifierOptions
	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	key     storage.APIKey
	expires time.Time
}

// NewVerifier validates the options and returns a Verifier.
func NewVerifier(o VerifierOptions) (*Verifier, error) {
	if o.Lookup == nil || o.Hasher == nil {
		return nil, errors.New("apikey verifier: Lookup and Hasher are required")
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Verifier{o: o, cache: map[string]cached{}}, nil
}

// Verify returns the stored key for plaintext if it exists, is not revoked
// and holds scope. Errors wrap ErrMissing, ErrInvalid, ErrRevoked or
// ErrScope with a message fit for the caller; storage failures are returned
// wrapped as they are.
func (v *Verifier) Verify(ctx context.Context, plain, scope string) (storage.APIKey, error) {
	if plain == "" {
		return storage.APIKey{}, fmt.Errorf("%w: send it as `Authorization: Bearer <key>` or `x-api-key: <key>`", ErrMissing)
	}
	if !strings.HasPrefix(plain, keyPrefix) || len(plain) < visiblePrefixLen {
		return storage.APIKey{}, fmt.Errorf("%w: keys start with %q", ErrInvalid, keyPrefix)
	}
	hash := string(v.o.Hasher.Hash(plain))
	now := v.o.Now()
	v.mu.Lock()
	c, ok := v.cache[hash]
	v.mu.Unlock()
	k := c.key
	if !ok || now.After(c.expires) {
		var err error
		k, err = v.o.Lookup.LookupAPIKey(ctx, []byte(hash))
		if errors.Is(err, storage.ErrNotFound) {
			return storage.APIKey{}, fmt.Errorf("%w: no such key (prefix %s)", ErrInvalid, plain[:visiblePrefixLen])
		}
		if err != nil {
			return storage.APIKey{}, fmt.Errorf("look up API key: %w", err)
		}
		if v.o.CacheTTL > 0 {
			v.mu.Lock()
			if len(v.cache) > 10000 { // bound memory under key spraying
				clear(v.cache)
			}
			v.cache[hash] = cached{key: k, expires: now.Add(v.o.CacheTTL)}
			v.mu.Unlock()
		}
	}
	if k.RevokedAt != nil {
		return storage.APIKey{}, fmt.Errorf("%w: key %s was revoked at %s", ErrRevoked, k.Prefix, k.RevokedAt.Format(time.RFC3339))
	}
	if scope != "" && !slices.Contains(k.Scopes, scope) {
		return storage.APIKey{}, fmt.Errorf("%w: key %s has scopes [%s]; this needs the %s scope", ErrScope, k.Prefix, strings.Join(k.Scopes, ","), scope)
	}
	return k, nil
}
