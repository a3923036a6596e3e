package genaiprocessor

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const embeddedVersion = "2025-12-01.1"

func TestPriceLookup(t *testing.T) {
	table, err := loadPrices("")
	require.NoError(t, err)
	tests := []struct{ model, provider, want string }{
		{"gpt-4o", "", "gpt-4o"},
		{"GPT-4o", "", "gpt-4o"},
		{"gpt-4o-mini-2024-07-18", "", "gpt-4o-mini"},
		{"gpt-4o-2024-08-06", "", "gpt-4o"},
		{"gpt-4o-2024-05-13", "", "gpt-4o-2024-05-13"},
		{"gpt-4.1-mini-2025-04-14", "", "gpt-4.1-mini"},
		{"gpt-5.1-2025-11-13", "", "gpt-5.1"},
		{"gpt-5-mini-2025-08-07", "", "gpt-5-mini"},
		{"o3-mini-2025-01-31", "", "o3-mini"},
		{"o3", "", "o3"},
		{"claude-sonnet-4-5-20250929", "", "claude-sonnet-4-5"},
		{"claude-sonnet-4-20250514", "", "claude-sonnet-4"},
		{"claude-3-5-haiku@20241022", "", "claude-3-5-haiku"},
		{"gemini-2.5-flash-lite-preview-06-17", "", "gemini-2.5-flash-lite"},
		{"gemini-2.5-flash-preview-05-20", "", "gemini-2.5-flash"},
		{"gemini-3-pro-preview", "gcp.vertex_ai", "gemini-3-pro"},
		{"publishers/google/models/gemini-2.5-pro", "gcp.vertex_ai", "gemini-2.5-pro"},
		{"mistral-large-latest", "mistral_ai", "mistral-large"},
		{"mistral-small-2503", "", "mistral-small"},
		{"command-a-03-2025", "cohere", "command-a"},
		{"deepseek-chat", "deepseek", "deepseek-chat"},
		{"grok-4-0709", "x_ai", "grok-4"},
		{"grok-4-fast-reasoning", "x_ai", "grok-4-fast"},
		{"llama-3.3-70b-versatile", "groq", "llama-3.3-70b-versatile"},
		{"openai/gpt-oss-120b", "groq", "groq/openai/gpt-oss-120b"},
		{"meta-llama/llama-4-scout-17b-16e-instruct", "groq", "groq/meta-llama/llama-4-scout-17b-16e-instruct"},
		// Azure OpenAI: OpenAI's rows, and its own names.
		{"gpt-4o-2024-11-20", "azure.ai.openai", "gpt-4o"},
		{"gpt-35-turbo-0125", "azure.ai.openai", "azure.ai.openai/gpt-35-turbo"},
		{"gpt-35-turbo", "openai", ""},
		// Bedrock model ids: region and vendor prefixes, provider-scoped rows.
		{"anthropic.claude-3-5-sonnet-20240620-v1:0", "aws.bedrock", "claude-3-5-sonnet"},
		{"us.anthropic.claude-sonnet-4-20250514-v1:0", "aws.bedrock", "claude-sonnet-4"},
		{"amazon.nova-pro-v1:0", "aws.bedrock", "nova-pro"},
		{"meta.llama3-3-70b-instruct-v1:0", "aws.bedrock", "aws.bedrock/llama3-3-70b-instruct"},
		{"mistral.mistral-large-2402-v1:0", "aws.bedrock", "aws.bedrock/mistral-large"},
		{"mistral-large-2411", "mistral_ai", "mistral-large"},
		{"openai/gpt-4o-mini", "", "gpt-4o-mini"},
		{"openrouter/anthropic/claude-sonnet-4", "", "claude-sonnet-4"},
		// Unknown: a listed name followed by something that is not a separator.
		{"gpt-4oo", "", ""},
		{"o3x", "", ""},
		{"gpt-4", "", ""},
		{"llama-3.1-8b", "", ""},
		{"", "", ""},
		{"gpt-4o/", "", ""},
		{"openai/gpt-oss-120b", "", ""},
	}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.provider+"|"+tt.model, func(t *testing.T) {
			row, ok := table.Lookup(tt.model, tt.provider, at)
			if tt.want == "" {
				assert.False(t, ok, "got %s", row.Model)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.want, row.Model)
			assert.Equal(t, embeddedVersion, row.TableVersion)
		})
	}
}

