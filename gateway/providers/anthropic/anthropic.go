// Package anthropic is the provider for Anthropic's Messages API. It
// translates OpenAI chat completions into Messages requests (system
// prompts, content parts and images, tools and tool results, stop
// sequences) and translates responses back, including the SSE event stream
// (message_start, content_block_*, message_delta, message_stop, ping,
// error) into OpenAI's chat.completion.chunk stream.
package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/gateway/internal/sse"
	"github.com/llm-observatory/observatory/gateway/providers"
)

// Version is the anthropic-version header sent.
const Version = "2023-06-01"

// Options configure a provider. Zero values take the defaults in brackets.
type Options struct {
	// BaseURL is the API root without /v1 [https://api.anthropic.com].
	BaseURL string
	// APIKey is sent as x-api-key.
	APIKey providers.Secret
	// DefaultMaxTokens is sent when the caller sets no max_tokens (the
	// Messages API requires one) [4096].
	DefaultMaxTokens int
	// Client sends the requests [a client on providers.NewTransport].
	Client *http.Client
	// Timeout bounds a non-streamed attempt, and a streamed one until the
	// response headers arrive [60s].
	Timeout time.Duration
	// StreamIdleTimeout bounds the gap between two streamed events [60s].
	StreamIdleTimeout time.Duration
	// Now is the clock (created timestamps, Retry-After) [time.Now].
	Now func() time.Time
}

// Provider calls the Messages API.
type Provider struct {
	o    Options
	base string
}

