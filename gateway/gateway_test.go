package gateway

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/internal/llmcall"
)

const chatBody = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello"}]}`

func TestChatCompletionJSON(t *testing.T) {
	h := newHarness(t, nil)
	parent := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	resp, b := h.do("POST", "/v1/chat/completions", keyA, chatBody, "traceparent", parent, "x-request-id", "my-req-1",
		HeaderEndpoint, "support-bot", HeaderSession, "sess-9")
	require.Equal(t, 200, resp.StatusCode, string(b))
	require.Equal(t, "my-req-1", resp.Header.Get("x-request-id"))
	var cr api.ChatResponse
	require.NoError(t, json.Unmarshal(b, &cr))
	require.Equal(t, "chat.completion", cr.Object)
	require.Equal(t, "gpt-4o-mini", cr.Model)
	require.Len(t, cr.Choices, 1)
	require.Equal(t, "stop", cr.Choices[0].FinishReason)
	require.NotEmpty(t, *cr.Choices[0].Message.Content)
	require.Equal(t, 16, cr.Usage.CompletionTokens)

	spans := h.waitSpans("prj_a", 1)
	s := spans[0]
	a := attrs(s)
	require.Equal(t, "chat gpt-4o-mini", s.Name)
	require.Equal(t, trace.SpanKindClient, s.SpanKind)
	require.Equal(t, "0af7651916cd43dd8448eb211c80319c", s.SpanContext.TraceID().String())
	require.Equal(t, "b7ad6b7169203331", s.Parent.SpanID().String())
	require.Equal(t, "chat", a[llmcall.AttrOperation])
	require.Equal(t, "mock", a[llmcall.AttrProvider])
	require.Equal(t, "gpt-4o-mini", a[llmcall.AttrRequestModel])
	require.Equal(t, "gpt-4o-mini", a[llmcall.AttrResponseModel])
	require.EqualValues(t, cr.Usage.PromptTokens, a[llmcall.AttrInputTokens])
	require.EqualValues(t, 16, a[llmcall.AttrOutputTokens])
	require.Equal(t, []string{"stop"}, a[llmcall.AttrFinishReasons])
	require.Equal(t, "my-req-1", a[AttrRequestIDHeader])
	require.Equal(t, "support-bot", a[llmcall.AttrEndpoint])
	require.Equal(t, "sess-9", a[llmcall.AttrConversationID])
	require.EqualValues(t, 200, a[llmcall.AttrHTTPStatus])
	require.JSONEq(t, `[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"type":"text","content":"Say hello"}]}]`, a[llmcall.AttrInputMessages].(string))
	var out []map[string]any
	require.NoError(t, json.Unmarshal([]byte(a[llmcall.AttrOutputMessages].(string)), &out))
	require.Equal(t, "assistant", out[0]["role"])
	require.Equal(t, "stop", out[0]["finish_reason"])
	svc, _ := s.Resource.Set().Value("service.name")
	require.Equal(t, "observatory-gateway", svc.AsString())
	require.Equal(t, codes.Unset, s.Status.Code)
	require.True(t, s.EndTime.After(s.StartTime) || s.EndTime.Equal(s.StartTime))
}

func TestRequestIDGeneratedOnEveryResponse(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct{ method, path, key, body string }{
		{"POST", "/v1/chat/completions", keyA, chatBody},
		{"POST", "/v1/chat/completions", "obs_wrongwrongwrongwrong", chatBody},
		{"GET", "/v1/models", keyA, ""},
		{"GET", "/v1/nope", keyA, ""},
	} {
		resp, _ := h.do(c.method, c.path, c.key, c.body)
		require.True(t, strings.HasPrefix(resp.Header.Get("x-request-id"), "req_"), c.path)
	}
	// A header with spaces or control characters is not echoed.
	resp, _ := h.do("GET", "/v1/models", keyA, "", "x-request-id", "bad id")
	require.NotEqual(t, "bad id", resp.Header.Get("x-request-id"))
}

