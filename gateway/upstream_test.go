package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"gopkg.in/yaml.v3"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/internal/llmcall"
)

const secretKey = "sk-live-SECRET-0123456789abcdefXYZ"

// upstream is an httptest server that records requests.
type upstream struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []recorded
	calls atomic.Int64
}

type recorded struct {
	method, path, query string
	header              http.Header
	body                map[string]any
}

func newUpstream(t testing.TB, h func(w http.ResponseWriter, r *http.Request, n int64)) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := recorded{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone()}
		_ = json.Unmarshal(b, &rec.body)
		u.mu.Lock()
		u.reqs = append(u.reqs, rec)
		u.mu.Unlock()
		h(w, r, u.calls.Add(1))
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) last() recorded {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.reqs[len(u.reqs)-1]
}

func fixture(t testing.TB, name string) []byte {
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeStream(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	fl := w.(http.Flusher)
	for _, ev := range bytes.SplitAfter(body, []byte("\n\n")) {
		_, _ = w.Write(ev)
		fl.Flush()
	}
}

func providerConfig(t testing.TB, providers, models string) *Config {
	return mustConfig(t, "providers:\n"+providers+"\nmodels:\n"+models)
}

func TestOpenAIUpstreamPassThrough(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int64) {
		writeJSON(w, 200, fixture(t, "openai_chat.json"))
	})
	cfg := providerConfig(t, fmt.Sprintf(`
  oai: {type: openai, base_url: %q, api_key: %q}`, up.URL+"/v1", secretKey), `
  gpt-4o: {provider: oai, model: gpt-4o-2024-08-06}`)
	h := newHarness(t, cfg)
	resp, b := h.do("POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":0,"response_format":{"type":"json_object"}}`,
		"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "x-request-id", "rid-42")
	require.Equal(t, 200, resp.StatusCode, string(b))
	require.JSONEq(t, string(fixture(t, "openai_chat.json")), string(b), "the upstream body passes through")

	got := up.last()
	require.Equal(t, "/v1/chat/completions", got.path)
	require.Equal(t, "Bearer "+secretKey, got.header.Get("Authorization"))
	require.Equal(t, "rid-42", got.header.Get("X-Request-Id"))
	require.True(t, strings.HasPrefix(got.header.Get("Traceparent"), "00-0af7651916cd43dd8448eb211c80319c-"), got.header.Get("Traceparent"))
	require.Equal(t, "gpt-4o-2024-08-06", got.body["model"])
	require.Equal(t, 0.0, got.body["temperature"], "explicit zero is kept")
	require.Equal(t, map[string]any{"type": "json_object"}, got.body["response_format"])

	s := h.waitSpans("prj_a", 1)[0]
	a := attrs(s)
	require.Equal(t, "openai", a[llmcall.AttrProvider])
	require.Equal(t, "gpt-4o", a[llmcall.AttrRequestModel])
	require.Equal(t, "gpt-4o-2024-08-06", a[llmcall.AttrResponseModel])
	require.EqualValues(t, 19, a[llmcall.AttrInputTokens])
	require.EqualValues(t, 8, a[llmcall.AttrCacheReadTokens])
	require.Equal(t, "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", a[AttrResponseID])
	// The upstream's traceparent names the gateway span.
	require.Contains(t, got.header.Get("Traceparent"), s.SpanContext.SpanID().String())
}

func TestOpenAIUpstreamStream(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int64) {
		writeStream(w, fixture(t, "openai_stream.txt"))
	})
	cfg := providerConfig(t, fmt.Sprintf(`
  oai: {type: openai, base_url: %q}`, up.URL+"/v1"), `
  gpt-4o: {provider: oai, model: gpt-4o-2024-08-06}`)
	h := newHarness(t, cfg)
	resp, b := h.do("POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	require.Equal(t, 200, resp.StatusCode, string(b))
	// The gateway asked for usage although the caller did not…
	require.Equal(t, map[string]any{"include_usage": true}, up.last().body["stream_options"])
	require.Empty(t, up.last().header.Get("Authorization"), "no key configured, none sent")
	// …and did not relay the usage chunk.
	events := readSSE(t, b)
	require.Len(t, events, 5)
	require.Equal(t, "[DONE]", events[4])
	require.NotContains(t, string(b), `"usage"`)
	a := attrs(h.waitSpans("prj_a", 1)[0])
	require.EqualValues(t, 3, a[llmcall.AttrOutputTokens])
	require.Contains(t, a[llmcall.AttrOutputMessages], `"content":"Hello there!"`)
	require.Equal(t, []string{"stop"}, a[llmcall.AttrFinishReasons])
}

func TestAzureOpenAIURLScheme(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int64) {
		if strings.HasSuffix(r.URL.Path, "/embeddings") {
			writeJSON(w, 200, []byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}}`))
			return
		}
		writeJSON(w, 200, fixture(t, "openai_chat.json"))
	})
	cfg := providerConfig(t, fmt.Sprintf(`
  az:
    type: azure_openai
    base_url: %q
    api_key: %q
    deployments: {gpt-4o: prod-gpt4o}`, up.URL, secretKey), `
  gpt-4o: {provider: az}
  emb: {provider: az, model: text-embedding-3-small}`)
	h := newHarness(t, cfg)
	resp, b := h.do("POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	require.Equal(t, 200, resp.StatusCode, string(b))
	got := up.last()
	require.Equal(t, "/openai/deployments/prod-gpt4o/chat/completions", got.path)
	require.Equal(t, "api-version=2024-10-21", got.query)
	require.Equal(t, secretKey, got.header.Get("api-key"))
	require.Empty(t, got.header.Get("Authorization"))

	resp, b = h.do("POST", "/v1/embeddings", keyA, `{"model":"emb","input":"hi"}`)
	require.Equal(t, 200, resp.StatusCode, string(b))
	require.Equal(t, "/openai/deployments/text-embedding-3-small/embeddings", up.last().path)
	spans := h.waitSpans("prj_a", 2)
	require.Equal(t, "azure.ai.openai", attrs(spans[0])[llmcall.AttrProvider])
}

