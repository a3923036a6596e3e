// Package mock is the built-in provider: it answers chat and embeddings
// calls itself, deterministically, with a configurable latency, output
// length and error rate, so the gateway works with no provider key (the
// default of `observatory run`) and benchmarks have an upstream that costs
// nothing. NewHandler serves the same answers over HTTP in OpenAI's wire
// format, as an upstream for tests and the load driver.
package mock

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/gateway/providers"
)

// Options configure the mock. Zero values take the defaults in brackets.
type Options struct {
	// Latency before the response (or the first chunk) [0].
	Latency time.Duration
	// ChunkInterval between streamed chunks [0].
	ChunkInterval time.Duration
	// OutputTokens generated per reply, capped by max_tokens [16].
	OutputTokens int
	// ErrorRate is the fraction of calls that fail, 0..1 [0].
	ErrorRate float64
	// ErrorStatus is the HTTP status of an injected failure [503].
	ErrorStatus int
	// Seed makes the error sequence reproducible [1].
	Seed uint64
	// EmbeddingDims is the vector length [256].
	EmbeddingDims int
	// Now is the clock for `created` timestamps [time.Now].
	Now func() time.Time
}

// Validate checks o.
func (o *Options) Validate() error {
	switch {
	case o.Latency < 0 || o.ChunkInterval < 0:
		return fmt.Errorf("latency and chunk_interval must not be negative")
	case o.OutputTokens < 0 || o.OutputTokens > 100000:
		return fmt.Errorf("output_tokens must be between 0 and 100000, got %d", o.OutputTokens)
	case o.ErrorRate < 0 || o.ErrorRate > 1 || math.IsNaN(o.ErrorRate):
		return fmt.Errorf("error_rate must be between 0 and 1, got %v", o.ErrorRate)
	case o.ErrorStatus != 0 && (o.ErrorStatus < 400 || o.ErrorStatus > 599):
		return fmt.Errorf("error_status must be a 4xx or 5xx status, got %d", o.ErrorStatus)
	case o.EmbeddingDims < 0 || o.EmbeddingDims > 8192:
		return fmt.Errorf("embedding_dims must be between 1 and 8192, got %d", o.EmbeddingDims)
	}
	return nil
}

// Mock is the mock provider.
type Mock struct {
	o   Options
	mu  sync.Mutex
	rng *rand.Rand
}

// New returns a mock provider.
func New(o Options) (*Mock, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("mock provider: %w", err)
	}
	if o.OutputTokens == 0 {
		o.OutputTokens = 16
	}
	if o.ErrorStatus == 0 {
		o.ErrorStatus = http.StatusServiceUnavailable
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.EmbeddingDims == 0 {
		o.EmbeddingDims = 256
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Mock{o: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))}, nil
}

// Name implements providers.Provider.
func (m *Mock) Name() string { return providers.NameMock }

func (m *Mock) fail() *providers.Error {
	if m.o.ErrorRate <= 0 {
		return nil
	}
	m.mu.Lock()
	x := m.rng.Float64()
	m.mu.Unlock()
	if x >= m.o.ErrorRate {
		return nil
	}
	h := http.Header{}
	if m.o.ErrorStatus == http.StatusTooManyRequests {
		h.Set("Retry-After", "1")
	}
	return providers.StatusError(providers.NameMock, m.o.ErrorStatus, h, m.o.Now(), "mock provider: injected failure", api.TypeServer, "")
}

func sleep(ctx context.Context, d time.Duration, t *providers.UpstreamTimer) error {
	if d <= 0 {
		return ctx.Err()
	}
	start := time.Now()
	defer t.Since(start)
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return providers.Classify(providers.NameMock, context.Cause(ctx))
	}
}

// vocabulary of generated replies.
const vocabulary = "the quick brown fox jumps over a lazy dog while observability keeps every call in view and each token is counted once"

// Reply is the deterministic text for a prompt: n words drawn from a
// fixed vocabulary starting at an offset derived from the prompt.
func Reply(prompt string, n int) []string {
	words := strings.Fields(vocabulary)
	h := fnv.New32a()
	_, _ = io.WriteString(h, prompt)
	off := int(h.Sum32() % uint32(len(words)))
	out := make([]string, n)
	for i := range out {
		out[i] = words[(off+i)%len(words)]
	}
	return out
}

// CountTokens estimates tokens the usual way: one per 4 bytes, at least 1
// for non-empty text.
func CountTokens(s string) int {
	if s == "" {
		return 0
	}
	return (len(s) + 3) / 4
}

func (m *Mock) plan(req *providers.ChatRequest) (words []string, input int, finish string) {
	var prompt strings.Builder
	for i := range req.Body.Messages {
		t := req.Body.Messages[i].Text()
		input += CountTokens(t) + 3 // per-message overhead, as tiktoken counts
		prompt.WriteString(t)
	}
	n := m.o.OutputTokens
	finish = "stop"
	limit := req.Body.MaxTokens
	if req.Body.MaxCompletionTokens != nil {
		limit = req.Body.MaxCompletionTokens
	}
	if limit != nil && *limit < n {
		n, finish = *limit, "length"
	}
	return Reply(prompt.String(), n), input, finish
}

func (m *Mock) id(prefix string, req *providers.ChatRequest) string {
	h := fnv.New64a()
	for i := range req.Body.Messages {
		_, _ = h.Write(req.Body.Messages[i].Content)
	}
	return prefix + strconv.FormatUint(h.Sum64(), 36)
}

