package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/queryapi"
)

// nodeDir holds package.json, the committed package-lock.json and run.cjs.
const nodeDir = "node"

// TestNodeInstrumentations runs the official `openai` npm client under real
// GenAI instrumentations from npm (installed with `npm ci` from the committed
// lockfile), against a fake OpenAI server, exporting OTLP/HTTP to
// `observatory run`, and checks that every call is complete in the query
// API: model, tokens, input and output text, cost.
//
//   - @opentelemetry/instrumentation-openai with content capture on: the
//     span carries no content; it comes as log records joined onto the span
//     by the genai processor;
//   - @arizeai/openinference-instrumentation-openai: llm.* attributes,
//     input.value / output.value, llm.input_messages.N.*;
//   - @traceloop/instrumentation-openai: current OTel GenAI attributes.
//
// Skipped when node or npm is missing, unless CI=true.
func TestNodeInstrumentations(t *testing.T) {
	t.Parallel()
	requireNode(t)
	npmCI(t)

	fake := newFakeOpenAI(t)
	in := startInstance(t, "")

	for _, tt := range []struct {
		name       string
		convention string
		// streamUsage: the instrumentation records the usage of a stream.
		streamUsage bool
		// joined: the content came from log records.
		joined bool
	}{
		{name: "otel", convention: "otel_genai_events", streamUsage: true, joined: true},
		{name: "openinference", convention: "openinference"},
		{name: "traceloop", convention: "otel_genai"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := runNode(t, tt.name, fake.URL, in)
			require.Equal(t, "Paris.", out.ChatAnswer)
			require.Equal(t, "Hello!", out.StreamAnswer)

			chat := llmSpan(t, in.waitTrace(t, out.Chat, 2))
			assert.Equal(t, "npm-"+tt.name, chat.ServiceName)
			assert.Equal(t, "openai", chat.Provider)
			assert.Equal(t, "chat", chat.Operation)
			assert.Equal(t, "gpt-4o-mini-2024-07-18", chat.ResponseModel)
			assert.Contains(t, []string{"gpt-4o-mini", "gpt-4o-mini-2024-07-18"}, chat.RequestModel)
			assert.Equal(t, tt.convention, chat.SourceConvention)
			assert.EqualValues(t, 20, chat.InputTokens)
			assert.EqualValues(t, 2, chat.OutputTokens)
			assert.EqualValues(t, 22, chat.TotalTokens)
			assert.Contains(t, string(chat.InputMessages), "Be brief.")
			assert.Contains(t, string(chat.InputMessages), "Capital of France?")
			assert.Contains(t, string(chat.OutputMessages), "Paris.")
			assert.Equal(t, []string{"stop"}, chat.FinishReasons)
			assert.Greater(t, chat.CostTotalUSD, 0.0)
			assert.Equal(t, "price_table", chat.CostSource)
			assert.False(t, chat.Unpriced)
			assertJSONArray(t, chat.InputMessages)
			assertJSONArray(t, chat.OutputMessages)
			if tt.joined {
				assert.Contains(t, string(chat.Attributes), `"observatory.content.source":"log_records"`)
			}

			stream := llmSpan(t, in.waitTrace(t, out.Stream, 2))
			// OpenInference keeps the request model for streams.
			assert.Contains(t, []string{"gpt-4o-mini", "gpt-4o-mini-2024-07-18"}, stream.ResponseModel)
			assert.Contains(t, string(stream.InputMessages), "Say hello")
			assert.Contains(t, string(stream.OutputMessages), "Hello!")
			assert.False(t, stream.Unpriced)
			if tt.streamUsage {
				assert.EqualValues(t, 11, stream.InputTokens)
				assert.EqualValues(t, 3, stream.OutputTokens)
				assert.Greater(t, stream.CostTotalUSD, 0.0)
			}
		})
	}
	// Every call reached the fake server: chat and stream per instrumentation.
	assert.Equal(t, 6, fake.requests())
}

type nodeOutput struct {
	Chat         string `json:"chat"`
	ChatAnswer   string `json:"chatAnswer"`
	Stream       string `json:"stream"`
	StreamAnswer string `json:"streamAnswer"`
}

func llmSpan(t *testing.T, tr queryapi.Trace) queryapi.TraceSpan {
	t.Helper()
	var llm []queryapi.TraceSpan
	for _, s := range tr.Spans {
		if s.IsLLM {
			llm = append(llm, s)
		}
	}
	require.Len(t, llm, 1, "one LLM call under the root span")
	return llm[0]
}

