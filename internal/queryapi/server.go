// Package queryapi serves the JSON query API (calls, traces, overview
// statistics) plus health, readiness and Prometheus metrics. Until users
// and roles exist, a caller authenticates with a project API key holding
// the `read` scope and sees only that key's project.
package queryapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

// Limits on what one request may ask for.
const (
	maxRange        = 93 * 24 * time.Hour
	defaultRange    = 24 * time.Hour
	defaultPageSize = 50
	maxPageSize     = 1000
)

// Options configures the API.
type Options struct {
	Store    storage.Store
	Verifier *apikey.Verifier
	// Gatherer is served on /metrics; Registerer receives the API's own
	// metrics. Both default to a new registry.
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer
	// Ready reports whether the pipeline is up; nil means always ready.
	Ready  func(context.Context) error
	Logger *slog.Logger
	Now    func() time.Time
	// Pprof serves net/http/pprof under /debug/pprof/ (profiling a live
	// instance; the API binds to localhost by default).
	Pprof bool
}

// Server is the query API.
type Server struct {
	o        Options
	mux      *http.ServeMux
	requests *prometheus.CounterVec
}

// New validates the options and builds the handler.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Verifier == nil {
		return nil, errors.New("queryapi: Store and Verifier are required")
	}
	if o.Gatherer == nil || o.Registerer == nil {
		reg := prometheus.NewRegistry()
		o.Gatherer, o.Registerer = reg, reg
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, mux: http.NewServeMux()}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "observatory_api_requests_total",
		Help: "Query API requests by route and status code.",
	}, []string{"route", "code"})
	if err := o.Registerer.Register(s.requests); err != nil {
		return nil, fmt.Errorf("queryapi: register metrics: %w", err)
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	if o.Pprof {
		s.mux.HandleFunc("/debug/pprof/", pprof.Index)
		s.mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		s.mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		s.mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	}
	s.route("GET /api/v1/calls", s.listCalls)
	s.route("GET /api/v1/calls/{span_id}", s.getCall)
	s.route("GET /api/v1/traces/{trace_id}", s.getTrace)
	s.route("GET /api/v1/stats/overview", s.overview)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route %s %s; see /api/v1/calls, /api/v1/traces/{trace_id}, /api/v1/stats/overview", r.Method, r.URL.Path))
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type handlerFunc func(w http.ResponseWriter, r *http.Request, projectID string) (int, error)

// route wraps a tenant handler with read-scope authentication, error
// rendering and metrics.
func (s *Server) route(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		code := s.serve(w, r, h)
		s.requests.WithLabelValues(pattern, strconv.Itoa(code)).Inc()
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, h handlerFunc) int {
	k, err := s.o.Verifier.Verify(r.Context(), apikey.FromHeaders(r.Header), apikey.ScopeRead)
	if err != nil {
		code, kind := http.StatusUnauthorized, "unauthenticated"
		switch {
		case errors.Is(err, apikey.ErrScope):
			code, kind = http.StatusForbidden, "forbidden"
		case !errors.Is(err, apikey.ErrMissing) && !errors.Is(err, apikey.ErrInvalid) && !errors.Is(err, apikey.ErrRevoked):
			code, kind = http.StatusServiceUnavailable, "unavailable"
			s.o.Logger.Error("verify API key", "err", err)
			err = errors.New("cannot verify the API key right now; retry shortly")
		}
		writeError(w, code, kind, err.Error())
		return code
	}
	code, err := h(w, r, k.ProjectID)
	if err == nil {
		return code
	}
	kind := "internal"
	switch {
	case errors.Is(err, errBadRequest) || errors.Is(err, storage.ErrInvalidQuery):
		code, kind = http.StatusBadRequest, "bad_request"
	case errors.Is(err, storage.ErrNotFound):
		code, kind = http.StatusNotFound, "not_found"
	case errors.Is(err, context.Canceled):
		code = 499
	default:
		code = http.StatusInternalServerError
		s.o.Logger.Error("query failed", "path", r.URL.Path, "err", err)
		err = errors.New("query failed; see the server log")
	}
	writeError(w, code, kind, err.Error())
	return code
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.o.Store.Ping(ctx); err != nil {
		s.o.Logger.Error("readiness: storage ping failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is not answering; see the server log")
		return
	}
	if s.o.Ready != nil {
		if err := s.o.Ready(ctx); err != nil {
			writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

var errBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// timeRange reads from/to (RFC 3339 or unix seconds); defaults to the last
// 24 hours and refuses ranges longer than maxRange.
func (s *Server) timeRange(r *http.Request) (time.Time, time.Time, error) {
	now := s.o.Now().UTC()
	to, err := parseTime(r.URL.Query().Get("to"), now)
	if err != nil {
		return time.Time{}, time.Time{}, badRequest("to: %v", err)
	}
	from, err := parseTime(r.URL.Query().Get("from"), to.Add(-defaultRange))
	if err != nil {
		return time.Time{}, time.Time{}, badRequest("from: %v", err)
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, badRequest("from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.Sub(from) > maxRange {
		return time.Time{}, time.Time{}, badRequest("time range %s is longer than the maximum %s", to.Sub(from), maxRange)
	}
	return from, to, nil
}

func parseTime(v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-01-02T15:04:05Z) nor unix seconds", v)
}

type callsResponse struct {
	Calls      []llmcall.Call `json:"calls"`
	NextCursor string         `json:"next_cursor,omitempty"`
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request, projectID string) (int, error) {
	from, to, err := s.timeRange(r)
	if err != nil {
		return 0, err
	}
	q := r.URL.Query()
	limit := defaultPageSize
	if v := q.Get("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > maxPageSize {
			return 0, badRequest("limit must be an integer from 1 to %d", maxPageSize)
		}
	}
	status := q.Get("status")
	if status != "" && !slices.Contains([]string{llmcall.StatusOK, llmcall.StatusError, llmcall.StatusUnset}, status) {
		return 0, badRequest("status must be ok, error or unset")
	}
	page, err := s.o.Store.ListCalls(r.Context(), storage.CallQuery{
		ProjectID: projectID, From: from, To: to,
		Endpoint: q.Get("endpoint"), Model: q.Get("model"), Status: status,
		Limit: limit, Cursor: q.Get("cursor"),
	})
	if err != nil {
		return 0, err
	}
	if page.Calls == nil {
		page.Calls = []llmcall.Call{}
	}
	return writeJSON(w, http.StatusOK, callsResponse{Calls: page.Calls, NextCursor: page.NextCursor, From: from, To: to}), nil
}

func (s *Server) getCall(w http.ResponseWriter, r *http.Request, projectID string) (int, error) {
	id := strings.ToLower(r.PathValue("span_id"))
	if !isHex(id, 16) {
		return 0, badRequest("span id must be 16 hex characters")
	}
	c, err := s.o.Store.GetCall(r.Context(), projectID, id)
	if err != nil {
		return 0, fmt.Errorf("span %s: %w", id, err)
	}
	return writeJSON(w, http.StatusOK, c), nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
	return code
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, code int, kind, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = kind, msg
	writeJSON(w, code, b)
}
