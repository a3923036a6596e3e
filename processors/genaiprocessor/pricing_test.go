package genaiprocessor

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPriceLookup(t *testing.T) {
	table, err := loadPrices("")
	require.NoError(t, err)
	tests := map[string]string{
		"gpt-4o":                               "gpt-4o",
		"GPT-4o":                               "gpt-4o",
		"gpt-4o-mini-2024-07-18":               "gpt-4o-mini",
		"gpt-4o-2024-08-06":                    "gpt-4o",
		"gpt-4.1-mini-2025-04-14":              "gpt-4.1-mini",
		"o3-mini-2025-01-31":                   "o3-mini",
		"o3":                                   "o3",
		"claude-sonnet-4-5-20250929":           "claude-sonnet-4-5",
		"claude-sonnet-4-20250514":             "claude-sonnet-4",
		"claude-3-5-haiku@20241022":            "claude-3-5-haiku",
		"gemini-2.5-flash-lite-preview-06-17":  "gemini-2.5-flash-lite",
		"gemini-2.5-flash-preview-05-20":       "gemini-2.5-flash",
		"mistral-large-latest":                 "mistral-large",
		"mistral-small-2503":                   "mistral-small",
		"openai/gpt-4o-mini":                   "gpt-4o-mini",
		"openrouter/anthropic/claude-sonnet-4": "claude-sonnet-4",
		// Unknown: a listed name followed by something that is not a separator.
		"gpt-4oo":      "",
		"o3x":          "",
		"gpt-4":        "",
		"llama-3.1-8b": "",
		"":             "",
		"gpt-4o/":      "",
	}
	for model, want := range tests {
		t.Run(model, func(t *testing.T) {
			p := table.lookup(model)
			if want == "" {
				assert.Nil(t, p)
				return
			}
			require.NotNil(t, p)
			assert.Equal(t, want, p.model)
			assert.Equal(t, "2025-10-01.1", p.tableVersion)
		})
	}
}

func TestPriceCompute(t *testing.T) {
	table, err := loadPrices("")
	require.NoError(t, err)
	sonnet := table.lookup("claude-sonnet-4")
	// 10k input of which 6k cache reads and 1k cache writes, 2k output.
	c := sonnet.compute(usage{input: 10_000, output: 2_000, cacheRead: 6_000, cacheWrite: 1_000})
	assert.InDelta(t, 3_000*3e-6+6_000*0.3e-6+1_000*3.75e-6, c.input, 1e-12)
	assert.InDelta(t, 2_000*15e-6, c.output, 1e-12)
	assert.InDelta(t, c.input+c.output, c.total, 1e-12)

	// Models without cache prices charge cached tokens at the input rate.
	mistral := table.lookup("mistral-large")
	c = mistral.compute(usage{input: 1_000_000, cacheRead: 500_000})
	assert.Equal(t, 2.0, c.input)

	// Input below the cached tokens: no negative uncached part.
	c = sonnet.compute(usage{input: 10, cacheRead: 100})
	assert.InDelta(t, 100*0.3e-6, c.input, 1e-12)

	// Absurd-but-accepted counts stay finite.
	opus := table.lookup("claude-opus-4-1")
	c = opus.compute(usage{input: 100_000_000, output: 100_000_000})
	assert.Equal(t, 1500.0, c.input)
	assert.Equal(t, 7500.0, c.output)
}

func TestPriceOverride(t *testing.T) {
	table, err := loadPrices(filepath.Join("testdata", "prices_override.yaml"))
	require.NoError(t, err)
	assert.Equal(t, []string{"2025-10-01.1", "acme-2026-01"}, table.versions)
	assert.Equal(t, "acme-2026-01", table.lookup("gpt-4o-2024-08-06").tableVersion)
	assert.Equal(t, "2025-10-01.1", table.lookup("gpt-4o-mini").tableVersion)
	assert.NotNil(t, table.lookup("acme-large"))

	for name, yaml := range map[string]string{
		"no version":        "models: {x: {input: 1, output: 1}}",
		"negative price":    "version: v\nmodels: {x: {input: -1, output: 1}}",
		"other currency":    "version: v\ncurrency: EUR\nmodels: {x: {input: 1, output: 1}}",
		"unknown key":       "version: v\nmodels: {x: {input: 1, outptu: 1}}",
		"null model":        "version: v\nmodels: {x: null}",
		"not a price table": "[1, 2]",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadPrices(writeTemp(t, yaml))
			require.Error(t, err)
		})
	}
}
