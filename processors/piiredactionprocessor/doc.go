// Package piiredactionprocessor is the piiredaction collector processor
// (component type "piiredaction", traces and logs). It finds personal data
// and secrets in span attributes (including the JSON inside JSON-string
// attributes such as gen_ai.input.messages), span event and link
// attributes, span status messages, log record attributes and log bodies,
// and applies the storage mode of the span's project:
//
//   - redacted (default): typed placeholders, consistent within a call
//     (<EMAIL_1> for the same address everywhere in that span);
//   - hashed: HMAC-SHA256 tokens (<EMAIL_h3fa2c91b0d4e7a65>), stable across
//     calls, for joins without the value;
//   - none: content attributes dropped, the rest redacted, metadata kept;
//   - full: content kept, entities still counted.
//
// Counts per entity type are written on each span / log record as
// observatory.pii.<type> (int) next to observatory.pii.mode, and exported
// as metrics through the component's MeterProvider.
//
// It runs after genai (which stamps observatory.project.id and writes the
// canonical content attributes) and after quality scoring, before batch and
// the exporters, so scores see raw text and storage never does.
//
// internal/metadata is written by hand in the layout mdatagen generates
// from metadata.yaml (mdatagen v0.165.0 is not installable as
// go.opentelemetry.io/collector/cmd/mdatagen); keep the two in sync.
package piiredactionprocessor // import "github.com/llm-observatory/observatory/processors/piiredactionprocessor"
