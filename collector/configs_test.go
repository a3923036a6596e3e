package collector

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/otelcol/otelcoltest"
)

// TestConfigsAreValid loads every shipped collector config with the
// distribution's factories, so a renamed key or component fails here and
// not in someone's deployment.
func TestConfigsAreValid(t *testing.T) {
	t.Setenv("OBSERVATORY_DATABASE_URL", "postgres://observatory@db:5432/observatory")
	t.Setenv("OBSERVATORY_SECRET", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	t.Setenv("KAFKA_BROKERS", "kafka:9092")
	factories, err := Components(Overrides{})
	require.NoError(t, err)
	files, err := filepath.Glob("../otel-config/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := os.Stat(f)
			require.NoError(t, err)
			_, err = otelcoltest.LoadConfigAndValidate(f, factories)
			require.NoError(t, err)
		})
	}
}
