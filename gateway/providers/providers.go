// Package providers defines how the gateway talks to an LLM provider: the
// Provider interface (chat, streamed chat, embeddings in OpenAI's wire
// shape), the error classification the gateway's retry and fallback logic
// acts on, the Secret type that keeps provider keys out of logs, spans and
// errors, and the shared HTTP transport every provider reuses connections
// from. Implementations live in the sub-packages mock, openai (also Azure
// OpenAI) and anthropic.
package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/llm-observatory/observatory/gateway/api"
)

// Provider names as recorded in gen_ai.provider.name.
const (
	NameOpenAI      = "openai"
	NameAzureOpenAI = "azure.ai.openai"
	NameAnthropic   = "anthropic"
	NameMock        = "mock"
)

// Provider is one configured upstream. Implementations are safe for
// concurrent use. Every method honours ctx: cancelling it aborts the
// upstream request.
type Provider interface {
	// Name is the gen_ai.provider.name of the upstream.
	Name() string
	// Chat performs a non-streamed chat completion.
	Chat(ctx context.Context, req *ChatRequest) (*ChatResponse, error)
	// ChatStream starts a streamed chat completion. It returns once the
	// upstream accepted the request (response headers received); errors
	// up to then are classified like Chat's.
	ChatStream(ctx context.Context, req *ChatRequest) (ChatStream, error)
	// Embeddings computes embeddings.
	Embeddings(ctx context.Context, req *EmbeddingsRequest) (*EmbeddingsResponse, error)
}

// ChatRequest is a chat call as the gateway hands it to a provider.
type ChatRequest struct {
	// Body is the caller's validated request. Providers must not modify it.
	Body *api.ChatRequest
	// Model is the upstream model (or Azure deployment) to call.
	Model string
	// IncludeUsage asks the upstream for the usage chunk of a stream.
	IncludeUsage bool
	// Header is extra request headers (x-request-id, traceparent).
	Header http.Header
	// Timer accumulates time spent waiting on the upstream; may be nil.
	Timer *UpstreamTimer
}

// ChatResponse is a chat completion in OpenAI's shape: Response, or Raw,
// or both.
type ChatResponse struct {
	// Response is the decoded completion; nil when only Raw is set (the
	// gateway then decodes Raw off the request path).
	Response *api.ChatResponse
	// Raw, when set, is the exact OpenAI-format body to return to the
	// caller (pass-through from OpenAI-compatible upstreams). It is valid
	// JSON.
	Raw []byte
}

// ChatStream yields the chunks of a streamed completion.
type ChatStream interface {
	// Next returns the next chunk, or io.EOF after the last one. Other
	// errors are classified like Chat's.
	Next() (*api.ChatChunk, error)
	// Close releases the upstream response. Safe to call more than once.
	Close() error
}

// EmbeddingsRequest is an embeddings call.
type EmbeddingsRequest struct {
	Body   *api.EmbeddingsRequest
	Model  string
	Header http.Header
	Timer  *UpstreamTimer
}

// EmbeddingsResponse is the result of an embeddings call: Response, or
// Raw (valid JSON, decoded off the request path), or both.
type EmbeddingsResponse struct {
	Response *api.EmbeddingsResponse
	Raw      []byte
}

// UpstreamTimer accumulates the time a call spent waiting on upstreams so
// the gateway can report its own processing time without it. Safe for
// concurrent use.
type UpstreamTimer struct{ ns atomic.Int64 }

// Add records d of upstream time.
func (t *UpstreamTimer) Add(d time.Duration) {
	if t != nil {
		t.ns.Add(int64(d))
	}
}

// Since records the time elapsed since start and returns now.
func (t *UpstreamTimer) Since(start time.Time) time.Time {
	now := time.Now()
	t.Add(now.Sub(start))
	return now
}

// Total returns the accumulated upstream time.
func (t *UpstreamTimer) Total() time.Duration {
	if t == nil {
		return 0
	}
	return time.Duration(t.ns.Load())
}

// Class says what the gateway should do after a failed upstream attempt.
type Class int

// Classes of upstream errors.
const (
	// Retryable: 429, 5xx, timeouts, network errors. Retry with backoff,
	// then fall back to the next provider.
	Retryable Class = iota + 1
	// Fallback: the provider cannot serve this (its credentials were
	// refused, it does not know the model, it lacks the feature). Do not
	// retry it; try the next provider.
	Fallback
	// Terminal: the request itself is at fault (400, 413, 422) or the
	// caller went away. Return the error to the caller.
	Terminal
)

func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Fallback:
		return "fallback"
	case Terminal:
		return "terminal"
	}
	return "unknown"
}

