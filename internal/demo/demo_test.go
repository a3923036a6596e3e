package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// collector keeps what a fake OTLP endpoint received.
type collector struct {
	mu       sync.Mutex
	traces   []ptrace.Traces
	headers  []map[string]string // per request, lower-case keys
	requests int
}

func (c *collector) add(td ptrace.Traces, headers map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.traces = append(c.traces, td)
	c.headers = append(c.headers, headers)
	c.requests++
}

type recvSpan struct {
	service, env                    string
	traceID, spanID, parentID, name string
	kind                            ptrace.SpanKind
	start, end                      time.Time
	attrs                           map[string]any
	status                          ptrace.StatusCode
	events                          []recvEvent
}

type recvEvent struct {
	name  string
	at    time.Time
	attrs map[string]any
}

func (c *collector) spans() []recvSpan {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []recvSpan
	for _, td := range c.traces {
		for _, rs := range td.ResourceSpans().All() {
			res := rs.Resource().Attributes().AsRaw()
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					r := recvSpan{
						service: fmt.Sprint(res["service.name"]), env: fmt.Sprint(res["deployment.environment.name"]),
						traceID: s.TraceID().String(), spanID: s.SpanID().String(), name: s.Name(), kind: s.Kind(),
						start: s.StartTimestamp().AsTime(), end: s.EndTimestamp().AsTime(),
						attrs: s.Attributes().AsRaw(), status: s.Status().Code(),
					}
					if !s.ParentSpanID().IsEmpty() {
						r.parentID = s.ParentSpanID().String()
					}
					for _, e := range s.Events().All() {
						r.events = append(r.events, recvEvent{e.Name(), e.Timestamp().AsTime(), e.Attributes().AsRaw()})
					}
					out = append(out, r)
				}
			}
		}
	}
	return out
}

type grpcCollector struct {
	ptraceotlp.UnimplementedGRPCServer
	c    *collector
	fail error
}

func (s *grpcCollector) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	if s.fail != nil {
		return ptraceotlp.NewExportResponse(), s.fail
	}
	md, _ := metadata.FromIncomingContext(ctx)
	h := map[string]string{}
	for k, v := range md {
		h[strings.ToLower(k)] = strings.Join(v, ",")
	}
	td := ptrace.NewTraces()
	req.Traces().CopyTo(td)
	s.c.add(td, h)
	return ptraceotlp.NewExportResponse(), nil
}

// startGRPC starts an OTLP/gRPC endpoint; a non-nil fail is returned to every export.
func startGRPC(t *testing.T, fail error) (*collector, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	srv := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(srv, &grpcCollector{c: c, fail: fail})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return c, "http://" + lis.Addr().String()
}

