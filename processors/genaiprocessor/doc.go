// Package genaiprocessor is the genai collector processor (component type
// "genai"). It is the first processor of the ingest pipeline and the first
// place that sees decoded spans:
//
//   - it rejects requests with absurd timestamps or invalid UTF-8 with a
//     permanent error (HTTP 400 / gRPC InvalidArgument at the OTLP receiver);
//   - it stamps the tenant (observatory.org.id, observatory.project.id) from
//     the API-key authenticator onto every resource, overwriting whatever the
//     client sent;
//   - it rewrites every GenAI span into the canonical shape read by
//     internal/llmcall: the current OTel GenAI attributes (gen_ai.*, v1.37+)
//     plus observatory.* attributes for total tokens, endpoint, source
//     convention and cost (from an embedded, versioned price table).
//
// Which attribute keys carry which field, in which priority, lives in the
// embedded mapping.yaml (overridable with normalize.mapping_file), not in
// code. Spans without GenAI attributes pass through untouched apart from the
// tenant. The logs pipeline gets tenant stamping and UTF-8 validation.
//
// The processor must run before batch: batch drops the request context and
// with it the tenant.
//
// internal/metadata is written by hand in the layout mdatagen generates from
// metadata.yaml (mdatagen v0.165.0 is not installable as
// go.opentelemetry.io/collector/cmd/mdatagen); keep the two in sync.
package genaiprocessor // import "github.com/llm-observatory/observatory/processors/genaiprocessor"
