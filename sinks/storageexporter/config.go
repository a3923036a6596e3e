package storageexporter

import (
	"errors"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config of the observatory_storage exporter.
type Config struct {
	// DatabaseURL is postgres://… or a SQLite file path. Required unless the
	// factory was built with an injected store (observatory run does that).
	DatabaseURL configopaque.String `mapstructure:"database_url"`

	exporterhelper.TimeoutConfig `mapstructure:",squash"`
	// QueueBatch batches spans before a write. wait_for_result is on by
	// default so the sender is answered only once its spans are durable.
	QueueBatch configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	Retry      configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
}

func createDefaultConfig() *Config {
	q := exporterhelper.QueueBatchConfig{
		WaitForResult: true,
		Sizer:         exporterhelper.RequestSizerTypeItems,
		QueueSize:     100_000,
		NumConsumers:  4,
		Batch: configoptional.Some(exporterhelper.BatchConfig{
			FlushTimeout: 50 * time.Millisecond,
			Sizer:        exporterhelper.RequestSizerTypeItems,
			MinSize:      2000,
			MaxSize:      10000,
			Partition:    exporterhelper.PartitionConfig{CacheSize: 10000, IdleTimeout: 90 * time.Second},
		}),
	}
	return &Config{
		TimeoutConfig: exporterhelper.TimeoutConfig{Timeout: 30 * time.Second},
		QueueBatch:    configoptional.Some(q),
		Retry:         configretry.NewDefaultBackOffConfig(),
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Timeout < 0 {
		return errors.New("timeout must not be negative")
	}
	return nil
}
