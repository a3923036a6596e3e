package gateway

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/gateway/providers"
	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/storage"
)

// Headers a caller may send to describe a call (all optional).
const (
	HeaderRequestID = "X-Request-Id"
	HeaderEndpoint  = "X-Observatory-Endpoint"
	HeaderSession   = "X-Observatory-Session-Id"
	HeaderUser      = "X-Observatory-User-Id"
)

// Routes, as used in metric labels.
const (
	routeChat       = "chat_completions"
	routeEmbeddings = "embeddings"
	routeModels     = "models"
	routeIngest     = "ingest"
	routeHealth     = "healthz"
	routeUnknown    = "unknown"
)

// statusClientClosed is logged and counted when the caller left (nginx's 499).
const statusClientClosed = 499

// Server is the gateway: an http.Handler serving OpenAI's API and the
// ingest API, plus the span export pipeline behind it.
type Server struct {
	o       Options
	cfg     *Config
	log     *slog.Logger
	now     func() time.Time
	m       *metrics
	limiter *limiter
	provs   map[string]*provider
	routes  map[string][]target
	models  []byte
	timers  map[string][2]prometheus.Observer // route → duration, overhead

	q           *spanQueue
	tracers     *tracers
	recMu       sync.Mutex
	recBuf      []*callRecord // records waiting for the span worker
	recIdle     bool          // the worker waits for recKick
	recClosed   bool
	recKick     chan struct{}
	recordsDone chan struct{}
	scratch     []byte       // the span worker's buffer
	pending     atomic.Int64 // records emitted and not yet turned into spans

	srvMu   sync.Mutex
	srvs    []*http.Server
	closing bool
}

type provider struct {
	name  string // configuration name
	p     providers.Provider
	retry RetryConfig
}

type target struct {
	prov  *provider
	model string
}

// New validates o, builds the providers and starts the span pipeline.
// Call Shutdown to flush spans and stop.
func New(o Options) (*Server, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, fmt.Errorf("gateway: register metrics: %w", err)
	}
	cfg := o.Config
	s := &Server{
		o: o, cfg: cfg, log: o.Logger, now: o.Now, m: m, limiter: newLimiter(cfg.Limits),
		provs: map[string]*provider{}, routes: map[string][]target{},
		recKick: make(chan struct{}, 1), recordsDone: make(chan struct{}),
	}
	for _, name := range sortedKeys(cfg.Providers) {
		pc := cfg.Providers[name]
		p, err := buildProvider(pc, o.HTTPClient, o.Now)
		if err != nil {
			return nil, fmt.Errorf("gateway: providers.%s: %w", name, err)
		}
		s.provs[name] = &provider{name: name, p: p, retry: pc.Retry}
	}
	for name, p := range o.Providers {
		retry := RetryConfig{MaxAttempts: DefaultMaxAttempts, InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff, MaxRetryAfter: DefaultMaxRetryAfter}
		if pc, ok := cfg.Providers[name]; ok {
			retry = pc.Retry
		}
		s.provs[name] = &provider{name: name, p: p, retry: retry}
	}
	list := api.ModelList{Object: "list", Data: []api.Model{}}
	created := o.Now().Unix()
	for _, name := range sortedKeys(cfg.Models) {
		mc := cfg.Models[name]
		for _, t := range append([]Target{{Provider: mc.Provider, Model: mc.Model}}, mc.Fallbacks...) {
			pr, ok := s.provs[t.Provider]
			if !ok {
				return nil, fmt.Errorf("gateway: models.%s: no provider named %q", name, t.Provider)
			}
			model := t.Model
			if model == "" {
				model = name
			}
			s.routes[name] = append(s.routes[name], target{prov: pr, model: model})
		}
		list.Data = append(list.Data, api.Model{ID: name, Object: "model", Created: created, OwnedBy: s.routes[name][0].prov.p.Name()})
	}
	s.models, _ = json.Marshal(list)
	s.timers = map[string][2]prometheus.Observer{}
	for _, r := range []string{routeChat, routeEmbeddings, routeModels, routeIngest} {
		s.timers[r] = [2]prometheus.Observer{m.duration.WithLabelValues(r), m.overhead.WithLabelValues(r)}
	}
	s.q = newSpanQueue(cfg.Telemetry, o.ExporterFor, o.Logger, m)
	s.tracers = &tracers{q: s.q, version: o.Version, tps: map[tracerKey]*sdktrace.TracerProvider{}}
	go s.spanWorker()
	return s, nil
}

// Serve accepts connections on ln with the configured header, body and
// idle timeouts until Shutdown. It returns http.ErrServerClosed after
// Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.Server.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.Server.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.srvMu.Lock()
	if s.closing {
		s.srvMu.Unlock()
		return http.ErrServerClosed
	}
	s.srvs = append(s.srvs, srv)
	s.srvMu.Unlock()
	return srv.Serve(ln)
}

