// Package demo sends realistic LLM traffic to an OTLP endpoint through the
// real opentelemetry-go SDK and OTLP exporter, the way an instrumented app
// would: three simulated apps (a support chat bot with an agent and a tool,
// a semantic search API, a docs agent), several providers and models, one
// model no price table knows, multi-turn conversations, users, streaming
// calls, rate limits and server errors, and prompt and answer content in the
// current OTel GenAI message schema.
//
// The traffic is a pure function of the seed: the same seed gives the same
// traces, attributes and content. Trace, span, conversation and response ids
// are random unless Options.DeterministicIDs is set, so running the demo
// twice adds new traces instead of repeating the old ones.
package demo

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Defaults of Options.
const (
	DefaultTraces  = 60
	DefaultSeed    = 42
	DefaultTimeout = 5 * time.Second
)

// Protocols accepted in Options.Protocol (the values of OTEL_EXPORTER_OTLP_PROTOCOL).
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
	ProtocolHTTPJSON     = "http/json"
)

// window is how far back the traffic starts: it ends now.
const window = 30 * time.Minute

const scopeName = "github.com/llm-observatory/observatory/internal/demo"

// Options configures Run. The zero value sends 60 traces over OTLP/gRPC to
// the endpoint named by the standard OTEL_EXPORTER_OTLP_* variables
// (localhost:4317 when none is set).
type Options struct {
	// Endpoint is a base URL like "http://127.0.0.1:4317" (gRPC) or
	// "http://127.0.0.1:4318" (HTTP; "/v1/traces" is appended unless the
	// path already ends with it). http:// means no TLS; a bare host:port is
	// taken as http://. Empty: the standard OTEL_EXPORTER_OTLP_* variables,
	// as the SDK reads them.
	Endpoint string
	// Protocol is "grpc", "http/protobuf" or "http/json". Empty:
	// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, else grpc.
	Protocol string
	// Headers are sent with every export, e.g. {"authorization": "Bearer obs_…"};
	// they are merged over OTEL_EXPORTER_OTLP_(TRACES_)HEADERS.
	Headers map[string]string
	// Traces is the number of traces (user interactions) to send; default 60.
	Traces int
	// Seed determines the traffic's shape and content; default 42.
	Seed int64
	// DeterministicIDs derives trace, span, conversation and response ids
	// from Seed too, so two runs send identical data. Default: random ids.
	DeterministicIDs bool
	// Now is the clock; default time.Now. The traces are spread over the 30
	// minutes before Now, so they show up in dashboards right away.
	Now func() time.Time
	// Timeout bounds one export including its retries; default 5 s. A run
	// against a dead endpoint fails within about this long (a refused
	// OTLP/HTTP connection at once; OTLP/gRPC retries until the timeout).
	Timeout time.Duration
	// Progress receives a single progress line updated in place with \r,
	// like "demo: 37/60 traces, 112 spans sent"; nil: quiet.
	Progress io.Writer
	// Logger receives a summary at Info and details at Debug; nil: discard.
	Logger *slog.Logger
}

// Result counts what the endpoint accepted.
type Result struct {
	Traces   int // traces (root spans) exported
	Spans    int // spans exported
	LLMCalls int // model call spans (chat, embeddings) exported
	Errors   int // of those, failed model calls (status Error)
}

