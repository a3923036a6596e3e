package genaiprocessor

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/llm-observatory/observatory/processors/genaiprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		id       component.ID
		expected component.Config
		// errContains: Validate fails with these substrings.
		errContains []string
		// unmarshalErr: the YAML itself does not fit the Config.
		unmarshalErr string
	}{
		{
			id:       component.NewID(metadata.Type),
			expected: createDefaultConfig(),
		},
		{
			id: component.NewIDWithName(metadata.Type, "full"),
			expected: &Config{
				Tenant: TenantConfig{
					TrustResourceAttributes: true,
					DefaultOrgID:            "org_default",
					DefaultProjectID:        "proj_default",
				},
				Validation: ValidationConfig{MaxFutureSkew: 15 * time.Minute},
				Normalize: NormalizeConfig{
					MappingFile:            "testdata/mapping_override.yaml",
					MaxTokenCount:          5_000_000,
					KeepOriginalAttributes: true,
					MaxContentBytes:        65536,
				},
				Cost: CostConfig{PriceTableFile: "testdata/prices_override.yaml"},
				ContentJoin: ContentJoinConfig{
					Enabled:              false,
					Wait:                 500 * time.Millisecond,
					MaxPendingSpans:      100,
					MaxPendingLogRecords: 1000,
				},
			},
		},
		{
			id:           component.NewIDWithName(metadata.Type, "unknown_key"),
			unmarshalErr: "default_org",
		},
		{
			id:          component.NewIDWithName(metadata.Type, "project_without_org"),
			errContains: []string{"tenant::default_project_id requires tenant::default_org_id"},
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad_limits"),
			errContains: []string{
				"validation::max_future_skew must be greater than 0",
				"normalize::max_token_count must be greater than 0",
				"normalize::max_content_bytes must be at least 1024",
				"content_join::wait must be greater than 0 and at most 5m0s",
				"content_join::max_pending_spans must be greater than 0",
				"content_join::max_pending_log_records must be greater than 0",
			},
		},
		{
			id:          component.NewIDWithName(metadata.Type, "missing_files"),
			errContains: []string{"normalize::mapping_file: reading mapping file", "cost::price_table_file: reading price table file"},
		},
		{
			id: component.NewIDWithName(metadata.Type, "broken_files"),
			errContains: []string{
				`fields.provider: target must be "gen_ai.provider.name"`,
				`fields.bogus: unknown type "number"`,
				"gpt-x:typo_field: unknown field",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			t.Parallel()
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			err = sub.Unmarshal(cfg)
			if tt.unmarshalErr != "" {
				require.ErrorContains(t, err, tt.unmarshalErr)
				return
			}
			require.NoError(t, err)
			verr := confmap.Validate(cfg)
			if len(tt.errContains) > 0 {
				require.Error(t, verr)
				for _, s := range tt.errContains {
					assert.ErrorContains(t, verr, s)
				}
				return
			}
			require.NoError(t, verr)
			assert.Equal(t, tt.expected, cfg)
		})
	}
}

func TestCreateDefaultConfigIsValid(t *testing.T) {
	t.Parallel()
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, time.Hour, cfg.Validation.MaxFutureSkew)
	assert.Equal(t, int64(100_000_000), cfg.Normalize.MaxTokenCount)
	assert.False(t, cfg.Tenant.TrustResourceAttributes)
	assert.Equal(t, 1<<20, cfg.Normalize.MaxContentBytes)
	assert.Equal(t, ContentJoinConfig{Enabled: true, Wait: 2 * time.Second, MaxPendingSpans: 10_000, MaxPendingLogRecords: 50_000}, cfg.ContentJoin)
}
