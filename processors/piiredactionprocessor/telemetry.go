package piiredactionprocessor

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"go.opentelemetry.io/collector/component"

	"github.com/llm-observatory/observatory/processors/piiredactionprocessor/internal/metadata"
)

// batchStats are counted while a request is processed and recorded once.
type batchStats struct {
	detected      [numModes][]int64 // per mode, per entity type
	spans         [numModes]int64
	spansRedacted [numModes]int64
	logs          [numModes]int64
	logsRedacted  [numModes]int64
	invalidJSON   int64
}

func newBatchStats(types int) batchStats {
	var s batchStats
	for m := range s.detected {
		s.detected[m] = make([]int64, types)
	}
	return s
}

func (s *batchStats) reset() {
	for m := range s.detected {
		clear(s.detected[m])
	}
	s.spans, s.spansRedacted, s.logs, s.logsRedacted = [numModes]int64{}, [numModes]int64{}, [numModes]int64{}, [numModes]int64{}
	s.invalidJSON = 0
}

// telemetry records the component's metrics through the MeterProvider of
// its TelemetrySettings. Attribute sets are built once.
type telemetry struct {
	tb        *metadata.TelemetryBuilder
	detected  [numModes][]metric.AddOption // entity_type × mode
	modeAttrs [numModes]metric.AddOption
	noAttrs   metric.AddOption
}

func newTelemetry(set component.TelemetrySettings, reg *registry) (*telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	t := &telemetry{tb: tb, noAttrs: metric.WithAttributeSet(attribute.NewSet())}
	for m, mode := range modesByIndex {
		t.modeAttrs[m] = metric.WithAttributeSet(attribute.NewSet(attribute.String("mode", string(mode))))
		t.detected[m] = make([]metric.AddOption, reg.len())
		for e, name := range reg.names {
			t.detected[m][e] = metric.WithAttributeSet(attribute.NewSet(
				attribute.String("entity_type", name), attribute.String("mode", string(mode))))
		}
	}
	return t, nil
}

func (t *telemetry) record(ctx context.Context, s *batchStats) {
	for m := range numModes {
		for e, n := range s.detected[m] {
			if n > 0 {
				t.tb.ObservatoryPiiDetected.Add(ctx, n, t.detected[m][e])
			}
		}
		if s.spans[m] > 0 {
			t.tb.ObservatoryPiiSpans.Add(ctx, s.spans[m], t.modeAttrs[m])
		}
		if s.spansRedacted[m] > 0 {
			t.tb.ObservatoryPiiSpansRedacted.Add(ctx, s.spansRedacted[m], t.modeAttrs[m])
		}
		if s.logs[m] > 0 {
			t.tb.ObservatoryPiiLogRecords.Add(ctx, s.logs[m], t.modeAttrs[m])
		}
		if s.logsRedacted[m] > 0 {
			t.tb.ObservatoryPiiLogRecordsRedacted.Add(ctx, s.logsRedacted[m], t.modeAttrs[m])
		}
	}
	if s.invalidJSON > 0 {
		t.tb.ObservatoryPiiInvalidJSON.Add(ctx, s.invalidJSON, t.noAttrs)
	}
}

func (t *telemetry) shutdown() {
	t.tb.Shutdown()
}