// startHTTP starts an OTLP/HTTP endpoint; a non-zero fail is the status of every answer.
func startHTTP(t *testing.T, fail int) (*collector, string) {
	t.Helper()
	c := &collector{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) {
		if fail != 0 {
			http.Error(w, "invalid API key", fail)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := ptraceotlp.NewExportRequest()
		if r.Header.Get("Content-Type") == "application/json" {
			err = req.UnmarshalJSON(body)
		} else {
			err = req.UnmarshalProto(body)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h := map[string]string{}
		for k, v := range r.Header {
			h[strings.ToLower(k)] = strings.Join(v, ",")
		}
		c.add(req.Traces(), h)
		out, _ := ptraceotlp.NewExportResponse().MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return c, srv.URL
}

// clock is the fixed "now" of the tests.
func clock() time.Time { return time.Date(2026, 9, 14, 15, 4, 5, 0, time.UTC) }

func TestRunGRPC(t *testing.T) {
	t.Parallel()
	c, endpoint := startGRPC(t, nil)
	var prog bytes.Buffer
	res, err := Run(t.Context(), Options{
		Endpoint: endpoint,
		Headers:  map[string]string{"Authorization": "Bearer obs_test_grpc"},
		Now:      clock,
		Progress: &prog,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkTraffic(t, res, c, DefaultTraces, "Bearer obs_test_grpc")
	out := prog.String()
	if !strings.HasPrefix(out, "\rdemo: 1/60 traces, 0 spans sent") || !strings.HasSuffix(out, fmt.Sprintf("\rdemo: 60/60 traces, %d spans sent\n", res.Spans)) {
		t.Errorf("progress output %q", out[max(0, len(out)-200):])
	}
	t.Logf("default run: %+v in %d requests", res, c.requests)
}

func TestRunHTTP(t *testing.T) {
	t.Parallel()
	c, endpoint := startHTTP(t, 0)
	res, err := Run(t.Context(), Options{
		Endpoint: endpoint,
		Protocol: ProtocolHTTPProtobuf,
		Headers:  map[string]string{"authorization": "Bearer obs_test_http"},
		Now:      clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkTraffic(t, res, c, DefaultTraces, "Bearer obs_test_http")
}

func TestRunHTTPJSON(t *testing.T) {
	t.Parallel()
	c, endpoint := startHTTP(t, 0)
	res, err := Run(t.Context(), Options{Endpoint: endpoint + "/v1/traces", Protocol: ProtocolHTTPJSON, Traces: 12, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.spans()); res.Traces != 12 || res.Spans != got {
		t.Fatalf("result %+v, endpoint got %d spans", res, got)
	}
}

// checkTraffic checks what the endpoint received against the result and
// against the shape the demo promises.
func checkTraffic(t *testing.T, res Result, c *collector, traces int, auth string) {
	t.Helper()
	spans := c.spans()
	now := clock()
	for i, h := range c.headers {
		if h["authorization"] != auth {
			t.Fatalf("request %d: authorization %q, want %q", i, h["authorization"], auth)
		}
	}

	byID := map[string]recvSpan{}
	perTrace := map[string]int{}
	roots, llm, llmErrors := 0, 0, 0
	for _, s := range spans {
		byID[s.traceID+s.spanID] = s
		perTrace[s.traceID]++
		if s.parentID == "" {
			roots++
		}
		if op := s.attrs["gen_ai.operation.name"]; op == "chat" || op == "embeddings" {
			llm++
			if s.status == ptrace.StatusCodeError {
				llmErrors++
			}
		}
	}
	got := Result{Traces: len(perTrace), Spans: len(spans), LLMCalls: llm, Errors: llmErrors}
	if res != got || roots != traces || res.Traces != traces {
		t.Fatalf("Result %+v, endpoint received %+v with %d roots, want %d traces", res, got, roots, traces)
	}
	if rate := float64(llmErrors) / float64(llm); llmErrors == 0 || rate > 0.15 {
		t.Errorf("%d of %d model calls failed", llmErrors, llm)
	}

	services := map[string]bool{}
	models := map[string]bool{}
	providers := map[string]bool{}
	names := map[string]bool{}
	conversations := map[string]map[string]bool{}
	var streaming, cacheReads, toolSpans, dbSpans, exceptions, users int
	maxSpans := 0
	for _, n := range perTrace {
		maxSpans = max(maxSpans, n)
	}
	for _, s := range spans {
		services[s.service] = true
		names[s.name] = true
		if s.env != "demo" {
			t.Fatalf("span %s: deployment.environment.name %q", s.name, s.env)
		}
		if s.start.Before(now.Add(-window)) || s.end.After(now) || s.end.Before(s.start) {
			t.Errorf("span %s: %s .. %s is outside the 30 minutes before %s", s.name, s.start, s.end, now)
		}
		if s.attrs["observatory.endpoint"] == nil {
			t.Errorf("span %s: no observatory.endpoint", s.name)
		}
		if s.parentID == "" {
			if s.kind != ptrace.SpanKindServer || !strings.HasPrefix(s.name, "POST /") {
				t.Errorf("root span %q kind %v", s.name, s.kind)
			}
		} else {
			p, ok := byID[s.traceID+s.parentID]
			if !ok {
				t.Fatalf("span %s: parent %s not received", s.name, s.parentID)
			}
			if s.start.Before(p.start) || s.end.After(p.end) {
				t.Errorf("span %s (%s..%s) is not inside its parent %s (%s..%s)", s.name, s.start, s.end, p.name, p.start, p.end)
			}
		}
		if id, ok := s.attrs["gen_ai.conversation.id"].(string); ok && s.parentID == "" {
			if conversations[id] == nil {
				conversations[id] = map[string]bool{}
			}
			conversations[id][s.traceID] = true
		}
		if s.attrs["user.id"] != nil {
			users++
		}
		if s.attrs["db.system.name"] != nil {
			dbSpans++
		}
		switch op, _ := s.attrs["gen_ai.operation.name"].(string); op {
		case "chat", "embeddings":
			checkModelCall(t, s)
			models[s.attrs["gen_ai.request.model"].(string)] = true
			providers[s.attrs["gen_ai.provider.name"].(string)] = true
			if s.attrs["gen_ai.request.stream"] == true && s.attrs["gen_ai.response.time_to_first_chunk"] != nil {
				streaming++
			}
			if n, ok := s.attrs["gen_ai.usage.cache_read.input_tokens"].(int64); ok && n > 0 {
				cacheReads++
			}
			if s.status == ptrace.StatusCodeError && len(s.events) > 0 {
				exceptions++
			}
		case "execute_tool":
			toolSpans++
			if s.name != "execute_tool "+s.attrs["gen_ai.tool.name"].(string) || s.attrs["gen_ai.tool.call.id"] == nil {
				t.Errorf("tool span %s: %v", s.name, s.attrs)
			}
		case "invoke_agent":
			if s.name != "invoke_agent "+s.attrs["gen_ai.agent.name"].(string) || s.attrs["gen_ai.provider.name"] == nil {
				t.Errorf("agent span %s: %v", s.name, s.attrs)
			}
		}
	}

	for _, want := range []string{"support-bot", "search-api", "docs-agent"} {
		if !services[want] {
			t.Errorf("no traffic from service %s", want)
		}
	}
	for _, want := range []string{"gpt-4o", "gpt-4o-mini", "text-embedding-3-small", "claude-sonnet-4-5", "claude-3-5-haiku", "gemini-2.0-flash", "mistral-large-latest", unknownModel} {
		if !models[want] {
			t.Errorf("no call to model %s (got %v)", want, models)
		}
	}
	for _, want := range []string{"openai", "anthropic", "gcp.gemini", "mistral_ai"} {
		if !providers[want] {
			t.Errorf("no call to provider %s", want)
		}
	}
	for _, want := range []string{"POST /chat", "invoke_agent support-agent", "chat gpt-4o", "execute_tool get_order_status",
		"embeddings text-embedding-3-small", "execute_tool search_docs", "SELECT orders"} {
		if !names[want] {
			t.Errorf("no span named %q", want)
		}
	}
	multiTurn := 0
	for _, traces := range conversations {
		if len(traces) > 1 {
			multiTurn++
		}
	}
	if multiTurn == 0 || streaming == 0 || cacheReads == 0 || toolSpans == 0 || dbSpans == 0 || exceptions != llmErrors || users == 0 || maxSpans < 6 {
		t.Errorf("multi-turn conversations %d, streaming calls %d, cache reads %d, tool spans %d, db spans %d, exceptions %d of %d errors, spans with users %d, largest trace %d spans",
			multiTurn, streaming, cacheReads, toolSpans, dbSpans, exceptions, llmErrors, users, maxSpans)
	}
}

// checkModelCall checks one chat or embeddings span against the conventions.
func checkModelCall(t *testing.T, s recvSpan) {
	t.Helper()
	a := s.attrs
	op, model := a["gen_ai.operation.name"].(string), a["gen_ai.request.model"].(string)
	if s.name != op+" "+model || s.kind != ptrace.SpanKindClient || a["gen_ai.provider.name"] == nil || a["server.address"] == nil {
		t.Fatalf("model call %q kind %v attrs %v", s.name, s.kind, a)
	}
	if s.status == ptrace.StatusCodeError {
		if a["error.type"] == nil || a["http.response.status_code"] == nil || len(s.events) != 1 ||
			s.events[0].name != "exception" || s.events[0].attrs["exception.type"] == nil {
			t.Errorf("failed call %s: attrs %v events %v", s.name, a, s.events)
		}
		return
	}
	in, _ := a["gen_ai.usage.input_tokens"].(int64)
	cached, _ := a["gen_ai.usage.cache_read.input_tokens"].(int64)
	if in <= 0 || cached > in || a["gen_ai.response.model"] == nil {
		t.Errorf("call %s: usage %v", s.name, a)
	}
	if op == "embeddings" {
		return
	}
	out, _ := a["gen_ai.usage.output_tokens"].(int64)
	if out <= 0 || a["gen_ai.response.id"] == nil || a["gen_ai.response.finish_reasons"] == nil ||
		a["gen_ai.request.temperature"] == nil || a["gen_ai.request.max_tokens"] == nil {
		t.Errorf("chat %s: attrs %v", s.name, a)
	}
	var input, output []message
	var system []part
	if err := json.Unmarshal([]byte(a["gen_ai.input.messages"].(string)), &input); err != nil || len(input) == 0 {
		t.Fatalf("chat %s: input messages %v: %v", s.name, a["gen_ai.input.messages"], err)
	}
	if err := json.Unmarshal([]byte(a["gen_ai.output.messages"].(string)), &output); err != nil || len(output) != 1 {
		t.Fatalf("chat %s: output messages %v: %v", s.name, a["gen_ai.output.messages"], err)
	}
	if sys, ok := a["gen_ai.system_instructions"].(string); ok {
		if err := json.Unmarshal([]byte(sys), &system); err != nil || len(system) != 1 || system[0].Type != "text" {
			t.Fatalf("chat %s: system instructions %v: %v", s.name, sys, err)
		}
	}
	for _, m := range input {
		if m.Role == "" || len(m.Parts) == 0 || m.FinishReason != "" {
			t.Fatalf("chat %s: input message %+v", s.name, m)
		}
	}
	if o := output[0]; o.Role != "assistant" || len(o.Parts) == 0 || o.FinishReason == "" ||
		!slices.Equal(toStrings(a["gen_ai.response.finish_reasons"]), []string{o.FinishReason}) {
		t.Fatalf("chat %s: output message %+v, finish reasons %v", s.name, o, a["gen_ai.response.finish_reasons"])
	}
	// Token counts follow the text: at least one token per ~6 characters of content.
	text := 0
	for _, m := range output {
		for _, p := range m.Parts {
			text += len(p.Content)
		}
	}
	if int(out) < text/6 || int(out) > text/2+40 {
		t.Errorf("chat %s: %d output tokens for %d characters", s.name, out, text)
	}
	if a["gen_ai.request.stream"] == true {
		ttfc, _ := a["gen_ai.response.time_to_first_chunk"].(float64)
		if ttfc <= 0 || ttfc > s.end.Sub(s.start).Seconds() {
			t.Errorf("chat %s: time to first chunk %v of %s", s.name, ttfc, s.end.Sub(s.start))
		}
	}
}

func toStrings(v any) []string {
	var out []string
	if vs, ok := v.([]any); ok {
		for _, x := range vs {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

// dump renders received spans canonically: one line per span, sorted.
func dump(spans []recvSpan, ids bool) []string {
	var out []string
	for _, s := range spans {
		keys := make([]string, 0, len(s.attrs))
		for k := range s.attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		if ids {
			fmt.Fprintf(&b, "%s/%s<%s ", s.traceID, s.spanID, s.parentID)
		}
		fmt.Fprintf(&b, "%s %s %v %s..%s %v", s.service, s.name, s.kind, s.start.Format(time.RFC3339Nano), s.end.Format(time.RFC3339Nano), s.status)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%v", k, s.attrs[k])
		}
		for _, e := range s.events {
			fmt.Fprintf(&b, " event:%s@%s:%v", e.name, e.at.Format(time.RFC3339Nano), e.attrs)
		}
		out = append(out, b.String())
	}
	sort.Strings(out)
	return out
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed int64, ids bool) []recvSpan {
		c, endpoint := startGRPC(t, nil)
		if _, err := Run(t.Context(), Options{Endpoint: endpoint, Traces: 30, Seed: seed, Now: clock, DeterministicIDs: ids}); err != nil {
			t.Fatal(err)
		}
		return c.spans()
	}
	a, b := run(7, true), run(7, true)
	if da, db := dump(a, true), dump(b, true); !slices.Equal(da, db) {
		for i := range min(len(da), len(db)) {
			if da[i] != db[i] {
				t.Fatalf("same seed, different spans:\n%s\n%s", da[i], db[i])
			}
		}
		t.Fatalf("same seed: %d spans, then %d", len(da), len(db))
	}

	// Random ids: new traces every run, the same shape.
	shape := func(spans []recvSpan) []string {
		var out []string
		for _, s := range spans {
			out = append(out, fmt.Sprintf("%s %s %s %v %v %v", s.start.Format(time.RFC3339Nano), s.name, s.end.Format(time.RFC3339Nano),
				s.attrs["gen_ai.usage.input_tokens"], s.attrs["gen_ai.usage.output_tokens"], s.attrs["user.id"]))
		}
		sort.Strings(out)
		return out
	}
	c, d := run(7, false), run(7, false)
	if !slices.Equal(shape(c), shape(a)) || !slices.Equal(shape(d), shape(a)) {
		t.Fatal("random ids changed the traffic's shape")
	}
	if c[0].traceID == d[0].traceID || c[0].traceID == a[0].traceID {
		t.Fatalf("random ids repeat trace id %s", c[0].traceID)
	}
	if slices.Equal(shape(run(8, true)), shape(a)) {
		t.Fatal("another seed gives the same traffic")
	}
}

// freeAddr returns an address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		proto   string
		timeout time.Duration
	}{
		{ProtocolGRPC, time.Second}, // gRPC retries "unavailable" until the timeout
		{ProtocolHTTPProtobuf, 0},   // the default timeout: HTTP fails at once
	} {
		t.Run(tc.proto, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res, err := Run(t.Context(), Options{Endpoint: "http://" + freeAddr(t), Protocol: tc.proto, Timeout: tc.timeout, Now: clock})
			elapsed := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), "is `observatory run` running?") || !strings.Contains(err.Error(), "connection refused") {
				t.Fatalf("error %v", err)
			}
			if res.Spans != 0 || elapsed > 2*max(tc.timeout, time.Second)+time.Second {
				t.Fatalf("result %+v after %s", res, elapsed)
			}
			t.Logf("%s: failed after %s: %v", tc.proto, elapsed.Round(time.Millisecond), err)
		})
	}
}

func TestAPIKeyRejected(t *testing.T) {
	t.Parallel()
	_, grpcEndpoint := startGRPC(t, status.Error(codes.Unauthenticated, "invalid API key"))
	_, httpEndpoint := startHTTP(t, http.StatusUnauthorized)
	for proto, endpoint := range map[string]string{ProtocolGRPC: grpcEndpoint, ProtocolHTTPProtobuf: httpEndpoint} {
		start := time.Now()
		res, err := Run(t.Context(), Options{Endpoint: endpoint, Protocol: proto, Headers: map[string]string{"authorization": "Bearer obs_wrong"}, Now: clock})
		if err == nil || !strings.Contains(err.Error(), "the API key was rejected") || res.Spans != 0 {
			t.Fatalf("%s: result %+v, error %v", proto, res, err)
		}
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Fatalf("%s: rejected key took %s to report", proto, elapsed)
		}
	}
}

func TestWrongProtocolForPort(t *testing.T) {
	t.Parallel()
	_, grpcEndpoint := startGRPC(t, nil)
	_, httpEndpoint := startHTTP(t, 0)
	for proto, endpoint := range map[string]string{ProtocolGRPC: httpEndpoint, ProtocolHTTPProtobuf: grpcEndpoint} {
		_, err := Run(t.Context(), Options{Endpoint: endpoint, Protocol: proto, Traces: 3, Timeout: time.Second, Now: clock})
		if err == nil || !strings.Contains(err.Error(), "4317 is OTLP/gRPC") {
			t.Errorf("%s to the other protocol's port: %v", proto, err)
		}
		t.Logf("%s to the other protocol's port: %v", proto, err)
	}
}

func TestEndpointURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, proto, want string }{
		{"http://127.0.0.1:4317", ProtocolGRPC, "http://127.0.0.1:4317"},
		{"127.0.0.1:4317", ProtocolGRPC, "http://127.0.0.1:4317"},
		{"http://127.0.0.1:4318", ProtocolHTTPProtobuf, "http://127.0.0.1:4318/v1/traces"},
		{"https://otel.example:443/otlp/", ProtocolHTTPProtobuf, "https://otel.example:443/otlp/v1/traces"},
		{"http://127.0.0.1:4318/v1/traces", ProtocolHTTPJSON, "http://127.0.0.1:4318/v1/traces"},
	} {
		u, err := endpointURL(tc.in, tc.proto)
		if err != nil || u.String() != tc.want {
			t.Errorf("endpointURL(%q, %s) = %v, %v; want %s", tc.in, tc.proto, u, err, tc.want)
		}
	}
	for _, bad := range []string{"ftp://x:1", "http://", "::"} {
		if _, err := endpointURL(bad, ProtocolGRPC); err == nil {
			t.Errorf("endpointURL(%q) accepted", bad)
		}
	}
	if _, err := Run(t.Context(), Options{Protocol: "thrift"}); err == nil || !strings.Contains(err.Error(), "http/protobuf") {
		t.Errorf("unknown protocol: %v", err)
	}
}

// Not parallel: it sets the environment.
func TestEnvironment(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20obs_env, x-team = search ")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	c, endpoint := startHTTP(t, 0)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)

	if _, err := Run(t.Context(), Options{Traces: 2, Now: clock}); err != nil {
		t.Fatal(err)
	}
	if h := c.headers[0]; h["authorization"] != "Bearer obs_env" || h["x-team"] != "search" {
		t.Fatalf("headers from the environment: %v", h)
	}
	if _, err := Run(t.Context(), Options{Traces: 2, Now: clock, Headers: map[string]string{"AUTHORIZATION": "Bearer obs_flag"}}); err != nil {
		t.Fatal(err)
	}
	if h := c.headers[len(c.headers)-1]; h["authorization"] != "Bearer obs_flag" || h["x-team"] != "search" {
		t.Fatalf("headers merged over the environment: %v", h)
	}
}