// Error is a classified upstream failure. Message is safe to show to the
// caller: it never carries provider secrets.
type Error struct {
	Provider string
	// Status is the upstream HTTP status, 0 for transport errors.
	Status int
	Class  Class
	// Reason is a bounded label for metrics and error.type:
	// rate_limited, server_error, timeout, network, auth, not_found,
	// bad_request, unsupported, canceled, bad_response.
	Reason string
	// RetryAfter is the upstream's Retry-After, if any.
	RetryAfter time.Duration
	// Message is the upstream's error message, scrubbed of secrets.
	Message string
	// Type and Code are the upstream's OpenAI-style error type and code.
	Type, Code string
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	b.WriteString(": ")
	if e.Status != 0 {
		b.WriteString("HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteString(" ")
	}
	b.WriteString(e.Reason)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrUnsupported is wrapped when a provider lacks an operation.
var ErrUnsupported = errors.New("operation not supported by this provider")

// Classify returns err as an *Error, classifying unknown errors: context
// cancellation is Terminal (the caller left), deadlines and network
// errors are Retryable.
func Classify(provider string, err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	e := &Error{Provider: provider, Err: RedactError(err)}
	var ne net.Error
	switch {
	case errors.Is(err, ErrUnsupported):
		e.Class, e.Reason = Fallback, "unsupported"
	case errors.Is(err, context.Canceled):
		e.Class, e.Reason = Terminal, "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Class, e.Reason = Retryable, "timeout"
	default:
		e.Class, e.Reason = Retryable, "network"
	}
	return e
}

// StatusError classifies an upstream HTTP error response. message is the
// upstream's error text (already scrubbed by the caller).
func StatusError(provider string, status int, h http.Header, now time.Time, message, typ, code string) *Error {
	e := &Error{Provider: provider, Status: status, Message: message, Type: typ, Code: code, RetryAfter: ParseRetryAfter(h, now)}
	switch {
	case status == http.StatusTooManyRequests:
		e.Class, e.Reason = Retryable, "rate_limited"
	case status == http.StatusRequestTimeout:
		e.Class, e.Reason = Retryable, "timeout"
	case status == http.StatusNotImplemented:
		e.Class, e.Reason = Fallback, "unsupported"
	case status >= 500:
		e.Class, e.Reason = Retryable, "server_error"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// The gateway's own credentials were refused: never echo the
		// upstream's text, which can quote the key.
		e.Class, e.Reason, e.Message = Fallback, "auth", "the upstream provider refused the gateway's credentials"
	case status == http.StatusNotFound:
		e.Class, e.Reason = Fallback, "not_found"
	default:
		e.Class, e.Reason = Terminal, "bad_request"
	}
	return e
}

// ParseRetryAfter reads Retry-After (seconds or an HTTP date), and the
// retry-after-ms header some providers send. Zero when absent or invalid.
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e9 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 || s > 1e6 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Secret is a credential. It prints, logs and marshals as "<secret>".
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return "<secret>" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return `"<secret>"` }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("<secret>") }

// MarshalJSON implements json.Marshaler.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"<secret>"`), nil }

// MarshalText implements encoding.TextMarshaler (also used by YAML).
func (Secret) MarshalText() ([]byte, error) { return []byte("<secret>"), nil }

// Reveal returns the credential, for the one place it is sent.
func (s Secret) Reveal() string { return string(s) }

// Scrub replaces every occurrence of the secrets in s. Secrets shorter
// than 6 bytes are ignored (they would mangle unrelated text).
func Scrub(s string, secrets ...Secret) string {
	for _, sec := range secrets {
		if len(sec) >= 6 && strings.Contains(s, string(sec)) {
			s = strings.ReplaceAll(s, string(sec), "<secret>")
		}
	}
	return s
}

// RedactError rewrites *url.Error so the URL loses its query string and
// user info (where some OpenAI-compatible endpoints carry keys).
func RedactError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return &url.Error{Op: ue.Op, URL: "<redacted>", Err: ue.Err}
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "<redacted>"
	}
	return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
}

// Drain discards (a bounded amount of) the rest of a response body and
// closes it so the connection can be reused.
func Drain(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

// ReadBody reads at most limit bytes of a response body.
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("upstream response larger than %d bytes", limit)
	}
	return b, nil
}

// TransportOptions configure the shared transport.
type TransportOptions struct {
	// MaxIdleConnsPerHost bounds kept-alive connections per upstream host
	// [256].
	MaxIdleConnsPerHost int
	// DialTimeout bounds connecting [10s].
	DialTimeout time.Duration
	// IdleConnTimeout closes unused connections [90s].
	IdleConnTimeout time.Duration
}

// NewTransport returns the HTTP transport all providers share, tuned for
// many concurrent requests to few hosts.
func NewTransport(o TransportOptions) *http.Transport {
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 256
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.IdleConnTimeout <= 0 {
		o.IdleConnTimeout = 90 * time.Second
	}
	d := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          o.MaxIdleConnsPerHost * 4,
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		IdleConnTimeout:       o.IdleConnTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Compressed responses are decoded by the transport.
		DisableCompression: false,
	}
}

// MaxResponseBytes bounds a non-streamed upstream response.
const MaxResponseBytes = 64 << 20
