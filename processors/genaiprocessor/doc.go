// Package genaiprocessor is the genai collector processor (component type
// "genai"). It is the first processor of the ingest pipeline and the first
// place that sees decoded spans:
//
//   - it rejects requests with absurd timestamps or invalid UTF-8 with a
//     permanent error (HTTP 400 / gRPC InvalidArgument at the OTLP receiver);
//   - it stamps the tenant (observatory.org.id, observatory.project.id) from
//     the API-key authenticator onto every resource, overwriting whatever the
//     client sent;
//   - it rewrites every GenAI span, whatever convention it arrived in (OTel
//     GenAI current and <= 1.36, OpenInference, OpenLLMetry/Traceloop,
//     OpenLIT), into the canonical shape read by internal/llmcall: the
//     current OTel GenAI attributes (gen_ai.*, v1.37+), message content in
//     the OTel message schema, plus observatory.* attributes for total
//     tokens, endpoint, source convention and cost (from an embedded,
//     versioned price table with effective dates: PriceTable, LoadPriceFile);
//   - it joins content that arrives only in log records (<= 1.36 events,
//     gen_ai.client.inference.operation.details) onto its span, by trace and
//     span id, in a bounded buffer shared by the traces and logs instances of
//     one component ID.
//
// Which attribute keys carry which field, in which priority, which keys mark
// which convention and where content may hide lives in the embedded
// mapping.yaml (overridable with normalize.mapping_file), not in code. Spans
// without GenAI attributes pass through untouched apart from the tenant.
// The logs pipeline gets tenant stamping, UTF-8 validation and the content
// join; log records always go on down the logs pipeline.
//
// The processor must run before batch: batch drops the request context and
// with it the tenant.
//
// internal/metadata is written by hand in the layout mdatagen generates from
// metadata.yaml (mdatagen v0.165.0 is not installable as
// go.opentelemetry.io/collector/cmd/mdatagen); keep the two in sync.
package genaiprocessor // import "github.com/llm-observatory/observatory/processors/genaiprocessor"