func TestAnthropicTranslation(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int64) {
		if strings.Contains(r.Header.Get("Accept"), "event-stream") {
			writeStream(w, fixture(t, "anthropic_stream.txt"))
			return
		}
		writeJSON(w, 200, fixture(t, "anthropic_message.json"))
	})
	cfg := providerConfig(t, fmt.Sprintf(`
  claude: {type: anthropic, base_url: %q, api_key: %q, default_max_tokens: 1000}`, up.URL, secretKey), `
  sonnet: {provider: claude, model: claude-sonnet-4-20250514}`)
	h := newHarness(t, cfg)
	req := `{"model":"sonnet","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":[{"type":"text","text":"Weather in Paris?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}],
		"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}],"tool_choice":"required","stop":"END","temperature":1.5}`
	resp, b := h.do("POST", "/v1/chat/completions", keyA, req)
	require.Equal(t, 200, resp.StatusCode, string(b))
	got := up.last()
	require.Equal(t, "/v1/messages", got.path)
	require.Equal(t, secretKey, got.header.Get("x-api-key"))
	require.Equal(t, "2023-06-01", got.header.Get("anthropic-version"))
	require.Equal(t, "claude-sonnet-4-20250514", got.body["model"])
	require.EqualValues(t, 1000, got.body["max_tokens"])
	require.EqualValues(t, 1, got.body["temperature"], "clamped to Anthropic's range")
	require.Equal(t, []any{map[string]any{"type": "text", "text": "You are terse."}}, got.body["system"])
	require.Equal(t, []any{"END"}, got.body["stop_sequences"])
	require.Equal(t, map[string]any{"type": "any"}, got.body["tool_choice"])
	msgs := got.body["messages"].([]any)
	require.Len(t, msgs, 1)
	content := msgs[0].(map[string]any)["content"].([]any)
	require.Equal(t, map[string]any{"type": "image", "source": map[string]any{"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}, content[1])
	tools := got.body["tools"].([]any)
	require.Equal(t, "get_weather", tools[0].(map[string]any)["name"])

	var cr api.ChatResponse
	require.NoError(t, json.Unmarshal(b, &cr))
	require.Equal(t, "tool_calls", cr.Choices[0].FinishReason)
	require.Equal(t, "Let me check the weather.", *cr.Choices[0].Message.Content)
	require.Equal(t, `{"location": "Paris"}`, cr.Choices[0].Message.ToolCalls[0].Function.Arguments)
	require.Equal(t, 117, cr.Usage.PromptTokens, "input + cache read + cache write")
	require.Equal(t, 100, cr.Usage.PromptTokensDetails.CachedTokens)

	// Streaming: Anthropic's event stream becomes OpenAI chunks.
	resp, b = h.do("POST", "/v1/chat/completions", keyA, `{"model":"sonnet","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Weather in SF?"}]}`)
	require.Equal(t, 200, resp.StatusCode, string(b))
	events := readSSE(t, b)
	require.Equal(t, "[DONE]", events[len(events)-1])
	var text, args strings.Builder
	var finish string
	var usage *api.Usage
	for _, e := range events[:len(events)-1] {
		var c api.ChatChunk
		require.NoError(t, json.Unmarshal([]byte(e), &c), e)
		if c.Usage != nil {
			usage = c.Usage
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				text.WriteString(*ch.Delta.Content)
			}
			for _, tc := range ch.Delta.ToolCalls {
				if tc.ID != "" {
					require.Equal(t, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", tc.ID)
					require.Equal(t, "get_weather", tc.Function.Name)
				}
				args.WriteString(tc.Function.Arguments)
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
	}
	require.Equal(t, "Okay, let's check the weather.", text.String())
	require.Equal(t, `{"location": "San Francisco, CA"}`, args.String())
	require.Equal(t, "tool_calls", finish)
	require.Equal(t, &api.Usage{PromptTokens: 472, CompletionTokens: 89, TotalTokens: 561}, usage)

	spans := h.waitSpans("prj_a", 2)
	a := attrs(spans[1])
	require.Equal(t, "anthropic", a[llmcall.AttrProvider])
	require.EqualValues(t, 472, a[llmcall.AttrInputTokens])
	require.EqualValues(t, 89, a[llmcall.AttrOutputTokens])
	require.Contains(t, a[llmcall.AttrOutputMessages], `"type":"tool_call"`)
	require.Contains(t, a[llmcall.AttrOutputMessages], `"finish_reason":"tool_call"`)
	require.EqualValues(t, 5, attrs(spans[0])[llmcall.AttrCacheWriteTokens])
}

func fastRetry(attempts int) string {
	return fmt.Sprintf("retry: {max_attempts: %d, initial_backoff: 1ms, max_backoff: 5ms, max_retry_after: 2s}", attempts)
}

func TestRetryThenSucceed(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		switch n {
		case 1:
			writeJSON(w, 503, []byte(`{"error":{"message":"overloaded","type":"server_error"}}`))
		case 2:
			w.Header().Set("retry-after-ms", "150")
			writeJSON(w, 429, []byte(`{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`))
		default:
			writeJSON(w, 200, fixture(t, "openai_chat.json"))
		}
	})
	cfg := providerConfig(t, fmt.Sprintf(`
  oai: {type: openai, base_url: %q, %s}`, up.URL, fastRetry(3)), `
  gpt-4o: {provider: oai}`)
	h := newHarness(t, cfg)
	start := time.Now()
	resp, b := h.do("POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	require.Equal(t, 200, resp.StatusCode, string(b))
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "Retry-After honoured")
	require.EqualValues(t, 3, up.calls.Load())
	a := attrs(h.waitSpans("prj_a", 1)[0])
	require.EqualValues(t, 3, a[AttrGatewayAttempts])
	require.Nil(t, a[llmcall.AttrErrorType])
	// Backoff waits are upstream time, not gateway overhead.
	require.Equal(t, 1.0, metricValue(h.gw.m.attempts.WithLabelValues("oai", "rate_limited")))
}

func TestFallbackAfterRetries(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		writeJSON(w, 500, []byte(`{"error":{"message":"boom","type":"server_error"}}`))
	})
	cfg := providerConfig(t, fmt.Sprintf(`
  oai: {type: openai, base_url: %q, %s}
  backup: {type: mock}`, up.URL, fastRetry(2)), `
  gpt-4o: {provider: oai, fallbacks: [{provider: backup, model: gpt-4o-mini}]}`)
	h := newHarness(t, cfg)
	resp, b := h.do("POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	require.Equal(t, 200, resp.StatusCode, string(b))
	require.EqualValues(t, 2, up.calls.Load())
	a := attrs(h.waitSpans("prj_a", 1)[0])
	require.Equal(t, true, a[AttrGatewayFallback])
	require.Equal(t, "mock", a[llmcall.AttrProvider])
	require.Equal(t, "backup", a[AttrGatewayProvider])
	require.EqualValues(t, 3, a[AttrGatewayAttempts])
	require.Equal(t, 1.0, metricValue(h.gw.m.fallbacks.WithLabelValues("gpt-4o")))
}

func TestTerminalErrorNotRetried(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		writeJSON(w, 400, []byte(`{"error":{"message":"Invalid 'max_tokens': too large","type":"invalid_request_error","param":"max_tokens","code":"invalid_value"}}`))
	})
	cfg := providerConfig(t, fmt.Sprintf(`
  oai: {type: openai, base_url: %q, %s}
  backup: {type: mock}`, up.URL, fastRetry(3)), `
  gpt-4o: {provider: oai, fallbacks: [{provider: backup}]}`)
	h := newHarness(t, cfg)
	resp, b := h.do("POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	require.Equal(t, 400, resp.StatusCode, string(b))
	e := decodeErr(t, b)
	require.Equal(t, "Invalid 'max_tokens': too large", e.Error.Message)
	require.Equal(t, "invalid_value", deref(e.Error.Code))
	require.EqualValues(t, 1, up.calls.Load())
	s := h.waitSpans("prj_a", 1)[0]
	require.Equal(t, codes.Error, s.Status.Code)
	require.Equal(t, "bad_request", attrs(s)[llmcall.AttrErrorType])
}

