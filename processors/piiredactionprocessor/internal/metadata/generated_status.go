// Written by hand in the layout mdatagen generates from metadata.yaml
// (mdatagen is not installable for collector v0.165.0 as
// go.opentelemetry.io/collector/cmd/mdatagen). Keep it in sync with
// metadata.yaml; TestMetadataInSync checks the two agree.

// Package metadata contains the telemetry and build information of the
// piiredaction processor component.
package metadata

import (
	"go.opentelemetry.io/collector/component"
)

var (
	Type      = component.MustNewType("piiredaction")
	ScopeName = "github.com/llm-observatory/observatory/processors/piiredactionprocessor"
)

const (
	TracesStability = component.StabilityLevelAlpha
	LogsStability   = component.StabilityLevelAlpha
)