func (o Options) withDefaults() Options {
	if o.Traces <= 0 {
		o.Traces = DefaultTraces
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Run sends the demo traffic and waits until it is exported. It uses its own
// tracer providers and leaves the global OpenTelemetry state alone. When the
// export fails, the error says what to fix, and Result counts what was
// accepted before.
func Run(ctx context.Context, o Options) (Result, error) {
	o = o.withDefaults()
	proto, err := protocol(o.Protocol)
	if err != nil {
		return Result{}, err
	}
	exp, target, err := newExporter(ctx, o, proto)
	if err != nil {
		return Result{}, err
	}
	log := o.Logger.With("endpoint", target, "protocol", proto)
	log.Debug("demo: sending", "traces", o.Traces, "seed", o.Seed)

	prog := &progress{w: o.Progress, total: o.Traces}
	rec := &recorder{next: exp, onExport: prog.refresh}
	prog.sent = rec.sent

	var idRand *rand.Rand
	var idGen sdktrace.IDGenerator
	if o.DeterministicIDs {
		idRand = rand.New(rand.NewPCG(uint64(o.Seed), 0x7265737069647321))
		idGen = &seededIDs{r: rand.New(rand.NewPCG(uint64(o.Seed), 0x7370616e69647321))}
	} else {
		idRand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	g := newGenerator(o.Seed, idRand)

	tps := make([]*sdktrace.TracerProvider, len(g.apps))
	tracers := make([]trace.Tracer, len(g.apps))
	for i, a := range g.apps {
		res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(
			attribute.String("service.name", a.service),
			attribute.String("service.version", a.version),
			attribute.String("deployment.environment.name", "demo"),
		))
		if err != nil {
			return Result{}, fmt.Errorf("demo: resource: %w", err)
		}
		bsp := sdktrace.NewBatchSpanProcessor(rec,
			sdktrace.WithBlocking(), // never drop spans: wait for the exporter instead
			sdktrace.WithBatchTimeout(200*time.Millisecond),
			sdktrace.WithExportTimeout(o.Timeout+time.Second),
		)
		opts := []sdktrace.TracerProviderOption{
			sdktrace.WithResource(res),
			sdktrace.WithSpanProcessor(bsp),
			sdktrace.WithSampler(sdktrace.AlwaysSample()),
		}
		if idGen != nil {
			opts = append(opts, sdktrace.WithIDGenerator(idGen))
		}
		tps[i] = sdktrace.NewTracerProvider(opts...)
		tracers[i] = tps[i].Tracer(scopeName)
	}

	now := o.Now()
	start := now.Add(-window)
	interval := window / time.Duration(o.Traces)
	generated := 0
	var runErr error
	for i := range o.Traces {
		if err := ctx.Err(); err != nil {
			runErr = fmt.Errorf("demo: stopped after %d of %d traces: %w", i, o.Traces, err)
			break
		}
		if rec.failed() {
			break // the endpoint refuses: say why instead of queueing more
		}
		a, root := g.nextTrace()
		at := start.Add(time.Duration(i)*interval + time.Duration(g.r.Int64N(int64(interval/2)+1)))
		if latest := now.Add(-root.end - time.Millisecond); at.After(latest) {
			at = latest
		}
		generated += emit(ctx, tracers[a], root, at, true)
		prog.traceDone(i + 1)
	}

	// Flush and shut down even when ctx is done, bounded by the export timeout.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*o.Timeout+time.Second)
	defer cancel()
	var shutErr error
	for _, tp := range tps {
		shutErr = errors.Join(shutErr, tp.ForceFlush(fctx), tp.Shutdown(fctx))
	}
	shutErr = errors.Join(shutErr, exp.Shutdown(fctx))
	prog.done()

	res, exportErr := rec.result()
	switch {
	case exportErr != nil:
		err = explain(exportErr, target, proto, o.Timeout)
	case runErr != nil:
		err = runErr
	case res.Spans != generated:
		err = fmt.Errorf("demo: only %d of %d spans were exported to %s: %w", res.Spans, generated, target,
			errors.Join(shutErr, errors.New("the export did not finish")))
	}
	if err != nil {
		log.Debug("demo: failed", "error", err, "spans_sent", res.Spans)
		return res, err
	}
	log.Info("demo traffic sent", "traces", res.Traces, "spans", res.Spans,
		"llm_calls", res.LLMCalls, "errors", res.Errors, "seed", o.Seed)
	return res, nil
}

// emit records a planned span and its children with the SDK and returns the
// number of spans recorded.
func emit(ctx context.Context, tr trace.Tracer, sp *spanPlan, base time.Time, root bool) int {
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(sp.kind),
		trace.WithTimestamp(base.Add(sp.start)),
		trace.WithAttributes(sp.attrs...),
	}
	if root {
		opts = append(opts, trace.WithNewRoot())
	}
	ctx, s := tr.Start(ctx, sp.name, opts...)
	n := 1
	for _, c := range sp.children {
		n += emit(ctx, tr, c, base, false)
	}
	for _, e := range sp.events {
		s.AddEvent(e.name, trace.WithTimestamp(base.Add(e.at)), trace.WithAttributes(e.attrs...))
	}
	if sp.status == codes.Error {
		s.SetStatus(codes.Error, sp.statusMsg)
	}
	s.End(trace.WithTimestamp(base.Add(sp.end)))
	return n
}

func protocol(p string) (string, error) {
	if p == "" {
		p = os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	}
	if p == "" {
		p = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch p {
	case "", ProtocolGRPC:
		return ProtocolGRPC, nil
	case ProtocolHTTPProtobuf, ProtocolHTTPJSON:
		return p, nil
	}
	return "", fmt.Errorf("demo: unknown OTLP protocol %q: use %q, %q or %q", p, ProtocolGRPC, ProtocolHTTPProtobuf, ProtocolHTTPJSON)
}

// endpointURL parses Options.Endpoint and, for HTTP, points it at /v1/traces.
func endpointURL(raw, proto string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("demo: invalid endpoint %q: want a URL like http://127.0.0.1:4317 (grpc) or http://127.0.0.1:4318 (http/protobuf)", raw)
	}
	if proto != ProtocolGRPC {
		p := strings.TrimSuffix(u.Path, "/")
		if !strings.HasSuffix(p, "/v1/traces") {
			p += "/v1/traces"
		}
		u.Path = p
	} else {
		u.Path = ""
	}
	return u, nil
}

// envHeaders reads the exporter headers from the environment the way the
// SDK does: the traces variable replaces the general one.
func envHeaders() map[string]string {
	v, ok := os.LookupEnv("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
	if !ok {
		v = os.Getenv("OTEL_EXPORTER_OTLP_HEADERS")
	}
	h := map[string]string{}
	for pair := range strings.SplitSeq(v, ",") {
		k, val, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			continue
		}
		if dec, err := url.PathUnescape(val); err == nil {
			val = dec
		}
		h[strings.ToLower(k)] = strings.TrimSpace(val)
	}
	return h
}

func mergedHeaders(extra map[string]string) map[string]string {
	h := envHeaders()
	for k, v := range extra {
		h[strings.ToLower(k)] = v
	}
	return h
}

// newExporter builds the OTLP exporter and names where it sends to.
func newExporter(ctx context.Context, o Options, proto string) (sdktrace.SpanExporter, string, error) {
	target := envTarget(proto)
	var u *url.URL
	if o.Endpoint != "" {
		var err error
		if u, err = endpointURL(o.Endpoint, proto); err != nil {
			return nil, "", err
		}
		target = u.String()
	}
	// Retry transient failures, but only within the export timeout, so a
	// dead endpoint fails the run quickly.
	const initial, maxInterval = 250 * time.Millisecond, time.Second

	if proto == ProtocolGRPC {
		opts := []otlptracegrpc.Option{
			otlptracegrpc.WithTimeout(o.Timeout),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true,
				InitialInterval: initial, MaxInterval: maxInterval, MaxElapsedTime: o.Timeout}),
		}
		if u != nil {
			opts = append(opts, otlptracegrpc.WithEndpointURL(u.String()))
		}
		if len(o.Headers) > 0 {
			opts = append(opts, otlptracegrpc.WithHeaders(mergedHeaders(o.Headers)))
		}
		exp, err := otlptracegrpc.New(ctx, opts...)
		if err != nil {
			return nil, "", fmt.Errorf("demo: OTLP/gRPC exporter for %s: %w", target, err)
		}
		return exp, target, nil
	}
	opts := []otlptracehttp.Option{
		otlptracehttp.WithTimeout(o.Timeout),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true,
			InitialInterval: initial, MaxInterval: maxInterval, MaxElapsedTime: o.Timeout}),
	}
	if proto == ProtocolHTTPJSON {
		opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
	} else {
		opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingProtobuf))
	}
	if u != nil {
		opts = append(opts, otlptracehttp.WithEndpointURL(u.String()))
	}
	if len(o.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(mergedHeaders(o.Headers)))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("demo: OTLP/HTTP exporter for %s: %w", target, err)
	}
	return exp, target, nil
}

