package genaiprocessor

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/llm-observatory/observatory/processors/genaiprocessor/internal/metadata"
)

func TestFactory(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	assert.Equal(t, metadata.TracesStability, f.TracesStability())
	assert.Equal(t, metadata.LogsStability, f.LogsStability())

	tp, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(typ), f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	assert.True(t, tp.Capabilities().MutatesData)
	lp, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(typ), f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	assert.True(t, lp.Capabilities().MutatesData)

	// Metrics are not supported.
	_, err = f.CreateMetrics(context.Background(), processortest.NewNopSettings(typ), f.CreateDefaultConfig(), consumertest.NewNop())
	require.Error(t, err)
}

func TestFactoryRejectsBrokenFiles(t *testing.T) {
	f := NewFactory()
	for name, mutate := range map[string]func(*Config){
		"mapping": func(c *Config) { c.Normalize.MappingFile = filepath.Join("testdata", "mapping_broken.yaml") },
		"prices":  func(c *Config) { c.Cost.PriceTableFile = filepath.Join("testdata", "prices_broken.yaml") },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := defaultCfg()
			mutate(cfg)
			_, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(typ), cfg, consumertest.NewNop())
			require.Error(t, err)
			_, err = f.CreateLogs(context.Background(), processortest.NewNopSettings(typ), cfg, consumertest.NewNop())
			require.Error(t, err)
		})
	}
}

func TestStartLogsVersions(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	set := processortest.NewNopSettings(typ)
	set.Logger = zap.New(core)
	cfg := defaultCfg()
	cfg.Cost.PriceTableFile = filepath.Join("testdata", "prices_override.yaml")
	tp, err := NewFactory().CreateTraces(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, tp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, tp.Shutdown(context.Background()))
	entries := logs.FilterMessage("GenAI processor started").All()
	require.Len(t, entries, 1)
	fields := entries[0].ContextMap()
	assert.Equal(t, "2", fields["mapping_version"])
	assert.Equal(t, []any{embeddedVersion, "acme-2026-01"}, fields["price_table_versions"])
}
