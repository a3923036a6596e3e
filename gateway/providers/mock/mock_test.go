package mock

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/gateway/providers"
)

func chatReq(t *testing.T, body string) *providers.ChatRequest {
	req, e := api.ParseChatRequest([]byte(body))
	require.Nil(t, e)
	return &providers.ChatRequest{Body: req, Model: req.Model, IncludeUsage: true}
}

func TestDeterministicReplies(t *testing.T) {
	m, err := New(Options{OutputTokens: 5})
	require.NoError(t, err)
	r1, err := m.Chat(context.Background(), chatReq(t, `{"model":"x","messages":[{"role":"user","content":"hello"}]}`))
	require.NoError(t, err)
	r2, _ := m.Chat(context.Background(), chatReq(t, `{"model":"x","messages":[{"role":"user","content":"hello"}]}`))
	require.Equal(t, *r1.Response.Choices[0].Message.Content, *r2.Response.Choices[0].Message.Content)
	require.Len(t, strings.Fields(*r1.Response.Choices[0].Message.Content), 5)
	r3, _ := m.Chat(context.Background(), chatReq(t, `{"model":"x","max_tokens":2,"messages":[{"role":"user","content":"hello"}]}`))
	require.Equal(t, "length", r3.Response.Choices[0].FinishReason)
	require.Equal(t, 2, r3.Response.Usage.CompletionTokens)
}

func TestErrorRate(t *testing.T) {
	m, err := New(Options{ErrorRate: 0.5, ErrorStatus: 429, Seed: 7})
	require.NoError(t, err)
	fails := 0
	for range 1000 {
		_, err := m.Chat(context.Background(), chatReq(t, `{"model":"x","messages":[{"role":"user","content":"a"}]}`))
		var pe *providers.Error
		if errors.As(err, &pe) {
			require.Equal(t, providers.Retryable, pe.Class)
			require.Positive(t, pe.RetryAfter)
			fails++
		}
	}
	require.InDelta(t, 500, fails, 60)
	_, err = New(Options{ErrorRate: 2})
	require.Error(t, err)
}

func TestHandlerSpeaksOpenAI(t *testing.T) {
	m, err := New(Options{OutputTokens: 3})
	require.NoError(t, err)
	srv := httptest.NewServer(NewHandler(m, HandlerOptions{APIKey: "k"}))
	defer srv.Close()
	post := func(path, key, body string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, _ := post("/v1/chat/completions", "wrong", `{}`)
	require.Equal(t, 401, resp.StatusCode)
	resp, b := post("/v1/chat/completions", "k", `{"model":"x","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a"}]}`)
	require.Equal(t, 200, resp.StatusCode)
	require.True(t, strings.HasSuffix(b, "data: [DONE]\n\n"))
	require.Contains(t, b, `"usage":{"prompt_tokens"`)
	resp, b = post("/v1/embeddings", "k", `{"model":"e","input":["a","b"],"dimensions":8}`)
	require.Equal(t, 200, resp.StatusCode)
	var er api.EmbeddingsResponse
	require.NoError(t, json.Unmarshal([]byte(b), &er))
	var v []float32
	require.NoError(t, json.Unmarshal(er.Data[1].Embedding, &v))
	require.Len(t, v, 8)
}