func readSSE(t testing.TB, body []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

func TestChatStreamUsageOnlyWhenAsked(t *testing.T) {
	h := newHarness(t, nil)
	for _, wantUsage := range []bool{false, true} {
		body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"stream please"}]}`
		if wantUsage {
			body = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"stream please"}]}`
		}
		resp, b := h.do("POST", "/v1/chat/completions", keyA, body)
		require.Equal(t, 200, resp.StatusCode, string(b))
		require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
		events := readSSE(t, b)
		require.Equal(t, "[DONE]", events[len(events)-1])
		var text strings.Builder
		sawUsage := false
		for _, e := range events[:len(events)-1] {
			var c api.ChatChunk
			require.NoError(t, json.Unmarshal([]byte(e), &c), e)
			require.Equal(t, "chat.completion.chunk", c.Object)
			if c.Usage != nil {
				sawUsage = true
				require.Empty(t, c.Choices)
				require.Equal(t, 16, c.Usage.CompletionTokens)
			}
			for _, ch := range c.Choices {
				if ch.Delta.Content != nil {
					text.WriteString(*ch.Delta.Content)
				}
			}
		}
		require.Equal(t, wantUsage, sawUsage)
		require.Len(t, strings.Fields(text.String()), 16)
	}
	spans := h.waitSpans("prj_a", 2)
	for _, s := range spans {
		a := attrs(s)
		// The gateway asked upstream for usage either way.
		require.EqualValues(t, 16, a[llmcall.AttrOutputTokens])
		require.Equal(t, true, a[AttrGatewayStream])
		require.Greater(t, a[llmcall.AttrTimeToFirstChunk].(float64), 0.0)
		require.Contains(t, a[llmcall.AttrOutputMessages], `"finish_reason":"stop"`)
	}
}