func TestUpstreamTimeout(t *testing.T) {
	release := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	cfg := providerConfig(t, fmt.Sprintf(`
  oai: {type: openai, base_url: %q, timeout: 100ms, %s}`, up.URL, fastRetry(2)), `
  gpt-4o: {provider: oai}`)
	h := newHarness(t, cfg)
	resp, b := h.do("POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	require.Equal(t, 504, resp.StatusCode, string(b))
	require.Equal(t, "timeout_error", decodeErr(t, b).Error.Type)
	require.EqualValues(t, 2, up.calls.Load())
	require.Equal(t, "timeout", attrs(h.waitSpans("prj_a", 1)[0])[llmcall.AttrErrorType])
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	cancelled := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		_, _ = io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}`+"\n\n")
		fl.Flush()
		for i := 0; ; i++ {
			select {
			case <-r.Context().Done():
				close(cancelled)
				return
			case <-time.After(20 * time.Millisecond):
				_, _ = fmt.Fprintf(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo%d"},"finish_reason":null}]}`+"\n\n", i)
				fl.Flush()
			}
		}
	})
	cfg := providerConfig(t, fmt.Sprintf(`
  oai: {type: openai, base_url: %q}`, up.URL), `
  gpt-4o: {provider: oai}`)
	h := newHarness(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", h.srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+keyA)
	resp, err := h.srv.Client().Do(req)
	require.NoError(t, err)
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "Hel")
	cancel() // the caller goes away mid-stream
	resp.Body.Close()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request was not cancelled")
	}
	s := h.waitSpans("prj_a", 1)[0]
	a := attrs(s)
	require.Equal(t, true, a[AttrClientGone])
	require.Equal(t, errorClientGone, a[llmcall.AttrErrorType])
	require.Equal(t, codes.Error, s.Status.Code)
	require.Contains(t, a[llmcall.AttrOutputMessages], "Hel")
}

