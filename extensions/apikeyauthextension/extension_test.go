package apikeyauthextension

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

type fakeKeys map[string]storage.APIKey

func (f fakeKeys) LookupAPIKey(_ context.Context, hash []byte) (storage.APIKey, error) {
	k, ok := f[string(hash)]
	if !ok {
		return storage.APIKey{}, storage.ErrNotFound
	}
	return k, nil
}

const (
	ingestKey  = "obs_ingestingestingestingestingest1234"
	readKey    = "obs_readreadreadreadreadreadreadread12"
	revokedKey = "obs_revokedrevokedrevokedrevokedrev12"
)

func newTestExtension(t *testing.T) *authExtension {
	t.Helper()
	h, err := apikey.NewHasher([]byte(strings.Repeat("s", 32)))
	require.NoError(t, err)
	revoked := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	keys := fakeKeys{
		string(h.Hash(ingestKey)):  {ID: "key_1", OrgID: "org_a", ProjectID: "prj_a", Prefix: ingestKey[:12], Scopes: []string{apikey.ScopeIngest}},
		string(h.Hash(readKey)):    {ID: "key_2", OrgID: "org_a", ProjectID: "prj_a", Prefix: readKey[:12], Scopes: []string{apikey.ScopeRead}},
		string(h.Hash(revokedKey)): {ID: "key_3", OrgID: "org_a", ProjectID: "prj_a", Prefix: revokedKey[:12], Scopes: []string{apikey.ScopeIngest}, RevokedAt: &revoked},
	}
	v, err := apikey.NewVerifier(apikey.VerifierOptions{Lookup: keys, Hasher: h})
	require.NoError(t, err)
	f := NewFactoryWithVerifier(v)
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), f.CreateDefaultConfig())
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	return ext.(*authExtension)
}

func TestAuthenticate(t *testing.T) {
	e := newTestExtension(t)
	ctx := client.NewContext(context.Background(), client.Info{Metadata: client.NewMetadata(map[string][]string{"k": {"v"}})})

	got, err := e.Authenticate(ctx, map[string][]string{"Authorization": {"Bearer " + ingestKey}})
	require.NoError(t, err)
	info := client.FromContext(got)
	require.Equal(t, "prj_a", info.Auth.GetAttribute(llmcall.AttrProjectID))
	require.Equal(t, "org_a", info.Auth.GetAttribute(llmcall.AttrOrgID))
	require.Equal(t, []string{"v"}, info.Metadata.Get("k"), "existing client info is kept")

	_, err = e.Authenticate(ctx, map[string][]string{"x-api-key": {ingestKey}})
	require.NoError(t, err, "gRPC metadata keys are lower-case")

	for name, tc := range map[string]struct {
		headers map[string][]string
		want    error
	}{
		"missing":      {map[string][]string{}, apikey.ErrMissing},
		"unknown":      {map[string][]string{"X-Api-Key": {"obs_nosuchkeynosuchkeynosuchkey"}}, apikey.ErrInvalid},
		"not ours":     {map[string][]string{"Authorization": {"Bearer sk-abc"}}, apikey.ErrInvalid},
		"revoked":      {map[string][]string{"Authorization": {"Bearer " + revokedKey}}, apikey.ErrRevoked},
		"out of scope": {map[string][]string{"Authorization": {"Bearer " + readKey}}, apikey.ErrScope},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.Authenticate(ctx, tc.headers)
			require.ErrorIs(t, err, tc.want)
			require.NotContains(t, err.Error(), "revokedrevokedrevoked", "errors never echo a whole key")
			if tc.want == apikey.ErrScope {
				require.Equal(t, codes.PermissionDenied, status.Code(err), "a valid key without the scope is forbidden, not unknown")
			}
		})
	}
}