// Chat implements providers.Provider.
func (m *Mock) Chat(ctx context.Context, req *providers.ChatRequest) (*providers.ChatResponse, error) {
	if err := sleep(ctx, m.o.Latency, req.Timer); err != nil {
		return nil, err
	}
	if e := m.fail(); e != nil {
		return nil, e
	}
	words, input, finish := m.plan(req)
	text := strings.Join(words, " ")
	resp := &api.ChatResponse{
		ID: m.id("chatcmpl-mock-", req), Object: "chat.completion", Created: m.o.Now().Unix(), Model: req.Model,
		Choices: []api.Choice{{Index: 0, Message: api.ResponseMessage{Role: "assistant", Content: &text}, FinishReason: finish}},
		Usage:   &api.Usage{PromptTokens: input, CompletionTokens: len(words), TotalTokens: input + len(words)},
	}
	return &providers.ChatResponse{Response: resp}, nil
}

// ChatStream implements providers.Provider.
func (m *Mock) ChatStream(ctx context.Context, req *providers.ChatRequest) (providers.ChatStream, error) {
	if err := sleep(ctx, m.o.Latency, req.Timer); err != nil {
		return nil, err
	}
	if e := m.fail(); e != nil {
		return nil, e
	}
	words, input, finish := m.plan(req)
	return &stream{m: m, ctx: ctx, req: req, words: words, input: input, finish: finish, id: m.id("chatcmpl-mock-", req), created: m.o.Now().Unix()}, nil
}

type stream struct {
	m       *Mock
	ctx     context.Context
	req     *providers.ChatRequest
	words   []string
	input   int
	finish  string
	id      string
	created int64
	i       int // chunks emitted
	done    bool
}

func (s *stream) chunk() *api.ChatChunk {
	return &api.ChatChunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.req.Model}
}

func (s *stream) Next() (*api.ChatChunk, error) {
	if s.done {
		return nil, io.EOF
	}
	if err := s.ctx.Err(); err != nil {
		return nil, providers.Classify(providers.NameMock, context.Cause(s.ctx))
	}
	n := len(s.words)
	switch {
	case s.i == 0: // role
		s.i++
		c := s.chunk()
		empty := ""
		c.Choices = []api.ChunkChoice{{Delta: api.Delta{Role: "assistant", Content: &empty}}}
		return c, nil
	case s.i <= n:
		if s.i > 1 {
			if err := sleep(s.ctx, s.m.o.ChunkInterval, s.req.Timer); err != nil {
				return nil, err
			}
		}
		w := s.words[s.i-1]
		if s.i > 1 {
			w = " " + w
		}
		s.i++
		c := s.chunk()
		c.Choices = []api.ChunkChoice{{Delta: api.Delta{Content: &w}}}
		return c, nil
	case s.i == n+1:
		s.i++
		c := s.chunk()
		f := s.finish
		c.Choices = []api.ChunkChoice{{Delta: api.Delta{}, FinishReason: &f}}
		return c, nil
	default:
		s.done = true
		if !s.req.IncludeUsage {
			return nil, io.EOF
		}
		c := s.chunk()
		c.Choices = []api.ChunkChoice{}
		c.Usage = &api.Usage{PromptTokens: s.input, CompletionTokens: n, TotalTokens: s.input + n}
		return c, nil
	}
}

func (s *stream) Close() error { return nil }

// Vector is the deterministic unit vector of text with dims dimensions.
func Vector(text string, dims int) []float32 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, text)
	r := rand.New(rand.NewPCG(h.Sum64(), 42))
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		x := r.Float64()*2 - 1
		v[i] = float32(x)
		norm += x * x
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) / norm)
	}
	return v
}

// EncodeEmbedding renders v as a JSON array of floats, or as the base64 of
// little-endian float32s when base64 is set (OpenAI's encoding_format).
func EncodeEmbedding(v []float32, b64 bool) json.RawMessage {
	if b64 {
		buf := make([]byte, 4*len(v))
		for i, f := range v {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(f))
		}
		out, _ := json.Marshal(base64.StdEncoding.EncodeToString(buf))
		return out
	}
	out, _ := json.Marshal(v)
	return out
}

// Embeddings implements providers.Provider.
func (m *Mock) Embeddings(ctx context.Context, req *providers.EmbeddingsRequest) (*providers.EmbeddingsResponse, error) {
	if err := sleep(ctx, m.o.Latency, req.Timer); err != nil {
		return nil, err
	}
	if e := m.fail(); e != nil {
		return nil, e
	}
	inputs, aerr := api.EmbeddingInputs(req.Body.Input)
	if aerr != nil {
		return nil, &providers.Error{Provider: providers.NameMock, Status: aerr.Status, Class: providers.Terminal, Reason: "bad_request", Message: aerr.Message}
	}
	dims := m.o.EmbeddingDims
	if req.Body.Dimensions != nil {
		dims = *req.Body.Dimensions
	}
	b64 := req.Body.EncodingFormat == "base64"
	resp := &api.EmbeddingsResponse{Object: "list", Model: req.Model, Data: make([]api.Embedding, len(inputs))}
	tokens := 0
	for i, in := range inputs {
		tokens += CountTokens(in)
		resp.Data[i] = api.Embedding{Object: "embedding", Index: i, Embedding: EncodeEmbedding(Vector(in, dims), b64)}
	}
	resp.Usage = &api.Usage{PromptTokens: tokens, TotalTokens: tokens}
	return &providers.EmbeddingsResponse{Response: resp}, nil
}