func TestPriceEffectiveDates(t *testing.T) {
	table, err := PriceTable()
	require.NoError(t, err)
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		require.NoError(t, err)
		return d
	}
	for _, tt := range []struct {
		model, at string
		input     float64
	}{
		{"o3-2025-04-16", "2025-05-01", 10.00},
		{"o3-2025-04-16", "2025-06-10", 2.00}, // the cut applies from its day on
		{"o3", "2025-06-09", 10.00},
		{"o3", "2026-01-01", 2.00},
		{"o3", "2024-01-01", 10.00}, // before every row: the earliest
		{"deepseek-chat", "2025-03-01", 0.27},
		{"deepseek-chat", "2025-09-10", 0.56},
		{"deepseek-chat", "2025-10-01", 0.28},
		{"gpt-4o", "2024-07-01", 5.00},
		{"gpt-4o", "2024-11-01", 2.50},
	} {
		row, ok := table.Lookup(tt.model, "", day(tt.at))
		require.True(t, ok, tt.model)
		assert.Equal(t, tt.input, row.Input, "%s at %s", tt.model, tt.at)
	}
}

func TestPriceCompute(t *testing.T) {
	table, err := loadPrices("")
	require.NoError(t, err)
	at := time.Now()
	sonnet, ok := table.Lookup("claude-sonnet-4", "", at)
	require.True(t, ok)
	// 10k input of which 6k cache reads and 1k cache writes, 2k output.
	c := sonnet.Cost(Usage{Input: 10_000, Output: 2_000, CacheRead: 6_000, CacheWrite: 1_000})
	assert.InDelta(t, 3_000*3e-6+6_000*0.3e-6+1_000*3.75e-6, c.Input, 1e-12)
	assert.InDelta(t, 2_000*15e-6, c.Output, 1e-12)
	assert.InDelta(t, c.Input+c.Output, c.Total, 1e-12)

	// Models without cache prices charge cached tokens at the input rate.
	mistral, _ := table.Lookup("mistral-large", "", at)
	c = mistral.Cost(Usage{Input: 1_000_000, CacheRead: 500_000})
	assert.Equal(t, 2.0, c.Input)

	// Input below the cached tokens: no negative uncached part.
	c = sonnet.Cost(Usage{Input: 10, CacheRead: 100})
	assert.InDelta(t, 100*0.3e-6, c.Input, 1e-12)

	// Absurd-but-accepted counts stay finite.
	opus, _ := table.Lookup("claude-opus-4-1", "", at)
	c = opus.Cost(Usage{Input: 100_000_000, Output: 100_000_000})
	assert.Equal(t, 1500.0, c.Input)
	assert.Equal(t, 7500.0, c.Output)

	// A reasoning price of its own applies to the reasoning part of output.
	r := PriceRow{Input: 1, Output: 10, Reasoning: 20, CachedInput: 1, CacheWrite: 1}
	c = r.Cost(Usage{Output: 1_000_000, Reasoning: 400_000})
	assert.InDelta(t, 600_000*10e-6+400_000*20e-6, c.Output, 1e-9)
	// ...and no more reasoning than output is charged.
	c = r.Cost(Usage{Output: 100, Reasoning: 400})
	assert.InDelta(t, 400*20e-6, c.Output, 1e-12)
}

func TestPriceOverride(t *testing.T) {
	table, err := loadPrices(filepath.Join("testdata", "prices_override.yaml"))
	require.NoError(t, err)
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, []string{embeddedVersion, "acme-2026-01"}, table.Versions())
	row, _ := table.Lookup("gpt-4o-2024-08-06", "", at)
	assert.Equal(t, "acme-2026-01", row.TableVersion)
	row, _ = table.Lookup("gpt-4o-mini", "", at)
	assert.Equal(t, embeddedVersion, row.TableVersion)
	_, ok := table.Lookup("acme-large", "", at)
	assert.True(t, ok)
}

