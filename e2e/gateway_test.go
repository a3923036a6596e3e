package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGatewayInRun: an OpenAI-style call through the gateway that
// `observatory run` starts becomes a call of the caller's project, joined
// to the caller's trace by traceparent.
func TestGatewayInRun(t *testing.T) {
	t.Parallel()
	in := startInstance(t, "")
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}`
	req, err := http.NewRequest(http.MethodPost, "http://"+in.gw+"/v1/chat/completions", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+in.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("x-request-id"))
	var out struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.NotEmpty(t, out.Choices)
	require.Positive(t, out.Usage.TotalTokens)

	tr := in.waitTrace(t, traceID, 1)
	var found bool
	for _, s := range tr.Spans {
		if s.IsLLM {
			found = true
			require.Equal(t, "prj_default", s.ProjectID)
			require.Equal(t, "gpt-4o-mini", s.RequestModel)
			require.EqualValues(t, out.Usage.TotalTokens, s.TotalTokens)
			require.Equal(t, "00f067aa0ba902b7", s.ParentSpanID)
		}
	}
	require.True(t, found, "the gateway's call is in the caller's trace")

	req, _ = http.NewRequest(http.MethodPost, "http://"+in.gw+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer obs_wrongwrongwrongwrong")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}
