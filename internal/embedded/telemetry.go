package embedded

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/service/telemetry"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// telemetryFactory is the collector's own telemetry factory with one
// change: component metrics go to reg, so the query API's /metrics shows
// the pipeline's counters (received, stored, rejected by reason) next to
// its own instead of on a second port.
func telemetryFactory(reg prometheus.Registerer) telemetry.Factory {
	base := otelconftelemetry.NewFactory()
	return telemetry.NewFactory(base.CreateDefaultConfig,
		telemetry.WithCreateResource(base.CreateResource),
		telemetry.WithCreateLogger(base.CreateLogger),
		telemetry.WithCreateTracerProvider(base.CreateTracerProvider),
		telemetry.WithCreateMeterProvider(func(context.Context, telemetry.MeterSettings, component.Config) (telemetry.MeterProvider, error) {
			exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
			if err != nil {
				return nil, fmt.Errorf("prometheus exporter: %w", err)
			}
			return sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp)), nil
		}))
}
