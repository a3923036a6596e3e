package apikeyauthextension

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
	"github.com/llm-observatory/observatory/internal/storage/storeopen"
)

const scopeName = "github.com/llm-observatory/observatory/extensions/apikeyauthextension"

type authExtension struct {
	cfg      *Config
	logger   *zap.Logger
	verifier *apikey.Verifier
	store    storage.Store // opened by Start when not injected

	rejected metric.Int64Counter
	requests metric.Int64Counter
}

var (
	_ extensionauth.Server           = (*authExtension)(nil)
	_ extensionmiddleware.HTTPServer = (*authExtension)(nil)
	_ extensionmiddleware.GRPCServer = (*authExtension)(nil)
)

func newExtension(cfg *Config, set extension.Settings, v *apikey.Verifier) (*authExtension, error) {
	meter := set.TelemetrySettings.MeterProvider.Meter(scopeName)
	rejected, err := meter.Int64Counter("observatory.ingest.auth_rejected",
		metric.WithDescription("Ingest requests refused by API key authentication, by reason."),
		metric.WithUnit("{request}"))
	if err != nil {
		return nil, err
	}
	requests, err := meter.Int64Counter("observatory.ingest.requests",
		metric.WithDescription("Ingest requests by transport and outcome (ok, bad_request, too_large, unsupported_media_type, unauthenticated, throttled, server_error, other)."),
		metric.WithUnit("{request}"))
	if err != nil {
		return nil, err
	}
	return &authExtension{cfg: cfg, logger: set.Logger, verifier: v, rejected: rejected, requests: requests}, nil
}

func (e *authExtension) Start(ctx context.Context, _ component.Host) error {
	if e.verifier != nil {
		return nil
	}
	secret, err := apikey.LoadOrCreateSecret(string(e.cfg.Secret), e.cfg.SecretFile)
	if e.cfg.Secret == "" && e.cfg.SecretFile == "" {
		err = errors.New("secret or secret_file is required to verify keys")
	}
	if err != nil {
		return fmt.Errorf("apikeyauth: %w", err)
	}
	h, err := apikey.NewHasher(secret)
	if err != nil {
		return fmt.Errorf("apikeyauth: %w", err)
	}
	st, err := storeopen.Open(ctx, string(e.cfg.DatabaseURL), slog.Default())
	if err != nil {
		return fmt.Errorf("apikeyauth: open key store: %w", err)
	}
	v, err := apikey.NewVerifier(apikey.VerifierOptions{Lookup: st, Hasher: h, CacheTTL: e.cfg.CacheTTL})
	if err != nil {
		_ = st.Close()
		return fmt.Errorf("apikeyauth: %w", err)
	}
	e.store, e.verifier = st, v
	return nil
}

func (e *authExtension) Shutdown(context.Context) error {
	if e.store != nil {
		return e.store.Close()
	}
	return nil
}

// Authenticate accepts a request carrying a live key with the configured
// scope and records the key's tenant in client.Info.Auth.
func (e *authExtension) Authenticate(ctx context.Context, sources map[string][]string) (context.Context, error) {
	if e.verifier == nil {
		return ctx, errors.New("apikeyauth: not started")
	}
	k, err := e.verifier.Verify(ctx, apikey.FromHeaders(sources), e.cfg.Scope)
	if err != nil {
		e.rejected.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", apikey.Reason(err))))
		if apikey.Reason(err) == "auth_error" {
			// Storage trouble, not a bad key: log the detail, tell the
			// client to retry (gRPC keeps a status error's code), and never
			// echo database errors to unauthenticated callers.
			e.logger.Error("cannot verify API key", zap.Error(err))
			return ctx, status.Error(codes.Unavailable, "cannot verify the API key right now; retry shortly")
		}
		if errors.Is(err, apikey.ErrScope) {
			return ctx, forbiddenError{err}
		}
		return ctx, err
	}
	info := client.FromContext(ctx)
	info.Auth = authData{key: k}
	return client.NewContext(ctx, info), nil
}

