package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

// lookPathOrSkip finds a tool; a missing tool skips locally and fails CI.
func lookPathOrSkip(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true: %v", name, err)
		}
		t.Skipf("%s is not installed: skipping", name)
	}
	return p
}

// TestOpenAINodeClientThroughRun drives the gateway inside `observatory
// run` with the official openai npm package (gateway/e2e/node) and checks
// every call in the query API: tokens, cost, and the traceparent join.
func TestOpenAINodeClientThroughRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs npm ci and node")
	}
	t.Parallel()
	node, npm := lookPathOrSkip(t, "node"), lookPathOrSkip(t, "npm")

	// A private copy: the gateway package's own test runs npm ci in the
	// original folder, possibly at the same time.
	work := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "e2e.mjs"} {
		b, err := os.ReadFile(filepath.Join("..", "gateway", "e2e", "node", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(work, f), b, 0o600))
	}
	install := exec.Command(npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = work
	out, err := install.CombinedOutput()
	require.NoError(t, err, "npm ci: %s", out)

	// A key limited to 1 request/min, configured before the instance starts.
	dataDir := t.TempDir()
	created, err := exec.Command(binary(t), "keys", "create", "--scopes", "gateway", "--name", "limited", "--data-dir", dataDir).CombinedOutput()
	require.NoError(t, err, string(created))
	fields := strings.Fields(string(created))
	limitedID, limitedKey := fields[2], ""
	for _, f := range fields {
		if strings.HasPrefix(f, "obs_") {
			limitedKey = f
		}
	}
	cfg := filepath.Join(dataDir, "gateway.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`
providers:
  mock: {type: mock}
models:
  gpt-4o-mini: {provider: mock}
  text-embedding-3-small: {provider: mock}
limits:
  keys:
    `+limitedID+`: {requests_per_minute: 1}
`), 0o600))
	in := startInstanceIn(t, dataDir, "", "--gateway-config", cfg)

	const traceID = "5cf92f3577b34da6a3ce929d0e0e4736"
	run := exec.Command(node, "e2e.mjs")
	run.Dir = work
	run.Env = append(os.Environ(), "GATEWAY_URL=http://"+in.gw+"/v1", "GATEWAY_KEY="+in.key,
		"LIMITED_KEY="+limitedKey, "TRACEPARENT=00-"+traceID+"-00f067aa0ba902b7-01")
	var stdout, stderr bytes.Buffer
	run.Stdout, run.Stderr = &stdout, &stderr
	require.NoError(t, run.Run(), "node e2e.mjs: %s", stderr.String())
	type usage struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
		TotalTokens      int64 `json:"total_tokens"`
	}
	var res struct {
		Chat struct {
			Usage usage `json:"usage"`
		} `json:"chat"`
		Stream struct {
			Text   string `json:"text"`
			Usage  *usage `json:"usage"`
			Chunks int    `json:"chunks"`
		} `json:"stream"`
		WrongKey     struct{ IsAuth bool } `json:"wrongKey"`
		UnknownModel struct{ Status int }  `json:"unknownModel"`
		RateLimited  struct {
			Calls []struct {
				Status     int    `json:"status"`
				RetryAfter string `json:"retryAfter"`
			}
		} `json:"rateLimited"`
	}
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res), stdout.String())
	require.NotNil(t, res.Stream.Usage, "the stream ends with the usage chunk the client asked for")
	require.Positive(t, res.Stream.Usage.TotalTokens)
	require.NotEmpty(t, res.Stream.Text)
	require.True(t, res.WrongKey.IsAuth, "a wrong key is an AuthenticationError")
	require.Equal(t, http.StatusNotFound, res.UnknownModel.Status)
	var limited bool
	for _, c := range res.RateLimited.Calls {
		if c.Status == http.StatusTooManyRequests && c.RetryAfter != "" {
			limited = true
		}
	}
	require.True(t, limited, "the limited key gets 429 with Retry-After: %s", stdout.String())

	// Every call is in the query API with tokens and cost.
	var page callsPage
	require.Eventually(t, func() bool {
		page = callsPage{}
		if in.get(in.key, "/api/v1/calls?limit=100", &page) != http.StatusOK {
			return false
		}
		n, streamed := 0, false
		for _, c := range page.Calls {
			if c.RequestModel == "gpt-4o-mini" || c.RequestModel == "text-embedding-3-small" {
				n++
			}
			streamed = streamed || strings.Contains(string(c.InputMessages), "Stream please")
		}
		return n >= 3 && streamed
	}, 30*time.Second, 100*time.Millisecond)
	byModel := map[string][]llmcall.Call{}
	for _, c := range page.Calls {
		byModel[c.RequestModel] = append(byModel[c.RequestModel], c)
	}
	require.NotEmpty(t, byModel["text-embedding-3-small"])
	for _, c := range append(byModel["gpt-4o-mini"], byModel["text-embedding-3-small"]...) {
		if c.Status == llmcall.StatusError {
			continue
		}
		require.Positive(t, c.InputTokens, "%+v", c)
		require.Positive(t, c.CostTotalUSD, "%s is priced", c.RequestModel)
		require.Equal(t, "prj_default", c.ProjectID)
	}
	// The streamed call and the plain chat call carry the tokens the client saw.
	var sawStream, sawChat bool
	for _, c := range byModel["gpt-4o-mini"] {
		switch {
		case strings.Contains(string(c.InputMessages), "Stream please"):
			sawStream = true
			require.Equal(t, res.Stream.Usage.PromptTokens, c.InputTokens)
			require.Equal(t, res.Stream.Usage.CompletionTokens, c.OutputTokens)
			require.Positive(t, c.TTFTMS, "a streamed call records its time to first token")
			require.Contains(t, string(c.OutputMessages), res.Stream.Text[:min(len(res.Stream.Text), 10)])
		case strings.Contains(string(c.InputMessages), "Say hello"):
			sawChat = true
			require.Equal(t, res.Chat.Usage.TotalTokens, c.TotalTokens)
		}
	}
	require.True(t, sawStream && sawChat, "both chat calls are in the API")
	tr := in.waitTrace(t, traceID, 1)
	require.True(t, tr.Spans[0].IsLLM || len(tr.Spans) > 0)
	require.Equal(t, "00f067aa0ba902b7", tr.Spans[0].ParentSpanID, "the call joined the caller's trace")
}
