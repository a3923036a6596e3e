package genaiprocessor

import (
	"context"
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/ptracetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

// Regenerate the expected files with `go test -run TestGolden -update`,
// then review the diff.
var update = flag.Bool("update", false, "rewrite testdata/expected from the current output")

// testNow is the clock of the golden tests: five minutes after the spans of
// testdata/input start.
var testNow = time.Date(2026, 5, 1, 12, 5, 0, 0, time.UTC)

// authData is what the API-key auth extension puts in client.Info.Auth.
type authData map[string]any

func (a authData) GetAttribute(name string) any { return a[name] }

func (a authData) GetAttributeNames() []string {
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	return names
}

var acmeAuth = authData{llmcall.AttrOrgID: "org_acme", llmcall.AttrProjectID: "proj_support"}

func withAuth(a client.AuthData) context.Context {
	return client.NewContext(context.Background(), client.Info{Auth: a})
}

// newTestProcessor builds the processor with a fixed clock.
func newTestProcessor(t testing.TB, cfg *Config, set processor.Settings) *genaiProcessor {
	t.Helper()
	p, err := newGenAIProcessor(set, cfg)
	require.NoError(t, err)
	p.now = func() time.Time { return testNow }
	return p
}

// newTestTraces wires the processor the way the factory does, but with a
// fixed clock.
func newTestTraces(t testing.TB, cfg *Config, set processor.Settings, next consumer.Traces) (processor.Traces, *genaiProcessor) {
	t.Helper()
	p := newTestProcessor(t, cfg, set)
	tp, err := processorhelper.NewTraces(context.Background(), set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(p.start),
		processorhelper.WithShutdown(p.shutdown))
	require.NoError(t, err)
	return tp, p
}

func defaultCfg() *Config { return createDefaultConfig().(*Config) }

func TestGoldenTraces(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		expected string
		ctx      context.Context
		cfg      func(*Config)
	}{
		{name: "chat_current", ctx: withAuth(acmeAuth)},
		{name: "legacy_aliases", ctx: withAuth(acmeAuth)},
		{name: "plain_span", ctx: withAuth(acmeAuth)},
		{name: "error_span", ctx: withAuth(acmeAuth)},
		{name: "streaming", ctx: withAuth(acmeAuth)},
		{name: "unknown_model", ctx: withAuth(acmeAuth)},
		{name: "client_cost", ctx: withAuth(acmeAuth)},
		{name: "bad_values", ctx: withAuth(acmeAuth)},
		// One file per convention, written from the published specs.
		{name: "openinference", ctx: withAuth(acmeAuth)},
		{name: "openllmetry", ctx: withAuth(acmeAuth)},
		{name: "openlit", ctx: withAuth(acmeAuth)},
		{name: "otel_events", ctx: withAuth(acmeAuth)},
		{name: "otel_agent", ctx: withAuth(acmeAuth)},
		{name: "otel_current", ctx: withAuth(acmeAuth)},
		{name: "otel_v136", ctx: withAuth(acmeAuth)},
		{name: "otel_v136_agent", ctx: withAuth(acmeAuth)},
		{name: "openllmetry_current", ctx: withAuth(acmeAuth)},
		{name: "openlit_agent", ctx: withAuth(acmeAuth)},
		{name: "openlit_legacy", ctx: withAuth(acmeAuth)},
		{
			name: "openinference_keep_original", input: "openinference", ctx: withAuth(acmeAuth),
			cfg: func(c *Config) { c.Normalize.KeepOriginalAttributes = true },
		},
		{name: "tenant_auth", input: "tenant", ctx: withAuth(acmeAuth)},
		{
			name: "tenant_auth_overrides_trust", input: "tenant", ctx: withAuth(acmeAuth),
			cfg: func(c *Config) { c.Tenant.TrustResourceAttributes = true },
		},
		{name: "tenant_no_auth", input: "tenant", ctx: context.Background()},
		{
			// Auth data from another authenticator, without our attributes.
			name: "tenant_foreign_auth", input: "tenant", expected: "tenant_no_auth",
			ctx: withAuth(authData{"subject": "someone"}),
		},
		{
			name: "tenant_no_auth_defaults", input: "tenant", ctx: context.Background(),
			cfg: func(c *Config) { c.Tenant.DefaultOrgID, c.Tenant.DefaultProjectID = "org_default", "proj_default" },
		},
		{
			name: "tenant_trusted", input: "tenant", ctx: context.Background(),
			cfg: func(c *Config) {
				c.Tenant.TrustResourceAttributes = true
				c.Tenant.DefaultOrgID, c.Tenant.DefaultProjectID = "org_default", "proj_default"
			},
		},
		{
			name: "mapping_override", ctx: withAuth(acmeAuth),
			cfg: func(c *Config) {
				c.Normalize.MappingFile = filepath.Join("testdata", "mapping_override.yaml")
				c.Cost.PriceTableFile = filepath.Join("testdata", "prices_override.yaml")
			},
		},
		{
			name: "keep_original", input: "legacy_aliases", ctx: withAuth(acmeAuth),
			cfg: func(c *Config) { c.Normalize.KeepOriginalAttributes = true },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultCfg()
			if tt.cfg != nil {
				tt.cfg(cfg)
			}
			require.NoError(t, cfg.Validate())
			input, expected := tt.input, tt.expected
			if input == "" {
				input = tt.name
			}
			if expected == "" {
				expected = tt.name
			}
			td, err := golden.ReadTraces(filepath.Join("testdata", "input", input+".yaml"))
			require.NoError(t, err)

			sink := new(consumertest.TracesSink)
			tp, _ := newTestTraces(t, cfg, processortest.NewNopSettings(typ), sink)
			require.NoError(t, tp.Start(context.Background(), componenttest.NewNopHost()))
			t.Cleanup(func() { require.NoError(t, tp.Shutdown(context.Background())) })
			require.NoError(t, tp.ConsumeTraces(tt.ctx, td))
			require.Len(t, sink.AllTraces(), 1)
			actual := sink.AllTraces()[0]

			expectedPath := filepath.Join("testdata", "expected", expected+".yaml")
			if *update && tt.expected == "" {
				require.NoError(t, golden.WriteTracesToFile(expectedPath, actual))
			}
			want, err := golden.ReadTraces(expectedPath)
			require.NoError(t, err)
			require.NoError(t, ptracetest.CompareTraces(want, actual))

			assertCanonical(t, actual)
			assertIdempotent(t, cfg, tt.ctx, actual)
		})
	}
}