// Shutdown stops Serve (waiting for in-flight calls until ctx ends), then
// builds the remaining spans and exports them, retrying until ctx's
// deadline, and shuts the exporters down. Safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.srvMu.Lock()
	s.closing = true
	srvs := s.srvs
	s.srvs = nil
	s.srvMu.Unlock()
	var errs []error
	for _, srv := range srvs {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("gateway: stop HTTP server: %w", err))
			_ = srv.Close()
		}
	}
	s.recMu.Lock()
	s.recClosed = true
	s.recMu.Unlock()
	select {
	case s.recKick <- struct{}{}:
	default:
	}
	select {
	case <-s.recordsDone:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("gateway: building spans at shutdown: %w", ctx.Err()))
	}
	if err := s.q.shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	s.tracers.shutdown(ctx)
	if s.o.Exporter != nil {
		if err := s.o.Exporter.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("gateway: shut down exporter: %w", err))
		}
		s.o.Exporter = nil
	}
	return errors.Join(errs...)
}

// Flush waits until the spans of every call finished so far are exported
// (or dropped), or ctx ends.
func (s *Server) Flush(ctx context.Context) error {
	for s.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return s.q.flush(ctx)
}

// reqState is per-request bookkeeping.
type reqState struct {
	start     time.Time
	requestID string
	timer     providers.UpstreamTimer
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := reqState{start: time.Now(), requestID: requestID(r.Header.Get(HeaderRequestID))}
	w.Header().Set(HeaderRequestID, st.requestID)
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/v1/"); ok {
		path = "/" + rest
	}
	route, code := routeUnknown, 0
	method := func(m string) bool {
		if r.Method == m {
			return true
		}
		w.Header().Set("Allow", m)
		code = s.writeError(w, api.NewError(http.StatusMethodNotAllowed, api.TypeInvalidRequest, "method_not_allowed", "", "Invalid method for URL (%s %s).", r.Method, clipPath(r.URL.Path)))
		return false
	}
	switch path {
	case "/chat/completions":
		route = routeChat
		if method(http.MethodPost) {
			code = s.handleChat(w, r, &st)
		}
	case "/embeddings":
		route = routeEmbeddings
		if method(http.MethodPost) {
			code = s.handleEmbeddings(w, r, &st)
		}
	case "/models":
		route = routeModels
		if method(http.MethodGet) {
			code = s.handleModels(w, r)
		}
	case "/ingest":
		route = routeIngest
		if method(http.MethodPost) {
			code = s.handleIngest(w, r, &st)
		}
	case "/healthz":
		route = routeHealth
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
		code = http.StatusOK
	default:
		code = s.writeError(w, api.NewError(http.StatusNotFound, api.TypeInvalidRequest, "unknown_url", "", "Invalid URL (%s %s).", r.Method, clipPath(r.URL.Path)))
	}
	total := time.Since(st.start)
	s.m.requests.WithLabelValues(route, statusLabel(code)).Inc()
	if o, ok := s.timers[route]; ok {
		o[0].Observe(total.Seconds())
		o[1].Observe(max(0, total-st.timer.Total()).Seconds())
	}
}

func statusLabel(code int) string {
	switch code {
	case 200:
		return "200"
	case 400:
		return "400"
	case 401:
		return "401"
	case 404:
		return "404"
	case 429:
		return "429"
	}
	return strconv.Itoa(code)
}

func clipPath(p string) string {
	if len(p) > 128 {
		return p[:128] + "…"
	}
	return p
}

// requestID returns the caller's id when it is sane, else a new one.
func requestID(h string) string {
	if n := len(h); n > 0 && n <= 128 {
		ok := true
		for i := 0; i < n; i++ {
			if c := h[i]; c < 0x21 || c > 0x7e {
				ok = false
				break
			}
		}
		if ok {
			return h
		}
	}
	var b [12]byte
	u1, u2 := rand.Uint64(), rand.Uint32()
	for i := range 8 {
		b[i] = byte(u1 >> (8 * i))
	}
	for i := range 4 {
		b[8+i] = byte(u2 >> (8 * i))
	}
	return "req_" + hex.EncodeToString(b[:])
}

// writeError writes an OpenAI error envelope and returns the status.
func (s *Server) writeError(w http.ResponseWriter, e *api.Error) int {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(e.Marshal())
	return e.Status
}

func writeJSONBytes(w http.ResponseWriter, b []byte) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return http.StatusOK
}