func TestLoadPriceFileErrors(t *testing.T) {
	for name, tt := range map[string]struct{ yaml, want string }{
		"no version":        {"models: {x: {input: 1, output: 1}}", ":version: must be set"},
		"negative price":    {"version: v\nmodels: {x: {input: -1, output: 1}}", ":x:input: -1 must be a finite number >= 0 (line 2)"},
		"not a number":      {"version: v\nmodels:\n  x: {input: abc, output: 1}", `:x:input: "abc" is not a number (line 3)`},
		"other currency":    {"version: v\ncurrency: EUR\nmodels: {x: {input: 1, output: 1}}", `:currency: "EUR" is not supported`},
		"unknown key":       {"version: v\nmodels: {x: {input: 1, outptu: 1}}", ":x:outptu: unknown field"},
		"missing output":    {"version: v\nmodels: {x: {input: 1}}", ":x:output: missing"},
		"null model":        {"version: v\nmodels: {x: null}", ":x: must be a mapping"},
		"not a price table": {"[1, 2]", ": not a price table"},
		"bad date":          {"version: v\nmodels: {x: {input: 1, output: 1, effective_date: soon}}", `:x:effective_date: "soon" is not a date`},
		"two rows one day": {"version: v\nmodels:\n  x:\n    prices:\n      - {effective_date: 2025-01-01, input: 1, output: 1}\n      - {effective_date: 2025-01-01, input: 2, output: 2}",
			":x:prices: two entries take effect on 2025-01-01"},
		"list and inline":   {"version: v\nmodels: {x: {input: 1, output: 1, prices: [{input: 1, output: 1}]}}", ":x: set either prices"},
		"bad list entry":    {"version: v\nmodels: {x: {prices: [{input: 1, output: -2}]}}", ":x:prices[0]:output: -2 must be"},
		"unknown list key":  {"version: v\nmodels: {x: {prices: [{input: 1, output: 2, provider: p}]}}", ":x:prices[0]:provider: unknown field"},
		"unknown top level": {"version: v\nmodelz: {}", ":modelz: unknown key"},
		"listed twice":      {"version: v\nmodels: {X: {input: 1, output: 1}, x: {input: 1, output: 1}}", ":x: listed twice"},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeTemp(t, tt.yaml)
			_, err := LoadPriceFile(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), path+tt.want)
		})
	}
	// Every problem is reported, each naming file:model:field.
	_, err := LoadPriceFile(filepath.Join("testdata", "prices_broken.yaml"))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "testdata/prices_broken.yaml:gpt-x:input: -1 must be a finite number >= 0")
	assert.Contains(t, msg, "testdata/prices_broken.yaml:gpt-x:typo_field: unknown field")
	_, err = LoadPriceFile(filepath.Join("testdata", "does-not-exist.yaml"))
	assert.ErrorContains(t, err, "reading price table file")
}

func TestPriceTableRows(t *testing.T) {
	table, err := PriceTable()
	require.NoError(t, err)
	rows := table.Rows()
	providers := map[string]int{}
	for _, r := range rows {
		providers[r.Provider]++
		assert.Equal(t, EmbeddedPriceFile, r.File)
		assert.Equal(t, embeddedVersion, r.TableVersion)
		assert.False(t, r.EffectiveDate.IsZero(), "%s has no effective date", r.Model)
		assert.Equal(t, strings.ToLower(r.Model), r.Model)
		assert.GreaterOrEqual(t, r.Input, 0.0)
	}
	for _, p := range []string{"openai", "azure.ai.openai", "anthropic", "gcp.gemini", "mistral_ai", "cohere", "deepseek", "x_ai", "groq", "aws.bedrock"} {
		assert.Positive(t, providers[p], "no prices for %s", p)
	}
	// Sorted by provider, model, date; several rows for a model with a history.
	var o3 []PriceRow
	for i, r := range rows {
		if i > 0 {
			prev := rows[i-1]
			assert.True(t, prev.Provider < r.Provider || prev.Provider == r.Provider &&
				(prev.Model < r.Model || prev.Model == r.Model && prev.EffectiveDate.Before(r.EffectiveDate)))
		}
		if r.Model == "o3" {
			o3 = append(o3, r)
		}
	}
	require.Len(t, o3, 2)
	assert.Equal(t, 10.0, o3[0].Input)
	assert.Equal(t, 2.0, o3[1].Input)

	// Merge: the file's rows replace a model's whole history.
	over, err := LoadPriceFile(filepath.Join("testdata", "prices_override.yaml"))
	require.NoError(t, err)
	merged := table.Merge(over)
	assert.Equal(t, table.Len()+1, merged.Len()) // acme-large is new
	row, ok := merged.Lookup("gpt-4o", "", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	assert.Equal(t, 2.0, row.Input)
	assert.Equal(t, "testdata/prices_override.yaml", row.File)
}
