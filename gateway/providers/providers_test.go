package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStatusErrorClassification(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for status, want := range map[int]Class{
		429: Retryable, 408: Retryable, 500: Retryable, 502: Retryable, 503: Retryable, 504: Retryable, 529: Retryable,
		501: Fallback, 401: Fallback, 403: Fallback, 404: Fallback,
		400: Terminal, 413: Terminal, 422: Terminal,
	} {
		e := StatusError("p", status, http.Header{}, now, "msg", "", "")
		require.Equal(t, want, e.Class, "status %d", status)
	}
	e := StatusError("p", 401, http.Header{}, now, "Incorrect API key provided: sk-abc", "", "")
	require.NotContains(t, e.Error(), "sk-abc", "auth failures are never echoed")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(k, v string) http.Header { x := http.Header{}; x.Set(k, v); return x }
	require.Equal(t, 2*time.Second, ParseRetryAfter(h("Retry-After", "2"), now))
	require.Equal(t, 1500*time.Millisecond, ParseRetryAfter(h("Retry-After", "1.5"), now))
	require.Equal(t, 250*time.Millisecond, ParseRetryAfter(h("retry-after-ms", "250"), now))
	require.Equal(t, 10*time.Second, ParseRetryAfter(h("Retry-After", now.Add(10*time.Second).Format(http.TimeFormat)), now))
	require.Zero(t, ParseRetryAfter(h("Retry-After", "soon"), now))
	require.Zero(t, ParseRetryAfter(h("Retry-After", "-1"), now))
}

func TestClassify(t *testing.T) {
	require.Equal(t, Terminal, Classify("p", context.Canceled).Class)
	require.Equal(t, "timeout", Classify("p", fmt.Errorf("x: %w", context.DeadlineExceeded)).Reason)
	require.Equal(t, "network", Classify("p", errors.New("connection refused")).Reason)
	require.Equal(t, Fallback, Classify("p", fmt.Errorf("x: %w", ErrUnsupported)).Class)
	pe := &Error{Class: Terminal, Reason: "bad_request"}
	require.Same(t, pe, Classify("p", fmt.Errorf("wrapped: %w", pe)))
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("sk-very-secret-value")
	var b strings.Builder
	fmt.Fprintf(&b, "%v %s %+v %#v %q", s, s, s, s, s)
	j, _ := json.Marshal(struct{ K Secret }{s})
	b.Write(j)
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "key", s)
	require.NotContains(t, b.String(), "very-secret")
	require.Equal(t, "sk-very-secret-value", s.Reveal())
	require.Equal(t, "key <secret> here", Scrub("key sk-very-secret-value here", s, Secret("")))
}

func TestRedactError(t *testing.T) {
	err := RedactError(&url.Error{Op: "Post", URL: "https://user:pw@host/v1/chat?key=abc", Err: errors.New("dial")})
	require.Equal(t, `Post "https://host/v1/chat?<redacted>": dial`, err.Error())
}