func TestOutcomes(t *testing.T) {
	require.Equal(t, "ok", httpOutcome(200, ""))
	require.Equal(t, "forbidden", grpcOutcome(status.Error(codes.PermissionDenied, "scope")))
	require.Equal(t, "unauthenticated", grpcOutcome(status.Error(codes.Unauthenticated, "key")))
	require.Equal(t, "bad_request", httpOutcome(400, "proto: cannot parse"))
	require.Equal(t, "too_large", httpOutcome(400, "http: request body too large"))
	require.Equal(t, "unsupported_media_type", httpOutcome(415, ""))
	require.Equal(t, "throttled", httpOutcome(429, ""))
	require.Equal(t, "server_error", httpOutcome(500, ""))
	require.Equal(t, "ok", grpcOutcome(nil))
	require.Equal(t, "too_large", grpcOutcome(status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5 vs. 4)")))
	require.Equal(t, "throttled", grpcOutcome(status.Error(codes.ResourceExhausted, "memory limit")))
	require.Equal(t, "bad_request", grpcOutcome(status.Error(codes.InvalidArgument, "x")))
}

func TestMiddlewares(t *testing.T) {
	e := newTestExtension(t)
	wrap, err := e.GetHTTPHandler(context.Background())
	require.NoError(t, err)
	h, err := wrap(context.Background(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unsupported", http.StatusUnsupportedMediaType)
	}))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/traces", nil))
	require.Equal(t, http.StatusUnsupportedMediaType, rec.Code, "the wrapper never changes the response")

	opts, err := e.GetGRPCServerOptions(context.Background())
	require.NoError(t, err)
	require.Len(t, opts, 1)
	grpcOutcomes{e}.HandleRPC(context.Background(), &stats.End{Error: status.Error(codes.InvalidArgument, "bad")})
}

func TestConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	f := NewFactory()
	for _, tc := range []struct {
		id      component.ID
		want    *Config
		wantErr string
	}{
		{id: component.NewID(typeStr), want: createDefaultConfig()},
		{id: component.NewIDWithName(typeStr, "full"), want: &Config{
			DatabaseURL: "postgres://observatory@db:5432/observatory", SecretFile: "/run/secrets/observatory",
			Scope: "ingest", CacheTTL: 30 * time.Second,
		}},
		{id: component.NewIDWithName(typeStr, "bad_scope"), wantErr: `"admin" is not one scope`},
		{id: component.NewIDWithName(typeStr, "two_scopes"), wantErr: `"ingest,read" is not one scope`},
		{id: component.NewIDWithName(typeStr, "unknown_key"), wantErr: "databse_url"},
	} {
		t.Run(tc.id.String(), func(t *testing.T) {
			cfg := f.CreateDefaultConfig()
			sub, err := cm.Sub(tc.id.String())
			require.NoError(t, err)
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, cfg)
		})
	}
}

func TestFactoryNeedsDatabaseURL(t *testing.T) {
	f := NewFactory()
	_, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), f.CreateDefaultConfig())
	require.ErrorContains(t, err, "database_url is required")
}

type brokenKeys struct{}

func (brokenKeys) LookupAPIKey(context.Context, []byte) (storage.APIKey, error) {
	return storage.APIKey{}, errors.New("dial tcp db.internal:5432: connection refused (user=observatory)")
}

func TestStorageOutageIsRetryableAndNotLeaked(t *testing.T) {
	h, err := apikey.NewHasher([]byte(strings.Repeat("s", 32)))
	require.NoError(t, err)
	v, err := apikey.NewVerifier(apikey.VerifierOptions{Lookup: brokenKeys{}, Hasher: h})
	require.NoError(t, err)
	f := NewFactoryWithVerifier(v)
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), f.CreateDefaultConfig())
	require.NoError(t, err)
	_, err = ext.(*authExtension).Authenticate(context.Background(), map[string][]string{"x-api-key": {ingestKey}})
	require.Equal(t, codes.Unavailable, status.Code(err))
	require.NotContains(t, err.Error(), "db.internal")
}