func TestEmbeddingsFloatAndBase64(t *testing.T) {
	h := newHarness(t, nil)
	resp, b := h.do("POST", "/v1/embeddings", keyA, `{"model":"text-embedding-3-small","input":["hello","world"]}`)
	require.Equal(t, 200, resp.StatusCode, string(b))
	var er struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
		Usage api.Usage `json:"usage"`
	}
	require.NoError(t, json.Unmarshal(b, &er))
	require.Len(t, er.Data, 2)
	require.Len(t, er.Data[0].Embedding, 256)
	require.Positive(t, er.Usage.PromptTokens)

	resp, b = h.do("POST", "/v1/embeddings", keyA, `{"model":"text-embedding-3-small","input":"hello","encoding_format":"base64"}`)
	require.Equal(t, 200, resp.StatusCode, string(b))
	var eb struct {
		Data []struct {
			Embedding string `json:"embedding"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(b, &eb))
	raw, err := base64.StdEncoding.DecodeString(eb.Data[0].Embedding)
	require.NoError(t, err)
	require.Len(t, raw, 4*256)

	spans := h.waitSpans("prj_a", 2)
	a := attrs(spans[1])
	require.Equal(t, "embeddings", a[llmcall.AttrOperation])
	require.Equal(t, []string{"base64"}, a[AttrEncodingFormats])
	require.Positive(t, a[llmcall.AttrInputTokens])
}

func TestModels(t *testing.T) {
	h := newHarness(t, nil)
	resp, b := h.do("GET", "/v1/models", keyA, "")
	require.Equal(t, 200, resp.StatusCode)
	var ml api.ModelList
	require.NoError(t, json.Unmarshal(b, &ml))
	require.Equal(t, "list", ml.Object)
	ids := []string{}
	for _, m := range ml.Data {
		ids = append(ids, m.ID)
		require.Equal(t, "model", m.Object)
	}
	require.Contains(t, ids, "gpt-4o-mini")
	require.Contains(t, ids, "text-embedding-3-small")
}

func TestErrorsInOpenAIShape(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Server.MaxBodyBytes = 4096
	h := newHarness(t, cfg)
	cases := []struct {
		name, method, path, key, body string
		status                        int
		typ, code, param              string
	}{
		{"missing key", "POST", "/v1/chat/completions", "", chatBody, 401, "invalid_request_error", "", ""},
		{"wrong key", "POST", "/v1/chat/completions", "obs_nopenopenopenopenope", chatBody, 401, "invalid_request_error", "invalid_api_key", ""},
		{"not obs key", "POST", "/v1/chat/completions", "sk-123", chatBody, 401, "invalid_request_error", "invalid_api_key", ""},
		{"read-only key", "POST", "/v1/chat/completions", keyRead, chatBody, 403, "permission_error", "insufficient_scope", ""},
		{"gateway key on ingest", "POST", "/v1/ingest", keyB, `{"records":[]}`, 403, "permission_error", "insufficient_scope", ""},
		{"unknown model", "POST", "/v1/chat/completions", keyA, `{"model":"gpt-nope","messages":[{"role":"user","content":"x"}]}`, 404, "invalid_request_error", "model_not_found", "model"},
		{"unknown embeddings model", "POST", "/v1/embeddings", keyA, `{"model":"nope","input":"x"}`, 404, "invalid_request_error", "model_not_found", "model"},
		{"malformed json", "POST", "/v1/chat/completions", keyA, `{"model":`, 400, "invalid_request_error", "", ""},
		{"unknown field", "POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"frobnicate":1}`, 400, "invalid_request_error", "unknown_parameter", "frobnicate"},
		{"unknown message field", "POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x","mood":"happy"}]}`, 400, "invalid_request_error", "unknown_parameter", "messages[0].mood"},
		{"wrong type", "POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"temperature":"hot"}`, 400, "invalid_request_error", "invalid_type", "temperature"},
		{"no messages", "POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o-mini","messages":[]}`, 400, "invalid_request_error", "empty_array", "messages"},
		{"bad role", "POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o-mini","messages":[{"role":"wizard","content":"x"}]}`, 400, "invalid_request_error", "invalid_value", "messages[0].role"},
		{"stream_options without stream", "POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o-mini","stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", "invalid_value", "stream_options"},
		{"huge body", "POST", "/v1/chat/completions", keyA, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("x", 5000) + `"}]}`, 413, "invalid_request_error", "request_too_large", ""},
		{"empty input", "POST", "/v1/embeddings", keyA, `{"model":"text-embedding-3-small","input":""}`, 400, "invalid_request_error", "invalid_value", "input"},
		{"bad encoding", "POST", "/v1/embeddings", keyA, `{"model":"text-embedding-3-small","input":"x","encoding_format":"int8"}`, 400, "invalid_request_error", "invalid_value", "encoding_format"},
		{"wrong method", "GET", "/v1/chat/completions", keyA, "", 405, "invalid_request_error", "method_not_allowed", ""},
		{"unknown url", "POST", "/v1/completions", keyA, "{}", 404, "invalid_request_error", "unknown_url", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, b := h.do(c.method, c.path, c.key, c.body)
			require.Equal(t, c.status, resp.StatusCode, string(b))
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			e := decodeErr(t, b)
			require.Equal(t, c.typ, e.Error.Type, string(b))
			require.Equal(t, c.code, deref(e.Error.Code), string(b))
			require.Equal(t, c.param, deref(e.Error.Param), string(b))
		})
	}
	// The body without chunked framing: Content-Length over the limit is
	// refused before reading.
	req, _ := http.NewRequest("POST", h.srv.URL+"/v1/chat/completions", strings.NewReader(strings.Repeat("x", 10000)))
	req.Header.Set("Authorization", "Bearer "+keyA)
	resp, err := h.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 413, resp.StatusCode)
	require.Equal(t, 2.0, metricValue(h.gw.m.authFailures.WithLabelValues("invalid_key")))
}

