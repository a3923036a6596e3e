package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

// TestNodeOpenAIClient runs the official openai npm package (pinned in
// e2e/node/package-lock.json, installed with `npm ci`) against a gateway:
// chat, streaming chat with usage, embeddings through the SDK's default
// base64 path, a wrong key, an unknown model, a rate-limited key and a
// call inside the caller's trace; then checks the spans.
func TestNodeOpenAIClient(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: runs npm ci and node")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node is required under CI=true: %v", err)
		}
		t.Skip("node is not installed: skipping the openai npm client end-to-end test")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("npm is required under CI=true: %v", err)
		}
		t.Skip("npm is not installed: skipping the openai npm client end-to-end test")
	}
	dir, err := filepath.Abs("e2e/node")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}

	cfg := DefaultConfig()
	cfg.Limits.Keys = map[string]Limit{"key_l": {RequestsPerMinute: 1}}
	h := newHarness(t, cfg)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	run := exec.CommandContext(ctx, node, "e2e.mjs")
	run.Dir = dir
	run.Env = append(os.Environ(),
		"GATEWAY_URL="+h.srv.URL+"/v1", "GATEWAY_KEY="+keyA, "LIMITED_KEY="+keyLimited,
		"TRACEPARENT=00-"+traceID+"-00f067aa0ba902b7-01")
	var stdout, stderr bytes.Buffer
	run.Stdout, run.Stderr = &stdout, &stderr
	require.NoError(t, run.Run(), "node e2e.mjs: %s", stderr.String())

	var out struct {
		Chat struct {
			Content   string         `json:"content"`
			Finish    string         `json:"finish"`
			Usage     map[string]int `json:"usage"`
			RequestID string         `json:"requestID"`
		} `json:"chat"`
		Stream struct {
			Text   string         `json:"text"`
			Usage  map[string]int `json:"usage"`
			Chunks int            `json:"chunks"`
		} `json:"stream"`
		Embeddings struct {
			Count int            `json:"count"`
			Dims  int            `json:"dims"`
			First float64        `json:"first"`
			Usage map[string]int `json:"usage"`
		} `json:"embeddings"`
		WrongKey     errInfo `json:"wrongKey"`
		UnknownModel errInfo `json:"unknownModel"`
		RateLimited  struct {
			Calls []errInfo `json:"calls"`
		} `json:"rateLimited"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), stdout.String())

	require.NotEmpty(t, out.Chat.Content)
	require.Equal(t, "stop", out.Chat.Finish)
	require.Equal(t, 16, out.Chat.Usage["completion_tokens"])
	require.Equal(t, "node-chat-1", out.Chat.RequestID)
	require.NotEmpty(t, out.Stream.Text)
	require.Equal(t, 16, out.Stream.Usage["completion_tokens"], "streaming usage chunk")
	require.Equal(t, 2, out.Embeddings.Count)
	require.Equal(t, 256, out.Embeddings.Dims)
	require.NotZero(t, out.Embeddings.First, "base64 decoded to floats by the SDK")
	require.True(t, out.WrongKey.IsAuth, "%+v", out.WrongKey)
	require.Equal(t, 401, out.WrongKey.Status)
	require.Equal(t, "invalid_api_key", out.WrongKey.Code)
	require.True(t, out.UnknownModel.IsAPIError && out.UnknownModel.IsNotFound, "%+v", out.UnknownModel)
	require.Equal(t, 404, out.UnknownModel.Status)
	require.Equal(t, "model_not_found", out.UnknownModel.Code)
	require.Len(t, out.RateLimited.Calls, 2)
	require.True(t, out.RateLimited.Calls[0].OK)
	require.True(t, out.RateLimited.Calls[1].IsRateLimit, "%+v", out.RateLimited.Calls[1])
	require.Equal(t, 429, out.RateLimited.Calls[1].Status)
	require.Equal(t, "60", out.RateLimited.Calls[1].RetryAfter)

	// chat, stream, embeddings, unknown model, traced (wrong key: no span)
	// + the limited key's two calls (one served, one 429).
	spans := h.waitSpans("prj_a", 7)
	var traced, streamed int
	for _, s := range spans {
		a := attrs(s)
		if s.SpanContext.TraceID().String() == traceID {
			traced++
			require.Equal(t, "00f067aa0ba902b7", s.Parent.SpanID().String())
		}
		if a[AttrGatewayStream] == true {
			streamed++
			require.EqualValues(t, 16, a[llmcall.AttrOutputTokens])
		}
	}
	require.Equal(t, 1, traced)
	require.Equal(t, 1, streamed)
}

type errInfo struct {
	OK          bool   `json:"ok"`
	Name        string `json:"name"`
	IsAPIError  bool   `json:"isAPIError"`
	IsAuth      bool   `json:"isAuth"`
	IsNotFound  bool   `json:"isNotFound"`
	IsRateLimit bool   `json:"isRateLimit"`
	Status      int    `json:"status"`
	Code        string `json:"code"`
	Type        string `json:"type"`
	RetryAfter  string `json:"retryAfter"`
}