// assertCanonical checks the output contract: every span converts with
// llmcall.FromSpan, and every GenAI span carries its source convention and
// is an LLM call, unless it is an agent or tool span (kept in the trace,
// not counted as a model call).
func assertCanonical(t *testing.T, td ptrace.Traces) {
	t.Helper()
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				call, err := llmcall.FromSpan(rs.Resource(), span)
				require.NoError(t, err)
				if _, ok := span.Attributes().Get(llmcall.AttrSourceConvention); ok {
					switch call.Operation {
					case "invoke_agent", "create_agent", "execute_tool":
						assert.False(t, call.IsLLM, "span %s", span.Name())
					default:
						assert.True(t, call.IsLLM, "span %s", span.Name())
					}
					assert.NotEmpty(t, call.SourceConvention)
				}
			}
		}
	}
}

// assertIdempotent runs the output through the processor again (a second
// collector behind Kafka with trusted resource attributes) and expects no
// change.
func assertIdempotent(t *testing.T, cfg *Config, ctx context.Context, td ptrace.Traces) {
	t.Helper()
	second := *cfg
	second.Tenant = TenantConfig{TrustResourceAttributes: true}
	p := newTestProcessor(t, &second, processortest.NewNopSettings(typ))
	again := ptrace.NewTraces()
	td.CopyTo(again)
	out, err := p.processTraces(ctx, again)
	require.NoError(t, err)
	require.NoError(t, ptracetest.CompareTraces(td, out), "second pass changed the output")
}

func TestGoldenLogs(t *testing.T) {
	ld, err := golden.ReadLogs(filepath.Join("testdata", "input", "logs.yaml"))
	require.NoError(t, err)
	sink := new(consumertest.LogsSink)
	lp, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(typ), defaultCfg(), sink)
	require.NoError(t, err)
	require.NoError(t, lp.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, lp.Shutdown(context.Background())) }()
	require.NoError(t, lp.ConsumeLogs(withAuth(acmeAuth), ld))
	require.Len(t, sink.AllLogs(), 1)
	actual := sink.AllLogs()[0]
	expectedPath := filepath.Join("testdata", "expected", "logs.yaml")
	if *update {
		require.NoError(t, golden.WriteLogsToFile(expectedPath, actual))
	}
	want, err := golden.ReadLogs(expectedPath)
	require.NoError(t, err)
	require.NoError(t, plogtest.CompareLogs(want, actual))
}

func processortestSettings() processor.Settings { return processortest.NewNopSettings(typ) }

// TestGoldenRejected feeds whole requests that must be refused: nothing
// reaches the next consumer and the error is permanent (HTTP 400 / gRPC
// InvalidArgument at the OTLP receiver).
func TestGoldenRejected(t *testing.T) {
	tests := []struct {
		file     string
		sentinel error
		contains string
	}{
		{"absurd_timestamp.yaml", ErrAbsurdTimestamp, `span "chat gpt-4o-mini" (trace_id 5b8efff798038103d269b633813fc60c, span_id b2b2b2b2b2b2b2b2): start time 1970-01-01T00:00:01.7776368Z is before 2000-01-01T00:00:00Z`},
		// A JSON file: YAML cannot carry the invalid byte.
		{"invalid_utf8.json", ErrInvalidUTF8, `span "chat caf\xc3(" (trace_id 5b8efff798038103d269b633813fc60c, span_id b2b2b2b2b2b2b2b2): span name`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			td, err := golden.ReadTraces(filepath.Join("testdata", "input", tt.file))
			require.NoError(t, err)
			sink := new(consumertest.TracesSink)
			tp, _ := newTestTraces(t, defaultCfg(), processortestSettings(), sink)
			err = tp.ConsumeTraces(withAuth(acmeAuth), td)
			require.Error(t, err)
			assert.True(t, consumererror.IsPermanent(err))
			assert.ErrorIs(t, err, tt.sentinel)
			assert.Contains(t, err.Error(), tt.contains)
			assert.Zero(t, sink.SpanCount())
		})
	}
}