// New validates o and returns a Provider.
func New(o Options) (*Provider, error) {
	if o.BaseURL == "" {
		o.BaseURL = "https://api.anthropic.com"
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("anthropic provider: base URL must be an absolute http(s) URL")
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, errors.New("anthropic provider: base URL must have no user info or query; put credentials in api_key")
	}
	if o.DefaultMaxTokens <= 0 {
		o.DefaultMaxTokens = 4096
	}
	if o.Client == nil {
		o.Client = &http.Client{Transport: providers.NewTransport(providers.TransportOptions{})}
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.StreamIdleTimeout <= 0 {
		o.StreamIdleTimeout = 60 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Provider{o: o, base: strings.TrimRight(o.BaseURL, "/")}, nil
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return providers.NameAnthropic }

// Embeddings implements providers.Provider: Anthropic has no embeddings API.
func (p *Provider) Embeddings(context.Context, *providers.EmbeddingsRequest) (*providers.EmbeddingsResponse, error) {
	return nil, providers.Classify(providers.NameAnthropic, fmt.Errorf("anthropic: embeddings: %w", providers.ErrUnsupported))
}

// Request is a Messages API request.
type Request struct {
	Model         string      `json:"model"`
	MaxTokens     int         `json:"max_tokens"`
	System        []Block     `json:"system,omitempty"`
	Messages      []Message   `json:"messages"`
	Temperature   *float64    `json:"temperature,omitempty"`
	TopP          *float64    `json:"top_p,omitempty"`
	StopSequences []string    `json:"stop_sequences,omitempty"`
	Stream        bool        `json:"stream,omitempty"`
	Tools         []Tool      `json:"tools,omitempty"`
	ToolChoice    *ToolChoice `json:"tool_choice,omitempty"`
	Metadata      *Metadata   `json:"metadata,omitempty"`
}

// Message is one turn.
type Message struct {
	Role    string  `json:"role"`
	Content []Block `json:"content"`
}

// Block is a content block.
type Block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	Source    *ImageSource    `json:"source,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   string          `json:"content,omitempty"`
}

// ImageSource of an image block.
type ImageSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

// Tool is a tool definition.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// ToolChoice says whether and which tool to use.
type ToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

// Metadata of a request.
type Metadata struct {
	UserID string `json:"user_id,omitempty"`
}

// Response is a Messages API response.
type Response struct {
	ID         string  `json:"id"`
	Type       string  `json:"type"`
	Role       string  `json:"role"`
	Model      string  `json:"model"`
	Content    []Block `json:"content"`
	StopReason string  `json:"stop_reason"`
	Usage      Usage   `json:"usage"`
}

// Usage is Anthropic's token accounting; input_tokens excludes cache
// reads and writes.
type Usage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

func badRequest(format string, args ...any) *providers.Error {
	return &providers.Error{Provider: providers.NameAnthropic, Status: http.StatusBadRequest, Class: providers.Terminal, Reason: "bad_request", Message: fmt.Sprintf(format, args...), Type: api.TypeInvalidRequest}
}

// Translate turns an OpenAI chat request into a Messages request.
func Translate(req *providers.ChatRequest, defaultMaxTokens int) (*Request, error) {
	b := req.Body
	out := &Request{Model: req.Model, MaxTokens: defaultMaxTokens, Stream: b.Stream, TopP: b.TopP}
	if b.N != nil && *b.N > 1 {
		return nil, badRequest("anthropic models return one choice; n must be 1")
	}
	switch {
	case b.MaxCompletionTokens != nil:
		out.MaxTokens = *b.MaxCompletionTokens
	case b.MaxTokens != nil:
		out.MaxTokens = *b.MaxTokens
	}
	if b.Temperature != nil {
		t := min(*b.Temperature, 1) // Anthropic's range is 0..1
		out.Temperature = &t
	}
	if len(b.Stop) > 0 {
		var one string
		if json.Unmarshal(b.Stop, &one) == nil {
			if one != "" {
				out.StopSequences = []string{one}
			}
		} else if err := json.Unmarshal(b.Stop, &out.StopSequences); err != nil {
			return nil, badRequest("stop must be a string or an array of strings")
		}
	}
	if b.User != "" {
		out.Metadata = &Metadata{UserID: b.User}
	}
	for _, t := range b.Tools {
		if t.Type != "function" {
			return nil, badRequest("anthropic models support only function tools, not %q", t.Type)
		}
		schema := t.Function.Parameters
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out.Tools = append(out.Tools, Tool{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema})
	}
	if tc, err := toolChoice(b.ToolChoice, b.ParallelToolCalls); err != nil {
		return nil, err
	} else if tc != nil {
		out.ToolChoice = tc
	}
	for i := range b.Messages {
		m := &b.Messages[i]
		switch m.Role {
		case "system", "developer":
			parts, err := m.Parts()
			if err != nil {
				return nil, badRequest("messages[%d]: %v", i, err)
			}
			for _, p := range parts {
				if p.Type == "text" && p.Text != "" {
					out.System = append(out.System, Block{Type: "text", Text: p.Text})
				}
			}
		case "user":
			blocks, err := contentBlocks(m, i)
			if err != nil {
				return nil, err
			}
			out.Messages = appendTurn(out.Messages, "user", blocks)
		case "assistant":
			blocks, err := contentBlocks(m, i)
			if err != nil {
				return nil, err
			}
			for _, tc := range m.ToolCalls {
				input := json.RawMessage(tc.Function.Arguments)
				if strings.TrimSpace(tc.Function.Arguments) == "" {
					input = json.RawMessage("{}")
				} else if !json.Valid(input) {
					return nil, badRequest("messages[%d].tool_calls: arguments of %q are not valid JSON", i, tc.Function.Name)
				}
				blocks = append(blocks, Block{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
			}
			if len(blocks) > 0 {
				out.Messages = appendTurn(out.Messages, "assistant", blocks)
			}
		case "tool", "function":
			out.Messages = appendTurn(out.Messages, "user", []Block{{Type: "tool_result", ToolUseID: m.ToolCallID, Content: m.Text()}})
		}
	}
	if len(out.Messages) == 0 {
		return nil, badRequest("anthropic models need at least one user message")
	}
	return out, nil
}

// appendTurn merges consecutive turns of one role, as the Messages API
// expects alternating roles.
func appendTurn(ms []Message, role string, blocks []Block) []Message {
	if n := len(ms); n > 0 && ms[n-1].Role == role {
		ms[n-1].Content = append(ms[n-1].Content, blocks...)
		return ms
	}
	return append(ms, Message{Role: role, Content: blocks})
}

func contentBlocks(m *api.Message, i int) ([]Block, error) {
	parts, err := m.Parts()
	if err != nil {
		return nil, badRequest("messages[%d]: %v", i, err)
	}
	var out []Block
	for _, p := range parts {
		switch p.Type {
		case "text":
			if p.Text != "" {
				out = append(out, Block{Type: "text", Text: p.Text})
			}
		case "image_url":
			if p.ImageURL == nil {
				return nil, badRequest("messages[%d]: image_url part without a url", i)
			}
			src, err := imageSource(p.ImageURL.URL)
			if err != nil {
				return nil, badRequest("messages[%d]: %v", i, err)
			}
			out = append(out, Block{Type: "image", Source: src})
		case "refusal":
			out = append(out, Block{Type: "text", Text: p.Refusal})
		default:
			return nil, badRequest("messages[%d]: content parts of type %q are not supported by anthropic models", i, p.Type)
		}
	}
	return out, nil
}

func imageSource(u string) (*ImageSource, error) {
	if rest, ok := strings.CutPrefix(u, "data:"); ok {
		meta, data, ok := strings.Cut(rest, ",")
		media, isB64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isB64 || media == "" {
			return nil, errors.New("image data URLs must be data:<media type>;base64,<data>")
		}
		return &ImageSource{Type: "base64", MediaType: media, Data: data}, nil
	}
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return &ImageSource{Type: "url", URL: u}, nil
	}
	return nil, errors.New("image url must be an http(s) or data URL")
}

func toolChoice(raw json.RawMessage, parallel *bool) (*ToolChoice, error) {
	var tc *ToolChoice
	if len(raw) > 0 {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			switch s {
			case "auto":
				tc = &ToolChoice{Type: "auto"}
			case "none":
				tc = &ToolChoice{Type: "none"}
			case "required":
				tc = &ToolChoice{Type: "any"}
			default:
				return nil, badRequest("tool_choice %q is not supported", s)
			}
		} else {
			var obj struct {
				Type     string `json:"type"`
				Function struct {
					Name string `json:"name"`
				} `json:"function"`
			}
			if err := json.Unmarshal(raw, &obj); err != nil || obj.Function.Name == "" {
				return nil, badRequest("tool_choice must be a string or {\"type\":\"function\",\"function\":{\"name\":…}}")
			}
			tc = &ToolChoice{Type: "tool", Name: obj.Function.Name}
		}
	}
	if parallel != nil && !*parallel {
		if tc == nil {
			tc = &ToolChoice{Type: "auto"}
		}
		if tc.Type != "none" {
			tc.DisableParallelToolUse = true
		}
	}
	return tc, nil
}

// FinishReason maps a stop_reason to OpenAI's finish_reason.
func FinishReason(stop string) string {
	switch stop {
	case "end_turn", "stop_sequence", "pause_turn", "":
		return "stop"
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return stop
}

func (u Usage) openai() *api.Usage {
	in := u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens
	out := &api.Usage{PromptTokens: in, CompletionTokens: u.OutputTokens, TotalTokens: in + u.OutputTokens}
	if u.CacheReadInputTokens > 0 || u.CacheCreationInputTokens > 0 {
		out.PromptTokensDetails = &api.PromptTokensDetails{CachedTokens: u.CacheReadInputTokens, CacheWriteTokens: u.CacheCreationInputTokens}
	}
	return out
}

// ToOpenAI translates a Messages response into a chat completion.
func ToOpenAI(r *Response, created int64) *api.ChatResponse {
	msg := api.ResponseMessage{Role: "assistant"}
	var text strings.Builder
	hasText := false
	for _, b := range r.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
			hasText = true
		case "tool_use":
			args := string(b.Input)
			if args == "" {
				args = "{}"
			}
			msg.ToolCalls = append(msg.ToolCalls, api.ToolCall{ID: b.ID, Type: "function", Function: api.FunctionCall{Name: b.Name, Arguments: args}})
		}
	}
	if hasText || len(msg.ToolCalls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	return &api.ChatResponse{
		ID: r.ID, Object: "chat.completion", Created: created, Model: r.Model,
		Choices: []api.Choice{{Index: 0, Message: msg, FinishReason: FinishReason(r.StopReason)}},
		Usage:   r.Usage.openai(),
	}
}

type errorBody struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func (p *Provider) statusError(resp *http.Response) *providers.Error {
	b, _ := providers.ReadBody(resp.Body, 64<<10)
	var eb errorBody
	msg := ""
	if json.Unmarshal(b, &eb) == nil && eb.Error.Message != "" {
		msg = eb.Error.Message
	} else {
		msg = strings.TrimSpace(string(b))
		if len(msg) > 512 {
			msg = msg[:512]
		}
	}
	return providers.StatusError(providers.NameAnthropic, resp.StatusCode, resp.Header, p.o.Now(), providers.Scrub(msg, p.o.APIKey), openAIErrorType(eb.Error.Type), "")
}

func openAIErrorType(t string) string {
	switch t {
	case "invalid_request_error", "not_found_error", "request_too_large":
		return api.TypeInvalidRequest
	case "rate_limit_error":
		return api.TypeRateLimit
	case "authentication_error", "permission_error":
		return api.TypeAuthentication
	case "":
		return ""
	}
	return api.TypeServer
}

type errTimeout struct{ d time.Duration }

func (e errTimeout) Error() string        { return fmt.Sprintf("upstream timeout (%s) reached", e.d) }
func (e errTimeout) Is(target error) bool { return target == context.DeadlineExceeded }

func (p *Provider) send(ctx context.Context, req *providers.ChatRequest, stream bool) (*http.Response, error) {
	areq, err := Translate(req, p.o.DefaultMaxTokens)
	if err != nil {
		return nil, err
	}
	areq.Stream = stream
	body, err := json.Marshal(areq)
	if err != nil {
		return nil, providers.Classify(providers.NameAnthropic, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/v1/messages", bytes.NewReader(body))
	if err != nil {
		return nil, providers.Classify(providers.NameAnthropic, providers.RedactError(err))
	}
	h := hreq.Header
	h.Set("Content-Type", "application/json")
	h.Set("anthropic-version", Version)
	if p.o.APIKey != "" {
		h.Set("x-api-key", p.o.APIKey.Reveal())
	}
	if stream {
		h.Set("Accept", "text/event-stream")
	}
	for k, vs := range req.Header {
		if len(vs) > 0 {
			h.Set(k, vs[0])
		}
	}
	start := time.Now()
	resp, err := p.o.Client.Do(hreq)
	req.Timer.Since(start)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", err, cause)
		}
		return nil, providers.Classify(providers.NameAnthropic, providers.RedactError(err))
	}
	if resp.StatusCode != http.StatusOK {
		e := p.statusError(resp)
		providers.Drain(resp)
		return nil, e
	}
	return resp, nil
}

// Chat implements providers.Provider.
func (p *Provider) Chat(ctx context.Context, req *providers.ChatRequest) (*providers.ChatResponse, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, p.o.Timeout, errTimeout{p.o.Timeout})
	defer cancel()
	resp, err := p.send(ctx, req, false)
	if err != nil {
		return nil, err
	}
	defer providers.Drain(resp)
	start := time.Now()
	raw, err := providers.ReadBody(resp.Body, providers.MaxResponseBytes)
	req.Timer.Since(start)
	if err != nil {
		return nil, providers.Classify(providers.NameAnthropic, providers.RedactError(err))
	}
	var ar Response
	if err := json.Unmarshal(raw, &ar); err != nil || ar.Type != "message" {
		if err == nil {
			err = fmt.Errorf("response type %q", ar.Type)
		}
		return nil, &providers.Error{Provider: providers.NameAnthropic, Status: resp.StatusCode, Class: providers.Retryable, Reason: "bad_response", Message: "upstream returned an invalid message", Err: err}
	}
	return &providers.ChatResponse{Response: ToOpenAI(&ar, p.o.Now().Unix())}, nil
}

// ChatStream implements providers.Provider.
func (p *Provider) ChatStream(ctx context.Context, req *providers.ChatRequest) (providers.ChatStream, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	idle := time.AfterFunc(p.o.Timeout, func() { cancel(errTimeout{p.o.Timeout}) })
	resp, err := p.send(ctx, req, true)
	if err != nil {
		idle.Stop()
		cancel(nil)
		return nil, err
	}
	idle.Reset(p.o.StreamIdleTimeout)
	s := &Stream{r: sse.NewReader(resp.Body, 0), includeUsage: req.IncludeUsage, created: p.o.Now().Unix(), model: req.Model}
	s.onRead = func() { idle.Reset(p.o.StreamIdleTimeout) }
	s.timer = req.Timer
	s.close = func() {
		idle.Stop()
		cancel(nil)
		providers.Drain(resp)
	}
	s.ctx = ctx
	s.secret = p.o.APIKey
	return s, nil
}

// Stream translates an Anthropic event stream into OpenAI chunks.
type Stream struct {
	r            *sse.Reader
	includeUsage bool
	created      int64
	model        string
	id           string
	usage        Usage
	toolIndex    map[int]int // content block index → tool_calls index
	done         bool
	onRead       func()
	close        func()
	timer        *providers.UpstreamTimer
	ctx          context.Context
	secret       providers.Secret
}

// NewStream translates the event stream read from r; for tests and fuzzing.
func NewStream(r io.Reader, includeUsage bool) *Stream {
	return &Stream{r: sse.NewReader(r, 0), includeUsage: includeUsage, ctx: context.Background()}
}

type event struct {
	Type    string   `json:"type"`
	Message Response `json:"message"`
	Index   int      `json:"index"`
	Block   Block    `json:"content_block"`
	Delta   struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage *Usage `json:"usage"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func (s *Stream) chunk() *api.ChatChunk {
	return &api.ChatChunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.model}
}

func (s *Stream) delta(d api.Delta) *api.ChatChunk {
	c := s.chunk()
	c.Choices = []api.ChunkChoice{{Delta: d}}
	return c
}

// Next implements providers.ChatStream.
func (s *Stream) Next() (*api.ChatChunk, error) {
	for {
		if s.done {
			return nil, io.EOF
		}
		start := time.Now()
		ev, err := s.r.Next()
		s.timer.Since(start)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, &providers.Error{Provider: providers.NameAnthropic, Class: providers.Retryable, Reason: "bad_response", Message: "upstream stream ended before message_stop"}
			}
			if cause := context.Cause(s.ctx); cause != nil && s.ctx.Err() != nil {
				err = fmt.Errorf("%w: %w", err, cause)
			}
			return nil, providers.Classify(providers.NameAnthropic, providers.RedactError(err))
		}
		if s.onRead != nil {
			s.onRead()
		}
		var e event
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			return nil, &providers.Error{Provider: providers.NameAnthropic, Class: providers.Retryable, Reason: "bad_response", Message: "upstream sent an invalid stream event", Err: err}
		}
		if e.Type == "" {
			e.Type = ev.Name
		}
		switch e.Type {
		case "message_start":
			s.id, s.usage = e.Message.ID, e.Message.Usage
			if e.Message.Model != "" {
				s.model = e.Message.Model
			}
			empty := ""
			return s.delta(api.Delta{Role: "assistant", Content: &empty}), nil
		case "content_block_start":
			switch e.Block.Type {
			case "text":
				if e.Block.Text != "" {
					t := e.Block.Text
					return s.delta(api.Delta{Content: &t}), nil
				}
			case "tool_use":
				if s.toolIndex == nil {
					s.toolIndex = map[int]int{}
				}
				k := len(s.toolIndex)
				s.toolIndex[e.Index] = k
				return s.delta(api.Delta{ToolCalls: []api.ToolCallDelta{{Index: k, ID: e.Block.ID, Type: "function", Function: api.FunctionCallDelta{Name: e.Block.Name}}}}), nil
			}
		case "content_block_delta":
			switch e.Delta.Type {
			case "text_delta":
				t := e.Delta.Text
				return s.delta(api.Delta{Content: &t}), nil
			case "input_json_delta":
				k, ok := s.toolIndex[e.Index]
				if !ok {
					continue
				}
				return s.delta(api.Delta{ToolCalls: []api.ToolCallDelta{{Index: k, Function: api.FunctionCallDelta{Arguments: e.Delta.PartialJSON}}}}), nil
			}
		case "message_delta":
			if e.Usage != nil {
				s.usage.OutputTokens = e.Usage.OutputTokens
				if e.Usage.InputTokens > 0 {
					s.usage.InputTokens = e.Usage.InputTokens
				}
			}
			if e.Delta.StopReason != "" {
				f := FinishReason(e.Delta.StopReason)
				c := s.chunk()
				c.Choices = []api.ChunkChoice{{Delta: api.Delta{}, FinishReason: &f}}
				return c, nil
			}
		case "message_stop":
			s.done = true
			if !s.includeUsage {
				return nil, io.EOF
			}
			c := s.chunk()
			c.Choices = []api.ChunkChoice{}
			c.Usage = s.usage.openai()
			return c, nil
		case "error":
			pe := &providers.Error{Provider: providers.NameAnthropic, Status: http.StatusBadGateway, Class: providers.Retryable, Reason: "server_error", Message: providers.Scrub(e.Error.Message, s.secret), Type: openAIErrorType(e.Error.Type)}
			if e.Error.Type == "rate_limit_error" {
				pe.Reason = "rate_limited"
			}
			return nil, pe
		}
		// ping, content_block_stop, thinking deltas and unknown events.
	}
}

// Close implements providers.ChatStream.
func (s *Stream) Close() error {
	if s.close != nil {
		s.close()
		s.close = nil
	}
	return nil
}
