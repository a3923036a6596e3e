package genaiprocessor

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/processors/genaiprocessor/internal/metadata"
)

func TestEmbeddedMappingCompiles(t *testing.T) {
	m, err := loadMapping("")
	require.NoError(t, err)
	assert.Equal(t, "2", m.version)
	for name, want := range requiredFields {
		f := m.byName[name]
		require.NotNil(t, f, name)
		if want.target != "" {
			assert.Equal(t, want.target, f.target)
		}
	}
	// Every output key of the llmcall contract the mapping can produce.
	for _, key := range []string{
		llmcall.AttrProvider, llmcall.AttrOperation, llmcall.AttrRequestModel, llmcall.AttrResponseModel,
		llmcall.AttrInputTokens, llmcall.AttrOutputTokens, llmcall.AttrTotalTokens, llmcall.AttrCacheReadTokens,
		llmcall.AttrCacheWriteTokens, llmcall.AttrReasoningTokens, llmcall.AttrFinishReasons,
		llmcall.AttrTimeToFirstChunk, llmcall.AttrInputMessages, llmcall.AttrOutputMessages,
		llmcall.AttrSystemInstructions, llmcall.AttrHTTPStatus, llmcall.AttrEndpoint,
	} {
		found := false
		for _, f := range m.fields {
			found = found || f.target == key
		}
		assert.True(t, found, "no field writes %s", key)
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestMappingMerge(t *testing.T) {
	m, err := loadMapping(filepath.Join("testdata", "mapping_override.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "2+acme-1", m.version)
	assert.NotContains(t, m.byName, "http_status")
	require.Contains(t, m.byName, "user_id")
	assert.Equal(t, []string{"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"},
		m.byName[fieldInputTokens].sources)
	// Value tables merge key by key.
	assert.Equal(t, "acme", m.byName[fieldProvider].values["acme-llm"])
	assert.Equal(t, "x_ai", m.byName[fieldProvider].values["xai"])

	// Rules from the file are evaluated first.
	m, err = loadMapping(writeTemp(t, `
conventions:
  - {name: openlit, any_of: [telemetry.sdk.name]}
operation_inference:
  - {span_name_prefix: "rerank ", operation: rerank}
priced_operations: [chat]
finish_reason_on_error: ""
genai_prefixes: ["llm."]
`))
	require.NoError(t, err)
	assert.Equal(t, "openlit", m.conventions[0].Name)
	assert.Equal(t, "rerank", m.inference[0].Operation)
	assert.Equal(t, map[string]struct{}{"chat": {}}, m.priced)
	assert.Empty(t, m.finishOnError)
	assert.Equal(t, "gen_ai.", m.prefixes[0])
	assert.Equal(t, "llm.", m.prefixes[len(m.prefixes)-1])

	// Content rules and events are data too.
	m, err = loadMapping(writeTemp(t, `
content:
  input:
    - {format: text, attribute: app.prompt, role: user}
content_events:
  app.llm.answer: {kind: choice}
  gen_ai.tool.message: null
join_operations: [chat]
error_type_on_error: ""
provider_inference:
  - {server_address_suffix: llm.internal, provider: acme}
`))
	require.NoError(t, err)
	assert.Equal(t, "app.prompt", m.inputRules[0].Attribute)
	assert.Equal(t, eventChoice, m.events["app.llm.answer"].kind)
	assert.NotContains(t, m.events, "gen_ai.tool.message")
	assert.Contains(t, m.contentEvents, "app.llm.answer", "message_events reads the new event")
	assert.Equal(t, map[string]struct{}{"chat": {}}, m.joinOps)
	assert.Empty(t, m.errorTypeOnError)
	assert.Equal(t, "acme", m.providerRules[0].Provider)
	assert.True(t, m.keys["app.prompt"].content)
}

func TestMappingErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "fieldz: {}", "field fieldz not found"},
		{"remove a required field", "fields: {provider: null}", "fields.provider is required"},
		{"change a canonical target", "fields: {request_model: {target: model, type: string, sources: [model]}}", `fields.request_model: target must be "gen_ai.request.model"`},
		{"change a type", "fields: {request_model: {target: gen_ai.request.model, type: int, sources: [gen_ai.request.model]}}", "fields.request_model: type cannot be changed"},
		{"unknown type", "fields: {x: {target: x, type: float, sources: [y]}}", `unknown type "float"`},
		{"no sources", "fields: {x: {target: x, type: string}}", "target and sources must be set"},
		{"duplicate source", "fields: {x: {target: x, type: string, sources: [y, z, y]}}", `source "y" is listed twice`},
		{"keep of a non-source", "fields: {x: {target: x, type: string, sources: [y], keep: [z]}}", `keep lists "z", which is not a source`},
		{"unknown content format", "content: {input: [{format: magic}]}", `content.input[0]: unknown format "magic"`},
		{"content rule without prefix", "content: {output: [{format: indexed_messages}]}", "content.output[0]: format indexed_messages needs prefix"},
		{"content rule reads a target", "content: {input: [{format: text, attribute: gen_ai.request.model, role: user}]}", "is the target of fields.request_model"},
		{"details event not in the table", "content: {input: [{format: details_event, event: x.y}]}", `event "x.y" is not a details event`},
		{"bad content event", "content_events: {x.y: {kind: message}}", "content_events.x.y: a message event needs a role"},
		{"unknown event kind", "content_events: {x.y: {kind: blob}}", `content_events.x.y: unknown kind "blob"`},
		{"bad provider rule", "provider_inference: [{provider: x}]", "provider_inference[0]: server_address_suffix and provider must be set"},
		{"duplicate target", "fields: {x: {target: gen_ai.request.model, type: string, sources: [y]}}", "is also the target of"},
		{"source is another target", "fields: {x: {target: x, type: string, sources: [gen_ai.request.model]}}", "is the target of fields.request_model"},
		{"reserved target", "fields: {x: {target: observatory.cost.total_usd, type: double, sources: [y]}}", "owned by the processor"},
		{"reserved source", "fields: {x: {target: x, type: string, sources: [observatory.org.id]}}", "owned by the processor"},
		{"unknown value table", "fields: {x: {target: x, type: string, values: nope, sources: [y]}}", `unknown value table "nope"`},
		{"min on a string", "fields: {x: {target: x, type: string, min: 1, sources: [y]}}", "min/max apply only"},
		{"min above max", "fields: {x: {target: x, type: int, min: 5, max: 1, sources: [y]}}", "invalid min/max"},
		{"bad inference rule", "operation_inference: [{operation: chat}]", "exactly one of span_name_prefix, any_of"},
		{"bad convention rule", "conventions: [{name: x}]", "name and any_of, any_prefix, any_event or equals must be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadMapping(writeTemp(t, tt.yaml))
			require.Error(t, err)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// TestMetadataInSync checks the hand-written internal/metadata against
// metadata.yaml, the way mdatagen would generate it.
func TestMetadataInSync(t *testing.T) {
	cm, err := confmaptest.LoadConf("metadata.yaml")
	require.NoError(t, err)
	assert.Equal(t, metadata.Type.String(), cm.Get("type"))
	metrics, err := cm.Sub("telemetry::metrics")
	require.NoError(t, err)
	var names []string
	for k := range metrics.ToStringMap() {
		names = append(names, k)
	}
	assert.ElementsMatch(t, []string{
		metadata.MetricObservatoryIngestRejected,
		metadata.MetricObservatoryIngestRejectedLogRecords,
		metadata.MetricObservatoryGenaiSpans,
		metadata.MetricObservatoryGenaiNormalizeIssues,
		metadata.MetricObservatoryGenaiUnpriced,
		metadata.MetricObservatoryGenaiContentJoinSpans,
		metadata.MetricObservatoryGenaiContentJoinRecords,
		metadata.MetricObservatoryGenaiContentLate,
	}, names)
	assert.Equal(t, []any{"traces", "logs"}, cm.Get("status::stability::alpha"))
}
