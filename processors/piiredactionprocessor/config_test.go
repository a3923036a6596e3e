package piiredactionprocessor

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/llm-observatory/observatory/processors/piiredactionprocessor/internal/metadata"
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
				Mode:     ModeHashed,
				HashKey:  "0123456789abcdef0123456789abcdef",
				Entities: []string{"email", "phone", "secret"},
				CustomEntities: []CustomEntityConfig{
					{Name: "employee_id", Pattern: `EMP-\d{6}`},
					{Name: "routing_number", Pattern: `\b\d{9}\b`, Validator: "aba_routing"},
				},
				AllowList: AllowListConfig{
					Values:   []string{"support@example.com"},
					Patterns: []string{`.*@example\.org`},
					Keys:     []string{"user.id", "gen_ai.prompt.*.role"},
				},
				ContentKeys:            []string{"app.prompt", "app.completion"},
				ScanResourceAttributes: true,
				Projects: map[string]ProjectConfig{
					"prj_debug":  {Mode: ModeFull},
					"prj_strict": {Mode: ModeNone},
				},
			},
		},
		{id: component.NewIDWithName(metadata.Type, "unknown_key"), unmarshalErr: "allowlist"},
		{id: component.NewIDWithName(metadata.Type, "unknown_project_key"), unmarshalErr: "retention"},
		{
			id: component.NewIDWithName(metadata.Type, "bad_mode"),
			errContains: []string{
				`mode: unknown mode "masked"`,
				`projects::prj_x::mode: unknown mode "everything"`,
			},
		},
		{
			id:          component.NewIDWithName(metadata.Type, "hashed_without_key"),
			errContains: []string{"hash_key must be at least 32 bytes when a mode is hashed (got 0)"},
		},
		{
			id:          component.NewIDWithName(metadata.Type, "short_key"),
			errContains: []string{"hash_key must be at least 32 bytes when a mode is hashed (got 9)"},
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad_entities"),
			errContains: []string{
				`entities: unknown entity type "passport"`,
				`entities: "email" listed twice`,
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad_custom"),
			errContains: []string{
				`custom_entities[0]::name "Employee-ID"`,
				`custom_entities[1]::name "email" is a built-in entity type`,
				`custom_entities[2]::pattern matches the empty string`,
				`custom_entities[3]::pattern: error parsing regexp`,
				`custom_entities[3]::validator: unknown validator "crc32"`,
				`custom_entities[5]::name "dup" is defined twice`,
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad_allow"),
			errContains: []string{
				"allow_list::patterns[0]: error parsing regexp",
				"allow_list::keys[0]: key pattern a..b has an empty segment",
				"content_keys[0]: empty key pattern",
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
	assert.Equal(t, ModeRedacted, cfg.Mode)
	assert.Equal(t, builtinEntityNames[:], cfg.Entities)
	assert.False(t, cfg.ScanResourceAttributes)
}

// The hash key never shows up when the configuration is printed.
func TestHashKeyIsOpaque(t *testing.T) {
	t.Parallel()
	cfg := createDefaultConfig().(*Config)
	cfg.HashKey = "0123456789abcdef0123456789abcdef-secret"
	conf := confmap.New()
	require.NoError(t, conf.Marshal(cfg))
	assert.NotContains(t, conf.ToStringMap()["hash_key"], "secret")
}