// envTarget names the endpoint the SDK takes from the environment.
func envTarget(proto string) string {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	if proto == ProtocolGRPC {
		return "localhost:4317"
	}
	return "http://localhost:4318/v1/traces"
}

// explain turns an export error into one that says what to fix.
func explain(err error, target, proto string, timeout time.Duration) error {
	msg := err.Error()
	code := grpccodes.OK
	if st, ok := status.FromError(err); ok {
		code = st.Code()
	} else if st, ok := status.FromError(errors.Unwrap(err)); ok {
		code = st.Code()
	}
	// The OTLP/HTTP exporter only has the status in its error text:
	// "failed to send to URL: 401 Unauthorized (body: …)".
	httpStatus := 0
	if m := regexp.MustCompile(`: ([1-5][0-9][0-9]) [A-Z]`).FindStringSubmatch(msg); m != nil {
		httpStatus, _ = strconv.Atoi(m[1])
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(msg, "connection refused"):
		return fmt.Errorf("demo: nothing is listening at %s (connection refused): is `observatory run` running? "+
			"Start it, or point the demo at your collector (endpoint option or OTEL_EXPORTER_OTLP_ENDPOINT): %w", target, err)
	case code == grpccodes.Unauthenticated || code == grpccodes.PermissionDenied || httpStatus == 401 || httpStatus == 403:
		return fmt.Errorf("demo: the API key was rejected by %s: send a valid project API key with the ingest scope "+
			"as \"authorization: Bearer obs_…\" (headers option or OTEL_EXPORTER_OTLP_HEADERS): %w", target, err)
	case code == grpccodes.ResourceExhausted || httpStatus == 429:
		return fmt.Errorf("demo: %s is rate-limiting this API key: wait a minute, or send fewer traces: %w", target, err)
	case code == grpccodes.Unimplemented || httpStatus == 404 || httpStatus == 405 || httpStatus == 415 ||
		strings.Contains(msg, "malformed HTTP") || strings.Contains(msg, "readLoopPeekFailLocked") ||
		strings.Contains(msg, "server preface") ||
		strings.Contains(msg, "frame too large") || strings.Contains(msg, "http2") ||
		// A gRPC server hangs up on an HTTP/1.1 request; depending on timing the
		// HTTP client sees EOF, a reset, or its own write on a closed socket.
		proto != ProtocolGRPC && httpStatus == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
			strings.Contains(msg, "EOF") || strings.Contains(msg, "connection reset") ||
			strings.Contains(msg, "use of closed network connection")):
		return fmt.Errorf("demo: %s does not speak OTLP over %s: check the port and protocol "+
			"(4317 is OTLP/gRPC, 4318 is OTLP/HTTP): %w", target, proto, err)
	case errors.Is(err, context.DeadlineExceeded) || code == grpccodes.DeadlineExceeded || code == grpccodes.Unavailable:
		return fmt.Errorf("demo: no answer from %s within %s: is `observatory run` running and is the endpoint right? %w",
			target, timeout, err)
	}
	return fmt.Errorf("demo: exporting spans to %s failed: %w", target, err)
}