func assertJSONArray(t *testing.T, b json.RawMessage) {
	t.Helper()
	var v []map[string]any
	require.NoError(t, json.Unmarshal(b, &v), string(b))
	require.NotEmpty(t, v)
	for _, m := range v {
		assert.NotEmpty(t, m["role"])
		assert.NotNil(t, m["parts"], "OTel message schema")
	}
}

// requireNode skips without node and npm, except under CI=true.
func requireNode(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required under CI=true: %v", tool, err)
			}
			t.Skipf("%s not found on PATH: skipping the npm instrumentation test (it fails under CI=true)", tool)
		}
	}
}

var npmOnce sync.Mutex

// npmCI installs e2e/node's packages with `npm ci` from the committed
// lockfile. node_modules is kept between runs: a stamp with the lockfile's
// hash says it is current.
func npmCI(t *testing.T) {
	t.Helper()
	npmOnce.Lock()
	defer npmOnce.Unlock()
	lock, err := os.ReadFile(filepath.Join(nodeDir, "package-lock.json"))
	require.NoError(t, err)
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(nodeDir, "node_modules", ".observatory-lock-sha256")
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == want {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = nodeDir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm ci:\n%s", out)
	require.NoError(t, os.WriteFile(stamp, []byte(want+"\n"), 0o644))
}

func runNode(t *testing.T, instrumentation, openaiURL string, in *instance) nodeOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "run.cjs", instrumentation)
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(),
		"OPENAI_BASE_URL="+openaiURL+"/v1",
		"OPENAI_API_KEY=sk-test-not-a-secret",
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+in.http,
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_EXPORTER_OTLP_HEADERS=x-api-key="+in.key,
		"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true",
		"OTEL_SEMCONV_STABILITY_OPT_IN=",
		"TRACELOOP_TRACE_CONTENT=true",
	)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	require.NoError(t, err, "node run.cjs %s:\nstdout: %s\nstderr: %s", instrumentation, stdout, stderr.String())
	if s := stderr.String(); s != "" {
		t.Logf("node stderr: %s", s)
	}
	var out nodeOutput
	require.NoError(t, json.Unmarshal(stdout, &out), string(stdout))
	require.Len(t, out.Chat, 32)
	require.Len(t, out.Stream, 32)
	return out
}

// fakeOpenAI speaks the Chat Completions API: JSON responses with usage, or
// server-sent events with a final usage chunk when stream_options asks.
type fakeOpenAI struct {
	*httptest.Server
	mu sync.Mutex
	n  int
}

func (f *fakeOpenAI) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer sk-test-not-a-secret" {
			http.Error(w, `{"error":{"message":"bad key","type":"invalid_request_error"}}`, http.StatusUnauthorized)
			return
		}
		var req struct {
			Model         string `json:"model"`
			Stream        bool   `json:"stream"`
			StreamOptions struct {
				IncludeUsage bool `json:"include_usage"`
			} `json:"stream_options"`
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) == 0 {
			http.Error(w, `{"error":{"message":"bad request","type":"invalid_request_error"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.n++
		f.mu.Unlock()
		const model = "gpt-4o-mini-2024-07-18"
		created := time.Now().Unix()
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"id": "chatcmpl-e2e1", "object": "chat.completion", "created": created, "model": model,
				"system_fingerprint": "fp_e2e",
				"choices": []any{map[string]any{
					"index": 0, "logprobs": nil, "finish_reason": "stop",
					"message": map[string]any{"role": "assistant", "content": "Paris.", "refusal": nil},
				}},
				"usage": map[string]any{
					"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22,
					"prompt_tokens_details":     map[string]any{"cached_tokens": 0, "audio_tokens": 0},
					"completion_tokens_details": map[string]any{"reasoning_tokens": 0, "audio_tokens": 0},
				},
			})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		flusher, _ := w.(http.Flusher)
		send := func(v any) {
			b, _ := json.Marshal(v)
			fmt.Fprintf(w, "data: %s\n\n", b)
			if flusher != nil {
				flusher.Flush()
			}
		}
		chunk := func(delta map[string]any, finish any) map[string]any {
			return map[string]any{
				"id": "chatcmpl-e2e2", "object": "chat.completion.chunk", "created": created, "model": model,
				"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
			}
		}
		send(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
		send(chunk(map[string]any{"content": "Hel"}, nil))
		send(chunk(map[string]any{"content": "lo!"}, nil))
		send(chunk(map[string]any{}, "stop"))
		if req.StreamOptions.IncludeUsage {
			send(map[string]any{
				"id": "chatcmpl-e2e2", "object": "chat.completion.chunk", "created": created, "model": model,
				"choices": []any{},
				"usage":   map[string]any{"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
			})
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(f.Close)
	return f
}