func TestRateLimitRequestsPerMinute(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits.Keys = map[string]Limit{"key_l": {RequestsPerMinute: 2}}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	h := newHarness(t, cfg, func(o *Options) { o.Now = func() time.Time { return now } })
	for range 2 {
		resp, b := h.do("POST", "/v1/chat/completions", keyLimited, chatBody)
		require.Equal(t, 200, resp.StatusCode, string(b))
	}
	resp, b := h.do("POST", "/v1/chat/completions", keyLimited, chatBody)
	require.Equal(t, 429, resp.StatusCode)
	require.Equal(t, "30", resp.Header.Get("Retry-After")) // one request refills in 30s
	e := decodeErr(t, b)
	require.Equal(t, "rate_limit_exceeded", deref(e.Error.Code))
	require.Equal(t, "requests", e.Error.Type)
	// Another key is not affected.
	resp, _ = h.do("POST", "/v1/chat/completions", keyA, chatBody)
	require.Equal(t, 200, resp.StatusCode)
	// The 429 is recorded as an error call.
	spans := h.waitSpans("prj_a", 4)
	require.Equal(t, "rate_limited", attrs(spans[2])[llmcall.AttrErrorType])
	require.EqualValues(t, 429, attrs(spans[2])[llmcall.AttrHTTPStatus])
}

func TestRateLimitTokensPerMinute(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits.Projects = map[string]Limit{"prj_a": {TokensPerMinute: 30}}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	h := newHarness(t, cfg, func(o *Options) { o.Now = func() time.Time { return now } })
	resp, _ := h.do("POST", "/v1/chat/completions", keyA, chatBody) // ~26 tokens
	require.Equal(t, 200, resp.StatusCode)
	h.flushSpans()                                                 // tokens are charged by the span worker
	resp, _ = h.do("POST", "/v1/chat/completions", keyA, chatBody) // bucket still positive
	require.Equal(t, 200, resp.StatusCode)
	h.flushSpans()
	resp, b := h.do("POST", "/v1/chat/completions", keyA, chatBody) // in debt now
	require.Equal(t, 429, resp.StatusCode, string(b))
	require.Equal(t, "tokens", decodeErr(t, b).Error.Type)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	now = now.Add(2 * time.Minute) // refilled
	resp, _ = h.do("POST", "/v1/chat/completions", keyA, chatBody)
	require.Equal(t, 200, resp.StatusCode)
}

func TestPerProjectExport(t *testing.T) {
	h := newHarness(t, nil)
	resp, _ := h.do("POST", "/v1/chat/completions", keyA, chatBody)
	require.Equal(t, 200, resp.StatusCode)
	resp, _ = h.do("POST", "/v1/chat/completions", keyB, chatBody)
	require.Equal(t, 200, resp.StatusCode)
	resp, _ = h.do("POST", "/v1/chat/completions", keyB, chatBody)
	require.Equal(t, 200, resp.StatusCode)
	require.Len(t, h.waitSpans("prj_a", 1), 1)
	bs := h.waitSpans("prj_b", 2)
	require.Equal(t, "key_b", attrs(bs[0])[AttrGatewayKeyID])
}

func TestSlowBodyTimesOut(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Server.BodyReadTimeout = 300 * time.Millisecond
	h := newHarness(t, cfg)
	conn, err := net.Dial("tcp", h.srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"model\":", keyA)
	require.NoError(t, err)
	// Trickle a byte now and then, slower than the server allows.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 5 {
			time.Sleep(100 * time.Millisecond)
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	<-done
}

func TestConfigRejectsInvalidOptions(t *testing.T) {
	_, err := New(Options{})
	require.ErrorContains(t, err, "Verifier is required")
	_, err = New(Options{Verifier: testVerifier(t)})
	require.ErrorContains(t, err, "exactly one of")
	bad := DefaultConfig()
	bad.Models["x"] = ModelConfig{Provider: "nope"}
	_, err = New(Options{Verifier: testVerifier(t), ExporterFor: (&exporters{}).For, Config: bad})
	require.ErrorContains(t, err, `models.x.provider: no provider named "nope"`)
}
