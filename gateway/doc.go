// Package gateway is LLM Observatory's OpenAI-compatible gateway: the way
// in for callers that are not instrumented. Point any OpenAI client at it
// (base URL http://host:8080/v1, a project API key with the gateway scope
// as the API key) and every call becomes one OpenTelemetry span in the
// current GenAI conventions, exported through the collector pipeline like
// any instrumented app's — the gateway never touches storage.
//
// It serves POST /v1/chat/completions (JSON and SSE streaming), POST
// /v1/embeddings, GET /v1/models and POST /v1/ingest (external call
// records, converted to spans). Models route to providers configured in
// YAML — the built-in mock, any OpenAI-compatible API, Azure OpenAI and
// Anthropic (translated) — with retries (exponential backoff with jitter,
// honouring Retry-After) and fallbacks. Per-key requests/min and
// tokens/min limits answer 429 with Retry-After in OpenAI's error shape.
//
// Spans are built and exported off the request path: the handler hands a
// record to a builder goroutine, which creates the span through a
// per-project TracerProvider (the project is the caller's key's) feeding a
// bounded, retrying export queue. The gateway's own processing time,
// without upstream time, is the observatory_gateway_overhead_seconds
// histogram.
//
// Non-goals: caching, prompt templating, load balancing by latency, the
// Responses and Assistants APIs, audio and images endpoints.
package gateway