// forbiddenError is a valid key without the scope: gRPC keeps its
// PermissionDenied code (configgrpc passes status errors through), while
// confighttp answers every authentication error with 401.
type forbiddenError struct{ err error }

func (f forbiddenError) Error() string { return f.err.Error() }
func (f forbiddenError) Unwrap() error { return f.err }
func (f forbiddenError) GRPCStatus() *status.Status {
	return status.New(codes.PermissionDenied, f.err.Error())
}

// authData exposes the tenant of a verified key to processors.
type authData struct{ key storage.APIKey }

func (a authData) GetAttribute(name string) any {
	switch name {
	case llmcall.AttrOrgID:
		return a.key.OrgID
	case llmcall.AttrProjectID:
		return a.key.ProjectID
	case "observatory.api_key.id":
		return a.key.ID
	case "observatory.api_key.scopes":
		return slices.Clone(a.key.Scopes)
	}
	return nil
}

func (a authData) GetAttributeNames() []string {
	return []string{llmcall.AttrOrgID, llmcall.AttrProjectID, "observatory.api_key.id", "observatory.api_key.scopes"}
}

// GetHTTPHandler counts HTTP ingest outcomes. The OTLP receiver answers
// malformed bodies, oversized bodies and wrong content types itself; this
// wrapper sees its status and makes each a metric by reason.
func (e *authExtension) GetHTTPHandler(context.Context) (extensionmiddleware.WrapHTTPHandlerFunc, error) {
	return func(_ context.Context, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			e.requests.Add(r.Context(), 1, metric.WithAttributes(
				attribute.String("transport", "http"),
				attribute.String("outcome", httpOutcome(rec.status(), rec.head.String()))))
		}), nil
	}, nil
}

// GetGRPCServerOptions adds a stats handler that sees every RPC's final
// status, including size-limit refusals that happen before interceptors.
func (e *authExtension) GetGRPCServerOptions(context.Context) ([]grpc.ServerOption, error) {
	return []grpc.ServerOption{grpc.StatsHandler(grpcOutcomes{e})}, nil
}

func httpOutcome(code int, body string) string {
	switch {
	case code < 300:
		return "ok"
	case code == http.StatusRequestEntityTooLarge || strings.Contains(body, "too large"):
		return "too_large"
	case code == http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case code == http.StatusUnauthorized:
		return "unauthenticated"
	case code == http.StatusForbidden:
		return "forbidden"
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return "throttled"
	case code >= 500:
		return "server_error"
	case code == http.StatusBadRequest:
		return "bad_request"
	}
	return "other"
}

func grpcOutcome(err error) string {
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.OK:
		return "ok"
	case codes.InvalidArgument:
		return "bad_request"
	case codes.ResourceExhausted:
		if strings.Contains(st.Message(), "larger than max") {
			return "too_large"
		}
		return "throttled"
	case codes.Unauthenticated:
		return "unauthenticated"
	case codes.PermissionDenied:
		return "forbidden"
	case codes.Unavailable:
		return "throttled"
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return "server_error"
	}
	return "other"
}

type grpcOutcomes struct{ e *authExtension }

func (g grpcOutcomes) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (g grpcOutcomes) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if end, ok := s.(*stats.End); ok {
		g.e.requests.Add(ctx, 1, metric.WithAttributes(
			attribute.String("transport", "grpc"),
			attribute.String("outcome", grpcOutcome(end.Error))))
	}
}
func (g grpcOutcomes) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (g grpcOutcomes) HandleConn(context.Context, stats.ConnStats)                       {}

// statusRecorder keeps the status and the start of an error body.
type statusRecorder struct {
	http.ResponseWriter
	code int
	head strings.Builder
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if r.code >= 400 && r.head.Len() < 512 {
		r.head.Write(b[:min(len(b), 512-r.head.Len())])
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
