// Package llmcall is the canonical LLM call: the one shape every component
// downstream of the genai processor reads, and the one conversion from an
// OTLP span to a stored call record. Nothing else in the repository decides
// how a span becomes a row.
package llmcall

import (
	"encoding/json"
	"time"
)

// Status of a call, normalised from the span status.
const (
	StatusUnset = "unset"
	StatusOK    = "ok"
	StatusError = "error"
)

// Cost sources.
const (
	CostSourcePriceTable = "price_table"
	CostSourceClient     = "client"
)

// Call is one stored span. When IsLLM is false only identity, timing,
// status and attributes are meaningful: the span is kept so the trace view
// is whole, but it is not counted as an LLM call.
type Call struct {
	// Tenant. OrgID and ProjectID come from the ingest API key, never from
	// client-sent attributes.
	OrgID       string `json:"org_id"`
	ProjectID   string `json:"project_id"`
	Endpoint    string `json:"endpoint,omitempty"`
	Environment string `json:"environment,omitempty"`
	ServiceName string `json:"service_name,omitempty"`

	// Identity (lower-case hex).
	TraceID      string `json:"trace_id"`
	SpanID       string `json:"span_id"`
	ParentSpanID string `json:"parent_span_id,omitempty"`
	Name         string `json:"name"`
	Kind         string `json:"kind,omitempty"`
	SessionID    string `json:"session_id,omitempty"`
	UserID       string `json:"user_id,omitempty"`

	// Timing. Stored at microsecond precision.
	StartTime time.Time `json:"start_time"`
	EndTime   time.Time `json:"end_time"`
	// LatencyMS is EndTime-StartTime in milliseconds.
	LatencyMS float64 `json:"latency_ms"`
	// TTFTMS is the time to first token of a streamed response; 0 when unknown.
	TTFTMS float64 `json:"ttft_ms,omitempty"`

	// Model.
	IsLLM            bool   `json:"is_llm"`
	Provider         string `json:"provider,omitempty"`
	Operation        string `json:"operation,omitempty"`
	RequestModel     string `json:"request_model,omitempty"`
	ResponseModel    string `json:"response_model,omitempty"`
	SourceConvention string `json:"source_convention,omitempty"`

	// Usage. Input includes cached tokens, output includes reasoning tokens.
	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
	ReasoningTokens  int64 `json:"reasoning_tokens,omitempty"`

	// Cost in USD.
	CostInputUSD  float64 `json:"cost_input_usd"`
	CostOutputUSD float64 `json:"cost_output_usd"`
	CostTotalUSD  float64 `json:"cost_total_usd"`
	CostSource    string  `json:"cost_source,omitempty"`
	// Unpriced is true for an LLM call whose model has no known price and
	// that carried no cost of its own: its cost is unknown, not zero.
	Unpriced bool `json:"unpriced"`

	// Outcome.
	Status        string   `json:"status"`
	StatusMessage string   `json:"status_message,omitempty"`
	ErrorType     string   `json:"error_type,omitempty"`
	HTTPStatus    int      `json:"http_status,omitempty"`
	FinishReasons []string `json:"finish_reasons,omitempty"`

	// Content as OTel GenAI message JSON (arrays), kept per the project's
	// storage mode. Empty when absent.
	InputMessages      json.RawMessage `json:"input_messages,omitempty"`
	OutputMessages     json.RawMessage `json:"output_messages,omitempty"`
	SystemInstructions json.RawMessage `json:"system_instructions,omitempty"`

	// Attributes holds every span and resource attribute not mapped to a
	// field above, as a JSON object. Unknown keys are kept.
	Attributes json.RawMessage `json:"attributes,omitempty"`
}
