package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/storage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
	)
}

// Keys of the test harness (plaintext; the verifier stores HMACs).
const (
	keyA       = "obs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // prj_a, gateway+ingest
	keyB       = "obs_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" // prj_b, gateway
	keyRead    = "obs_rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr" // prj_a, read only
	keyLimited = "obs_llllllllllllllllllllllllllllllllllllllll" // prj_a, gateway, limited in tests
)

type memLookup struct{ keys map[string]storage.APIKey }

func (m memLookup) LookupAPIKey(_ context.Context, h []byte) (storage.APIKey, error) {
	if k, ok := m.keys[string(h)]; ok {
		return k, nil
	}
	return storage.APIKey{}, storage.ErrNotFound
}

func testVerifier(t testing.TB) *apikey.Verifier {
	h, err := apikey.NewHasher(bytes.Repeat([]byte("s"), 32))
	require.NoError(t, err)
	keys := map[string]storage.APIKey{}
	add := func(plain, id, prj string, scopes ...string) {
		keys[string(h.Hash(plain))] = storage.APIKey{ID: id, OrgID: "org_1", ProjectID: prj, Prefix: plain[:12], Scopes: scopes}
	}
	add(keyA, "key_a", "prj_a", apikey.ScopeGateway, apikey.ScopeIngest)
	add(keyB, "key_b", "prj_b", apikey.ScopeGateway)
	add(keyRead, "key_r", "prj_a", apikey.ScopeRead)
	add(keyLimited, "key_l", "prj_a", apikey.ScopeGateway)
	v, err := apikey.NewVerifier(apikey.VerifierOptions{Lookup: memLookup{keys}, Hasher: h})
	require.NoError(t, err)
	return v
}

// exporters records each project's spans in its own in-memory exporter.
type exporters struct {
	mu   sync.Mutex
	byID map[string]*tracetest.InMemoryExporter
}

func (e *exporters) For(_ context.Context, t Tenant) (sdktrace.SpanExporter, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.byID == nil {
		e.byID = map[string]*tracetest.InMemoryExporter{}
	}
	x, ok := e.byID[t.ProjectID]
	if !ok {
		x = tracetest.NewInMemoryExporter()
		e.byID[t.ProjectID] = x
	}
	return keepAlive{x}, nil
}

// keepAlive stops the gateway's shutdown from resetting the recorded spans.
type keepAlive struct{ *tracetest.InMemoryExporter }

func (keepAlive) Shutdown(context.Context) error { return nil }

func (e *exporters) spans(project string) tracetest.SpanStubs {
	e.mu.Lock()
	x := e.byID[project]
	e.mu.Unlock()
	if x == nil {
		return nil
	}
	return x.GetSpans()
}

type harness struct {
	t    testing.TB
	gw   *Server
	srv  *httptest.Server
	exp  *exporters
	reg  *prometheus.Registry
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t testing.TB, cfg *Config, mod ...func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, exp: &exporters{}, reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	o := Options{
		Config: cfg, Verifier: testVerifier(t), ExporterFor: h.exp.For, Registerer: h.reg,
		Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range mod {
		f(&o)
	}
	gw, err := New(o)
	require.NoError(t, err)
	h.gw = gw
	h.srv = httptest.NewServer(gw)
	t.Cleanup(func() {
		h.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, gw.Shutdown(ctx))
		gw.o.HTTPClient.CloseIdleConnections()
	})
	return h
}

// do sends a request and returns the response with its body read.
func (h *harness) do(method, path, key, body string, hdr ...string) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	require.NoError(h.t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := h.srv.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp, b
}

// flushSpans waits until the gateway exported every finished call.
func (h *harness) flushSpans() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(h.t, h.gw.Flush(ctx))
}

// waitSpans waits for n spans of a project.
func (h *harness) waitSpans(project string, n int) tracetest.SpanStubs {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.flushSpans()
		s := h.exp.spans(project)
		if len(s) >= n || time.Now().After(deadline) {
			require.Len(h.t, s, n, "spans of %s", project)
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func attrs(s tracetest.SpanStub) map[string]any {
	out := map[string]any{}
	for _, kv := range s.Attributes {
		out[string(kv.Key)] = kv.Value.AsInterface()
	}
	return out
}

type apiErr struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func decodeErr(t testing.TB, b []byte) apiErr {
	t.Helper()
	var e apiErr
	require.NoError(t, json.Unmarshal(b, &e), string(b))
	require.NotEmpty(t, e.Error.Message, string(b))
	return e
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// mustConfig parses YAML for a test.
func mustConfig(t testing.TB, y string) *Config {
	t.Helper()
	c, err := ParseConfig([]byte(y), func(string) string { return "" })
	require.NoError(t, err)
	return c
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return -1
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	if d.Gauge != nil {
		return d.Gauge.GetValue()
	}
	return -1
}
