package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/gateway/providers"
)

func chatReq(t *testing.T, body string) *providers.ChatRequest {
	req, e := api.ParseChatRequest([]byte(body))
	require.Nil(t, e)
	return &providers.ChatRequest{Body: req, Model: "up-model", IncludeUsage: true, Timer: &providers.UpstreamTimer{}}
}

func TestNewValidates(t *testing.T) {
	for _, o := range []Options{
		{Flavor: "x"},
		{Flavor: FlavorAzure},
		{BaseURL: "ftp://x"},
		{BaseURL: "https://u:p@host/v1"},
		{BaseURL: "https://host/v1?key=1"},
	} {
		_, err := New(o)
		require.Error(t, err, "%+v", o)
	}
	p, err := New(Options{})
	require.NoError(t, err)
	require.Equal(t, "https://api.openai.com/v1/chat/completions", p.url("m", "chat/completions"))
	az, err := New(Options{Flavor: FlavorAzure, BaseURL: "https://r.openai.azure.com/", Deployments: map[string]string{"gpt-4o": "dep 1"}})
	require.NoError(t, err)
	require.Equal(t, "https://r.openai.azure.com/openai/deployments/dep%201/embeddings?api-version=2024-10-21", az.url("gpt-4o", "embeddings"))
	require.Equal(t, "azure.ai.openai", az.Name())
}

func TestStreamAndErrors(t *testing.T) {
	var sawBody map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &sawBody)
		switch r.Header.Get("X-Case") {
		case "numeric-code":
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(429)
			_, _ = io.WriteString(w, `{"error":{"message":"too many","type":"requests","code":429}}`)
		case "html":
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "<html>bad gateway</html>")
		case "garbage":
			_, _ = io.WriteString(w, "not json")
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, ": keep-alive\n\ndata: {\"id\":\"1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n")
		}
	}))
	defer srv.Close()
	p, err := New(Options{BaseURL: srv.URL, APIKey: "sk-test-123456"})
	require.NoError(t, err)
	ctx := context.Background()

	req := chatReq(t, `{"model":"alias","stream":true,"stream_options":{"include_obfuscation":false},"messages":[{"role":"user","content":"x"}]}`)
	st, err := p.ChatStream(ctx, req)
	require.NoError(t, err)
	c, err := st.Next()
	require.NoError(t, err)
	require.Equal(t, "hi", *c.Choices[0].Delta.Content)
	_, err = st.Next()
	require.ErrorIs(t, err, io.EOF)
	require.NoError(t, st.Close())
	require.Equal(t, "up-model", sawBody["model"])
	require.Equal(t, map[string]any{"include_usage": true, "include_obfuscation": false}, sawBody["stream_options"])

	req = chatReq(t, `{"model":"alias","messages":[{"role":"user","content":"x"}]}`)
	req.Header = http.Header{"X-Case": {"numeric-code"}}
	_, err = p.Chat(ctx, req)
	var pe *providers.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, providers.Retryable, pe.Class)
	require.Equal(t, 3*time.Second, pe.RetryAfter)
	require.Equal(t, "too many", pe.Message)

	req.Header = http.Header{"X-Case": {"html"}}
	_, err = p.Chat(ctx, req)
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "server_error", pe.Reason)
	require.Contains(t, pe.Message, "bad gateway")

	req.Header = http.Header{"X-Case": {"garbage"}}
	_, err = p.Chat(ctx, req)
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "bad_response", pe.Reason)
	require.Positive(t, req.Timer.Total())
}

func TestTimeoutIsRetryable(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	p, err := New(Options{BaseURL: srv.URL, Timeout: 50 * time.Millisecond})
	require.NoError(t, err)
	_, err = p.Chat(context.Background(), chatReq(t, `{"model":"a","messages":[{"role":"user","content":"x"}]}`))
	var pe *providers.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "timeout", pe.Reason)
	require.Equal(t, providers.Retryable, pe.Class)
	require.Contains(t, pe.Error(), "upstream timeout (50ms) reached")

	// The caller leaving is terminal, not a timeout.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err = p.ChatStream(ctx, chatReq(t, `{"model":"a","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "canceled", pe.Reason)
	require.True(t, errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "canceled"))
}
