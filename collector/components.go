// Package collector is the LLM Observatory OpenTelemetry Collector
// distribution: the factories every role runs with. builder-config.yaml
// beside it lists the same components for users who build their own
// collector with OCB; a test keeps the two in sync.
package collector

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/exporter/nopexporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/processor/memorylimiterprocessor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/kafkaexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/kafkareceiver"

	"github.com/llm-observatory/observatory/extensions/apikeyauthextension"
	"github.com/llm-observatory/observatory/processors/genaiprocessor"
	"github.com/llm-observatory/observatory/processors/piiredactionprocessor"
	"github.com/llm-observatory/observatory/sinks/storageexporter"
)

// Overrides replaces factories of the same type; observatory run uses it
// to hand its own store and key verifier to the components.
type Overrides struct {
	Extensions []extension.Factory
	Exporters  []exporter.Factory
}

// Components returns the distribution's factories.
func Components(o Overrides) (otelcol.Factories, error) {
	var err error
	f := otelcol.Factories{Telemetry: otelconftelemetry.NewFactory()}
	if f.Extensions, err = otelcol.MakeFactoryMap(
		apikeyauthextension.NewFactory(),
	); err != nil {
		return f, err
	}
	replace(f.Extensions, o.Extensions)
	if f.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](
		otlpreceiver.NewFactory(),
		kafkareceiver.NewFactory(),
	); err != nil {
		return f, err
	}
	if f.Processors, err = otelcol.MakeFactoryMap[processor.Factory](
		memorylimiterprocessor.NewFactory(),
		batchprocessor.NewFactory(),
		genaiprocessor.NewFactory(),
		piiredactionprocessor.NewFactory(),
	); err != nil {
		return f, err
	}
	if f.Exporters, err = otelcol.MakeFactoryMap(
		debugexporter.NewFactory(),
		nopexporter.NewFactory(),
		kafkaexporter.NewFactory(),
		storageexporter.NewFactory(),
	); err != nil {
		return f, err
	}
	replace(f.Exporters, o.Exporters)
	f.Connectors, err = otelcol.MakeFactoryMap[connector.Factory]()
	return f, err
}

// BuildInfo identifies the distribution.
func BuildInfo(version string) component.BuildInfo {
	return component.BuildInfo{Command: "observatory", Description: "LLM Observatory collector", Version: version}
}

func replace[T component.Factory](m map[component.Type]T, with []T) {
	for _, f := range with {
		m[f.Type()] = f
	}
}