func TestUpstreamFailsMidStream(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, `data: {"error":{"message":"internal failure","type":"server_error"}}`+"\n\n")
	})
	cfg := providerConfig(t, fmt.Sprintf(`
  oai: {type: openai, base_url: %q}`, up.URL), `
  gpt-4o: {provider: oai}`)
	h := newHarness(t, cfg)
	resp, b := h.do("POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	require.Equal(t, 200, resp.StatusCode)
	events := readSSE(t, b)
	require.Len(t, events, 2)
	require.Contains(t, events[1], `"error"`)
	require.Contains(t, events[1], "internal failure")
	s := h.waitSpans("prj_a", 1)[0]
	require.Equal(t, codes.Error, s.Status.Code)
}

// TestProviderSecretsNeverLeak drives every failure path with an upstream
// that echoes the gateway's key back, and checks responses, logs, spans,
// metrics and the printed configuration for the key (Alertmanager's
// AssertNotifyLeaksNoSecret, for the gateway).
func TestProviderSecretsNeverLeak(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request, n int64) {
		key := r.Header.Get("Authorization") + r.Header.Get("api-key") + r.Header.Get("x-api-key")
		msg := fmt.Sprintf(`{"error":{"message":"Incorrect API key provided: %s","type":"invalid_request_error"}}`, strings.TrimPrefix(key, "Bearer "))
		switch n % 4 {
		case 0:
			writeJSON(w, 401, []byte(msg))
		case 1:
			writeJSON(w, 400, []byte(msg))
		case 2:
			writeJSON(w, 500, []byte(msg))
		default:
			writeStream(w, []byte(`data: {"error":{"message":"bad key `+key+`"}}`+"\n\n"))
		}
	}
	oai := newUpstream(t, echo)
	az := newUpstream(t, echo)
	an := newUpstream(t, echo)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	cfg := providerConfig(t, fmt.Sprintf(`
  oai: {type: openai, base_url: %q, api_key: %q, headers: {OpenAI-Organization: %q}, %s}
  az: {type: azure_openai, base_url: %q, api_key: %q, %s}
  an: {type: anthropic, base_url: %q, api_key: %q, %s}
  dead: {type: openai, base_url: %q, api_key: %q, %s}`,
		oai.URL, secretKey, secretKey+"-org", fastRetry(1), az.URL, secretKey, fastRetry(1), an.URL, secretKey, fastRetry(1), deadURL+"/v1", secretKey, fastRetry(1)), `
  m-oai: {provider: oai}
  m-az: {provider: az}
  m-an: {provider: an}
  m-dead: {provider: dead}`)
	h := newHarness(t, cfg)
	var bodies bytes.Buffer
	for _, model := range []string{"m-oai", "m-az", "m-an", "m-dead"} {
		for i := range 4 {
			stream := i%2 == 1
			resp, b := h.do("POST", "/v1/chat/completions", keyA, fmt.Sprintf(`{"model":%q,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`, model, stream))
			bodies.Write(b)
			fmt.Fprintf(&bodies, "%v", resp.Header)
		}
		resp, b := h.do("POST", "/v1/embeddings", keyA, fmt.Sprintf(`{"model":%q,"input":"x"}`, model))
		bodies.Write(b)
		fmt.Fprintf(&bodies, "%v", resp.Header)
	}
	h.flushSpans()
	var spans bytes.Buffer
	for _, s := range h.exp.spans("prj_a") {
		fmt.Fprintf(&spans, "%s %v %v %v\n", s.Name, s.Status, s.Attributes, s.Events)
	}
	require.NotZero(t, spans.Len())
	mfs, err := h.reg.Gather()
	require.NoError(t, err)
	var metricsText bytes.Buffer
	for _, mf := range mfs {
		_, _ = expfmt.MetricFamilyToText(&metricsText, mf)
	}
	yb, _ := yaml.Marshal(cfg)
	jb, _ := json.Marshal(cfg)
	printed := fmt.Sprintf("%v %+v %#v %s %s", cfg, cfg, cfg, yb, jb)
	require.Contains(t, bodies.String(), "refused the gateway's credentials", "the 401 path was exercised")
	for name, text := range map[string]string{"responses": bodies.String(), "logs": h.logs.String(), "spans": spans.String(), "metrics": metricsText.String(), "config": printed} {
		require.NotContains(t, text, "SECRET-0123456789", "secret leaked into %s", name)
	}
	require.Contains(t, h.logs.String(), "upstream attempt failed", "failures were logged")
}
