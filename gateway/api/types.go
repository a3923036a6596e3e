package api

import "encoding/json"

// ChatRequest is the body of POST /v1/chat/completions. Fields the gateway
// reads are typed; the others are kept verbatim as raw JSON so they reach
// OpenAI-compatible upstreams unchanged.
type ChatRequest struct {
	Model    string    `json:"model"`
	Messages []Message `json:"messages"`

	Stream        bool           `json:"stream,omitempty"`
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`

	MaxTokens           *int     `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int     `json:"max_completion_tokens,omitempty"`
	Temperature         *float64 `json:"temperature,omitempty"`
	TopP                *float64 `json:"top_p,omitempty"`
	N                   *int     `json:"n,omitempty"`
	Stop                Raw      `json:"stop,omitempty"`
	Tools               []Tool   `json:"tools,omitempty"`
	ToolChoice          Raw      `json:"tool_choice,omitempty"`
	User                string   `json:"user,omitempty"`
	Seed                *int64   `json:"seed,omitempty"`

	FrequencyPenalty  *float64 `json:"frequency_penalty,omitempty"`
	PresencePenalty   *float64 `json:"presence_penalty,omitempty"`
	Audio             Raw      `json:"audio,omitempty"`
	FunctionCall      Raw      `json:"function_call,omitempty"`
	Functions         Raw      `json:"functions,omitempty"`
	LogitBias         Raw      `json:"logit_bias,omitempty"`
	Logprobs          *bool    `json:"logprobs,omitempty"`
	TopLogprobs       *int     `json:"top_logprobs,omitempty"`
	Metadata          Raw      `json:"metadata,omitempty"`
	Modalities        Raw      `json:"modalities,omitempty"`
	ParallelToolCalls *bool    `json:"parallel_tool_calls,omitempty"`
	Prediction        Raw      `json:"prediction,omitempty"`
	PromptCacheKey    string   `json:"prompt_cache_key,omitempty"`
	ReasoningEffort   string   `json:"reasoning_effort,omitempty"`
	ResponseFormat    Raw      `json:"response_format,omitempty"`
	SafetyIdentifier  string   `json:"safety_identifier,omitempty"`
	ServiceTier       string   `json:"service_tier,omitempty"`
	Store             *bool    `json:"store,omitempty"`
	Verbosity         string   `json:"verbosity,omitempty"`
	WebSearchOptions  Raw      `json:"web_search_options,omitempty"`
}

// Raw is verbatim JSON; empty means absent.
type Raw = json.RawMessage

// StreamOptions of a streamed chat request.
type StreamOptions struct {
	IncludeUsage       *bool `json:"include_usage,omitempty"`
	IncludeObfuscation *bool `json:"include_obfuscation,omitempty"`
}

// Message is one chat message. Content is a string or an array of parts.
type Message struct {
	Role         string     `json:"role"`
	Content      Raw        `json:"content,omitempty"`
	Name         string     `json:"name,omitempty"`
	ToolCalls    []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID   string     `json:"tool_call_id,omitempty"`
	Refusal      *string    `json:"refusal,omitempty"`
	Audio        Raw        `json:"audio,omitempty"`
	FunctionCall Raw        `json:"function_call,omitempty"`
}

// ContentPart is one element of an array message content.
type ContentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
	Refusal  string    `json:"refusal,omitempty"`
}

// ImageURL of an image part.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// Tool is a function the model may call.
type Tool struct {
	Type     string       `json:"type"`
	Function ToolFunction `json:"function"`
}

// ToolFunction describes a callable function.
type ToolFunction struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Parameters  Raw    `json:"parameters,omitempty"`
	Strict      *bool  `json:"strict,omitempty"`
}

// ToolCall is a call the model made.
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names a function and its JSON-encoded arguments.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ChatResponse is a non-streamed chat completion.
type ChatResponse struct {
	ID                string   `json:"id"`
	Object            string   `json:"object"`
	Created           int64    `json:"created"`
	Model             string   `json:"model"`
	Choices           []Choice `json:"choices"`
	Usage             *Usage   `json:"usage,omitempty"`
	SystemFingerprint string   `json:"system_fingerprint,omitempty"`
	ServiceTier       string   `json:"service_tier,omitempty"`
}

// Choice is one generated alternative.
type Choice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     Raw             `json:"logprobs,omitempty"`
}

// ResponseMessage is the assistant message of a choice.
type ResponseMessage struct {
	Role      string     `json:"role"`
	Content   *string    `json:"content"`
	Refusal   *string    `json:"refusal,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// Usage is token accounting.
type Usage struct {
	PromptTokens            int                      `json:"prompt_tokens"`
	CompletionTokens        int                      `json:"completion_tokens"`
	TotalTokens             int                      `json:"total_tokens"`
	PromptTokensDetails     *PromptTokensDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *CompletionTokensDetails `json:"completion_tokens_details,omitempty"`
}

// PromptTokensDetails breaks input tokens down.
type PromptTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
	// CacheWriteTokens is not sent by OpenAI; the Anthropic translation
	// fills it so the span can carry cache writes.
	CacheWriteTokens int `json:"-"`
}

// CompletionTokensDetails breaks output tokens down.
type CompletionTokensDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// ChatChunk is one event of a streamed chat completion.
type ChatChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint,omitempty"`
	Choices           []ChunkChoice `json:"choices"`
	Usage             *Usage        `json:"usage,omitempty"`
}

// ChunkChoice is the delta of one choice.
type ChunkChoice struct {
	Index        int     `json:"index"`
	Delta        Delta   `json:"delta"`
	FinishReason *string `json:"finish_reason"`
	Logprobs     Raw     `json:"logprobs,omitempty"`
}

// Delta is the incremental part of a streamed message.
type Delta struct {
	Role      string          `json:"role,omitempty"`
	Content   *string         `json:"content,omitempty"`
	Refusal   *string         `json:"refusal,omitempty"`
	ToolCalls []ToolCallDelta `json:"tool_calls,omitempty"`
}

// ToolCallDelta is an incremental tool call.
type ToolCallDelta struct {
	Index    int               `json:"index"`
	ID       string            `json:"id,omitempty"`
	Type     string            `json:"type,omitempty"`
	Function FunctionCallDelta `json:"function"`
}

// FunctionCallDelta is an incremental function call.
type FunctionCallDelta struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}

// EmbeddingsRequest is the body of POST /v1/embeddings. Input is a string,
// an array of strings, an array of token ids or an array of such arrays.
type EmbeddingsRequest struct {
	Model          string `json:"model"`
	Input          Raw    `json:"input"`
	EncodingFormat string `json:"encoding_format,omitempty"`
	Dimensions     *int   `json:"dimensions,omitempty"`
	User           string `json:"user,omitempty"`
}

// EmbeddingsResponse lists one embedding per input. Embedding is a JSON
// array of floats, or a base64 string of little-endian float32s when the
// request asked for encoding_format "base64".
type EmbeddingsResponse struct {
	Object string      `json:"object"`
	Data   []Embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  *Usage      `json:"usage,omitempty"`
}

// Embedding is one vector.
type Embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding Raw    `json:"embedding"`
}

// Model is an entry of GET /v1/models.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ModelList is the body of GET /v1/models.
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}
