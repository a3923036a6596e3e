package gateway

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/gateway/providers"
)

func TestLoadConfigGood(t *testing.T) {
	t.Setenv("TEST_AZURE_KEY", "azure-secret-value")
	t.Setenv("TEST_ANTHROPIC_KEY", "anthropic-secret-value")
	c, err := LoadConfig("testdata/config.good.yaml")
	require.NoError(t, err)
	require.EqualValues(t, 1<<20, c.Server.MaxBodyBytes)
	require.Equal(t, 5*time.Second, c.Server.BodyReadTimeout)
	require.Equal(t, DefaultIdleTimeout, c.Server.IdleTimeout, "defaults fill the rest")
	require.False(t, *c.Telemetry.CaptureContent)
	require.Equal(t, providers.Secret("azure-secret-value"), c.Providers["az"].APIKey)
	require.Equal(t, 2, c.Providers["oai"].Retry.MaxAttempts)
	require.Equal(t, DefaultMaxAttempts, c.Providers["az"].Retry.MaxAttempts)
	require.Equal(t, 5, c.Limits.Keys["obs_abcdefgh"].RequestsPerMinute)
	require.Len(t, c.Models["gpt-4o"].Fallbacks, 2)
	// It builds.
	h := newHarness(t, c)
	resp, _ := h.do("GET", "/v1/models", keyA, "")
	require.Equal(t, 200, resp.StatusCode)
}

func TestLoadConfigErrors(t *testing.T) {
	for file, want := range map[string]string{
		"config.unknown-key.yaml":          "field latencyy not found",
		"config.unknown-provider.yaml":     `models.m.fallbacks[0].provider: no provider named "openai"`,
		"config.bad-type.yaml":             `providers.x.type: unknown provider type "bedrock"`,
		"config.field-for-wrong-type.yaml": "providers.x.deployments: not valid for type openai",
		"config.missing-env.yaml":          "providers.x.api_key_env: environment variable TEST_UNSET_VARIABLE is empty or unset",
		"config.azure-no-endpoint.yaml":    "providers.x.base_url: required for azure_openai",
		"config.bad-url.yaml":              "providers.x.base_url: must be an absolute http(s) URL without user info or query",
		"config.no-models.yaml":            "models: at least one model is required",
		"config.bad-mock.yaml":             "providers.x.mock: error_rate must be between 0 and 1",
	} {
		t.Run(file, func(t *testing.T) {
			_, err := LoadConfig("testdata/" + file)
			require.ErrorContains(t, err, want)
			require.ErrorContains(t, err, file, "the error names the file")
		})
	}
	_, err := LoadConfig("testdata/nope.yaml")
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = ParseConfig([]byte(""), nil)
	require.ErrorContains(t, err, "empty configuration")
	_, err = ParseConfig([]byte("providers: {x: {type: mock}}\nmodels: {m: {provider: x}}\n---\nfoo: 1\n"), nil)
	require.ErrorContains(t, err, "more than one YAML document")
}

func TestDefaultConfigRoutesToMock(t *testing.T) {
	c := DefaultConfig()
	require.NoError(t, c.Validate())
	for name, m := range c.Models {
		require.Equal(t, "mock", m.Provider, name)
	}
	require.Contains(t, c.Models, "gpt-4o-mini")
	require.Contains(t, c.Models, "text-embedding-3-small")
}

func TestReadmeConfigIsValid(t *testing.T) {
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	y := extractBlock(t, string(b), "```yaml\n# gateway.yaml")
	env := map[string]string{"OPENAI_API_KEY": "k1", "AZURE_OPENAI_API_KEY": "k2", "ANTHROPIC_API_KEY": "k3"}
	_, err = ParseConfig([]byte(y), func(k string) string { return env[k] })
	require.NoError(t, err)
}

// extractBlock returns the fenced block that starts with marker.
func extractBlock(t *testing.T, doc, marker string) string {
	t.Helper()
	i := strings.Index(doc, marker)
	require.GreaterOrEqual(t, i, 0, "marker %q not found", marker)
	rest := doc[i+len("```yaml\n"):]
	j := strings.Index(rest, "```")
	require.Greater(t, j, 0)
	return rest[:j]
}