// recorder wraps the OTLP exporter: it counts what the endpoint accepted
// and keeps the last export error for Run to report. It reports errors to
// Run only, not through the global OpenTelemetry error handler, and once an
// export failed it fails the rest at once instead of waiting out timeouts.
type recorder struct {
	next     sdktrace.SpanExporter
	onExport func()

	mu  sync.Mutex
	err error
	res Result
}

func (r *recorder) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if r.failed() {
		return nil
	}
	err := r.next.ExportSpans(ctx, spans)
	r.mu.Lock()
	if err != nil {
		r.err = err
	} else {
		for _, s := range spans {
			r.res.Spans++
			if !s.Parent().IsValid() {
				r.res.Traces++
			}
			if isModelCall(s) {
				r.res.LLMCalls++
				if s.Status().Code == codes.Error {
					r.res.Errors++
				}
			}
		}
	}
	r.mu.Unlock()
	r.onExport()
	return nil
}

// Shutdown does nothing: the tracer providers share the exporter, and Run
// shuts it down once after all of them.
func (r *recorder) Shutdown(context.Context) error { return nil }

func (r *recorder) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err != nil
}

func (r *recorder) sent() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.res.Spans
}

func (r *recorder) result() (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.res, r.err
}

func isModelCall(s sdktrace.ReadOnlySpan) bool {
	for _, kv := range s.Attributes() {
		if kv.Key == keyOperation {
			switch kv.Value.AsString() {
			case "chat", "embeddings", "text_completion", "generate_content":
				return true
			}
			return false
		}
	}
	return false
}

// progress keeps one status line up to date, rewriting it at most every
// 100 ms.
type progress struct {
	w     io.Writer
	total int
	sent  func() int

	mu     sync.Mutex
	traces int
	last   time.Time
}

func (p *progress) traceDone(n int) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	p.traces = n
	p.mu.Unlock()
	p.refresh()
}

func (p *progress) refresh() { p.print(false) }

func (p *progress) done() { p.print(true) }

func (p *progress) print(final bool) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !final && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\rdemo: %d/%d traces, %d spans sent", p.traces, p.total, p.sent())
	if final {
		fmt.Fprintln(p.w)
	}
}

// seededIDs is an IDGenerator that derives ids from the seed.
type seededIDs struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (g *seededIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.BigEndian.PutUint64(tid[:8], g.r.Uint64())
		binary.BigEndian.PutUint64(tid[8:], g.r.Uint64())
	}
	return tid, g.spanID()
}

func (g *seededIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.spanID()
}

func (g *seededIDs) spanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.BigEndian.PutUint64(sid[:], g.r.Uint64())
	}
	return sid
}
