package queryapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

// fakeStore answers from memory; the real stores are covered by the
// storage conformance suite, this checks the HTTP layer.
type fakeStore struct {
	storage.Store
	keys  map[string]storage.APIKey
	spans []llmcall.Call
	gotQ  storage.CallQuery
}

func (f *fakeStore) LookupAPIKey(_ context.Context, h []byte) (storage.APIKey, error) {
	if k, ok := f.keys[string(h)]; ok {
		return k, nil
	}
	return storage.APIKey{}, storage.ErrNotFound
}

func (f *fakeStore) ListCalls(_ context.Context, q storage.CallQuery) (storage.CallPage, error) {
	f.gotQ = q
	var out []llmcall.Call
	for _, c := range f.spans {
		if c.ProjectID == q.ProjectID && c.IsLLM {
			out = append(out, c)
		}
	}
	return storage.CallPage{Calls: out}, nil
}

func (f *fakeStore) GetTrace(_ context.Context, project, trace string) ([]llmcall.Call, error) {
	var out []llmcall.Call
	for _, c := range f.spans {
		if c.ProjectID == project && c.TraceID == trace {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, storage.ErrNotFound
	}
	return out, nil
}

func (f *fakeStore) Ping(context.Context) error { return nil }

const (
	readKey   = "obs_readreadreadreadreadreadreadread12"
	ingestKey = "obs_ingestingestingestingestingest1234"
)

func newTestServer(t *testing.T) (*Server, *fakeStore) {
	t.Helper()
	h, err := apikey.NewHasher([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	st := &fakeStore{keys: map[string]storage.APIKey{
		string(h.Hash(readKey)):   {ID: "k1", ProjectID: "prj_a", Prefix: readKey[:12], Scopes: []string{apikey.ScopeRead}},
		string(h.Hash(ingestKey)): {ID: "k2", ProjectID: "prj_a", Prefix: ingestKey[:12], Scopes: []string{apikey.ScopeIngest}},
	}}
	v, err := apikey.NewVerifier(apikey.VerifierOptions{Lookup: st, Hasher: h})
	require.NoError(t, err)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	s, err := New(Options{Store: st, Verifier: v, Now: func() time.Time { return now }})
	require.NoError(t, err)
	return s, st
}

func do(s *Server, key, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func TestAuthAndErrors(t *testing.T) {
	s, st := newTestServer(t)
	for _, tc := range []struct {
		key, path string
		code      int
		msg       string
	}{
		{"", "/api/v1/calls", 401, "missing API key"},
		{"obs_unknownunknownunknown", "/api/v1/calls", 401, "no such key"},
		{ingestKey, "/api/v1/calls", 403, "needs the read scope"},
		{readKey, "/api/v1/calls", 200, ""},
		{readKey, "/api/v1/calls?limit=5000", 400, "limit"},
		{readKey, "/api/v1/calls?status=weird", 400, "status"},
		{readKey, "/api/v1/calls?from=2026-12-03T13:00:00Z", 400, "must be before"},
		{readKey, "/api/v1/calls?from=2020-01-01T00:00:00Z", 400, "longer than the maximum"},
		{readKey, "/api/v1/calls/xyz", 400, "16 hex"},
		{readKey, "/api/v1/traces/" + strings.Repeat("a", 32), 404, "not found"},
		{readKey, "/api/v1/stats/overview?step=1s&from=2026-12-01T00:00:00Z", 400, "2000 buckets"},
		{readKey, "/nope", 404, "no route"},
		{"", "/healthz", 200, ""},
		{"", "/readyz", 200, ""},
	} {
		rec := do(s, tc.key, tc.path)
		require.Equal(t, tc.code, rec.Code, "%s: %s", tc.path, rec.Body.String())
		require.Contains(t, rec.Body.String(), tc.msg)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	}
	rec := do(s, readKey, "/api/v1/calls?model=gpt-4o&endpoint=chat&limit=7")
	require.Equal(t, 200, rec.Code)
	require.Equal(t, "prj_a", st.gotQ.ProjectID, "the project comes from the key")
	require.Equal(t, 7, st.gotQ.Limit)
	require.Equal(t, "gpt-4o", st.gotQ.Model)
	require.Equal(t, 24*time.Hour, st.gotQ.To.Sub(st.gotQ.From))
	require.JSONEq(t, `{"calls":[],"from":"2026-12-02T12:00:00Z","to":"2026-12-03T12:00:00Z"}`, rec.Body.String())

	metrics := do(s, "", "/metrics").Body.String()
	require.Contains(t, metrics, `observatory_api_requests_total{code="403",route="GET /api/v1/calls"} 1`)
}

func TestTraceTree(t *testing.T) {
	s, st := newTestServer(t)
	t0 := time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	tid := strings.Repeat("ab", 16)
	mk := func(id, parent string, startMS int, llm bool, cost float64) llmcall.Call {
		return llmcall.Call{ProjectID: "prj_a", TraceID: tid, SpanID: id, ParentSpanID: parent, IsLLM: llm,
			StartTime: t0.Add(time.Duration(startMS) * time.Millisecond), EndTime: t0.Add(time.Duration(startMS+100) * time.Millisecond),
			CostTotalUSD: cost, TotalTokens: int64(cost * 1000), Status: llmcall.StatusOK}
	}
	st.spans = []llmcall.Call{
		mk("0000000000000003", "0000000000000002", 20, true, 0.002),
		mk("0000000000000001", "", 0, false, 0),
		mk("0000000000000004", "0000000000000001", 50, true, 0.004),
		mk("0000000000000002", "0000000000000001", 10, false, 0.002), // an agent span repeating its child's usage
		mk("0000000000000005", "00000000000000ff", 5, true, 0.001),   // parent never arrived
		{ProjectID: "prj_other", TraceID: tid, SpanID: "0000000000000009"},
	}
	rec := do(s, readKey, "/api/v1/traces/"+strings.ToUpper(tid))
	require.Equal(t, 200, rec.Code, rec.Body.String())
	var tr Trace
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &tr))
	var order []string
	var depths []int
	for _, sp := range tr.Spans {
		order = append(order, sp.SpanID[14:])
		depths = append(depths, sp.Depth)
	}
	require.Equal(t, []string{"01", "02", "03", "04", "05"}, order, "depth first, children by start; orphans as roots")
	require.Equal(t, []int{0, 1, 2, 1, 0}, depths)
	require.InDelta(t, 0.006, tr.Spans[0].SubtreeCostUSD, 1e-12)
	require.Equal(t, 2, tr.Spans[0].SubtreeLLMCalls)
	require.InDelta(t, 0.007, tr.CostUSD, 1e-12)
	require.Equal(t, 3, tr.LLMCalls)
	require.InDelta(t, 150, tr.DurationMS, 1e-9)
}

func TestTraceCycleDoesNotHang(t *testing.T) {
	tr := buildTrace("t", []llmcall.Call{
		{SpanID: "a", ParentSpanID: "b"},
		{SpanID: "b", ParentSpanID: "a"},
	})
	require.Len(t, tr.Spans, 2)
}