// authenticate verifies the caller's key for scope, writing the error
// response when it fails.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, scope string) (storage.APIKey, int) {
	k, err := s.o.Verifier.Verify(r.Context(), apikey.FromHeaders(r.Header), scope)
	if err == nil {
		return k, 0
	}
	reason := apikey.Reason(err)
	s.m.authFailures.WithLabelValues(reason).Inc()
	switch {
	case errors.Is(err, apikey.ErrMissing):
		return k, s.writeError(w, api.NewError(http.StatusUnauthorized, api.TypeInvalidRequest, "", "",
			"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."))
	case errors.Is(err, apikey.ErrInvalid), errors.Is(err, apikey.ErrRevoked):
		return k, s.writeError(w, api.NewError(http.StatusUnauthorized, api.TypeInvalidRequest, api.CodeInvalidAPIKey, "", "Incorrect API key provided: %s", err.Error()))
	case errors.Is(err, apikey.ErrScope):
		return k, s.writeError(w, api.NewError(http.StatusForbidden, api.TypePermission, api.CodeInsufficientScope, "", "%s", err.Error()))
	default:
		s.log.Error("gateway: verify API key", "error", err)
		return k, s.writeError(w, api.NewError(http.StatusServiceUnavailable, api.TypeServer, "", "", "Could not verify the API key right now; retry shortly."))
	}
}

// readBody reads a bounded request body within the body read timeout.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *api.Error) {
	limit := s.cfg.Server.MaxBodyBytes
	tooLarge := func() *api.Error {
		return api.NewError(http.StatusRequestEntityTooLarge, api.TypeInvalidRequest, api.CodeRequestTooLarge, "",
			"Request body too large: the limit is %d bytes.", limit)
	}
	if r.ContentLength > limit {
		return nil, tooLarge()
	}
	if d := s.cfg.Server.BodyReadTimeout; d > 0 {
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(d)) == nil {
			defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
		}
	}
	size := 4096
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1
	}
	buf := make([]byte, 0, size)
	body := http.MaxBytesReader(w, r.Body, limit)
	for {
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			var ne net.Error
			switch {
			case errors.As(err, &mbe):
				return nil, tooLarge()
			case errors.As(err, &ne) && ne.Timeout():
				w.Header().Set("Connection", "close")
				return nil, api.NewError(http.StatusRequestTimeout, api.TypeInvalidRequest, "request_timeout", "",
					"The request body was not received within %s.", s.cfg.Server.BodyReadTimeout)
			default:
				return nil, api.BadRequest("", "", "Could not read the request body.")
			}
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, len(buf))
		}
	}
}

// newRecord starts a call record: tenant, ids (the caller's trace, if any,
// becomes the parent), and the caller's descriptive headers.
func (s *Server) newRecord(r *http.Request, st *reqState, k storage.APIKey, op, model string) *callRecord {
	rec := &callRecord{
		tenant: Tenant{OrgID: k.OrgID, ProjectID: k.ProjectID}, key: k, keyID: k.ID, op: op, model: model,
		start: s.now().Add(-time.Since(st.start)), requestID: st.requestID,
		endpoint: clipHeader(r.Header.Get(HeaderEndpoint)), sessionID: clipHeader(r.Header.Get(HeaderSession)),
		userID: clipHeader(r.Header.Get(HeaderUser)), spanID: newSpanID(),
	}
	if r.Header.Get("Traceparent") != "" {
		rec.parent = trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(r.Header)))
	}
	if rec.parent.IsValid() {
		rec.traceID = rec.parent.TraceID()
	} else {
		rec.traceID = newTraceID()
	}
	return rec
}

func clipHeader(v string) string {
	if len(v) > 256 {
		return v[:256]
	}
	return v
}

// upstreamHeader is what the gateway forwards: the request id and its own
// span as the upstream's parent.
func (rec *callRecord) upstreamHeader() http.Header {
	flags := "01"
	if rec.parent.IsValid() && !rec.parent.IsSampled() {
		flags = "00"
	}
	return http.Header{
		HeaderRequestID: {rec.requestID},
		"Traceparent":   {"00-" + rec.traceID.String() + "-" + rec.spanID.String() + "-" + flags},
	}
}

// finish completes a record and hands it to the span builder.
func (s *Server) finish(rec *callRecord, st *reqState, status int) {
	rec.end = rec.start.Add(time.Since(st.start))
	rec.status = status
	s.emit(rec)
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) int {
	if _, code := s.authenticate(w, r, apikey.ScopeGateway); code != 0 {
		return code
	}
	return writeJSONBytes(w, s.models)
}

// rateLimited writes OpenAI's 429.
func (s *Server) rateLimited(w http.ResponseWriter, limit string, wait time.Duration) int {
	s.m.rateLimited.WithLabelValues(limit).Inc()
	secs := int(wait / time.Second)
	if wait%time.Second != 0 || secs == 0 {
		secs++
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	e := api.NewError(http.StatusTooManyRequests, limit, api.CodeRateLimitExceeded, "",
		"Rate limit reached for %s per minute on this API key. Please try again in %ds.", limit, secs)
	return s.writeError(w, e)
}
