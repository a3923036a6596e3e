// Package openai is the provider for OpenAI's API and every API that
// copies it (vLLM, Ollama, Together, Groq, LM Studio…), and for Azure
// OpenAI, which speaks the same bodies under a different URL scheme
// (/openai/deployments/{deployment}/…?api-version=…) and authenticates
// with an `api-key` header. Request and response bodies pass through: the
// caller's request is re-encoded with the upstream model, and the
// upstream's response bytes are returned to the caller as they came.
package openai

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

// Flavors of the OpenAI wire format.
const (
	FlavorOpenAI = "openai"
	FlavorAzure  = "azure_openai"
)

// DefaultAzureAPIVersion is the Azure OpenAI GA API version used when none
// is configured.
const DefaultAzureAPIVersion = "2024-10-21"

// Options configure a provider. Zero values take the defaults in brackets.
type Options struct {
	// Flavor is FlavorOpenAI or FlavorAzure [FlavorOpenAI].
	Flavor string
	// BaseURL: for OpenAI the API root including /v1
	// [https://api.openai.com/v1]; for Azure the resource endpoint
	// (https://NAME.openai.azure.com), required.
	BaseURL string
	// APIKey is sent as `Authorization: Bearer` (OpenAI) or `api-key`
	// (Azure). Empty sends no credential (local vLLM, Ollama).
	APIKey providers.Secret
	// APIVersion is Azure's api-version query parameter
	// [DefaultAzureAPIVersion].
	APIVersion string
	// Deployments maps an upstream model name to an Azure deployment; a
	// model without an entry is used as the deployment name.
	Deployments map[string]string
	// Headers are added to every upstream request (e.g.
	// OpenAI-Organization). Values are treated as secrets in errors.
	Headers map[string]providers.Secret
	// Client sends the requests; share one Transport between providers
	// [a client on providers.NewTransport].
	Client *http.Client
	// Timeout bounds a non-streamed attempt, and a streamed one until the
	// response headers arrive [60s].
	Timeout time.Duration
	// StreamIdleTimeout bounds the gap between two streamed events [60s].
	StreamIdleTimeout time.Duration
	// Now is the clock (Retry-After dates) [time.Now].
	Now func() time.Time
}

// Provider calls an OpenAI-compatible API.
type Provider struct {
	o       Options
	name    string
	base    string
	secrets []providers.Secret
}

// New validates o and returns a Provider.
func New(o Options) (*Provider, error) {
	if o.Flavor == "" {
		o.Flavor = FlavorOpenAI
	}
	p := &Provider{}
	switch o.Flavor {
	case FlavorOpenAI:
		p.name = providers.NameOpenAI
		if o.BaseURL == "" {
			o.BaseURL = "https://api.openai.com/v1"
		}
	case FlavorAzure:
		p.name = providers.NameAzureOpenAI
		if o.BaseURL == "" {
			return nil, errors.New("azure_openai provider: endpoint is required (https://NAME.openai.azure.com)")
		}
		if o.APIVersion == "" {
			o.APIVersion = DefaultAzureAPIVersion
		}
	default:
		return nil, fmt.Errorf("openai provider: unknown flavor %q", o.Flavor)
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s provider: base URL must be an absolute http(s) URL", o.Flavor)
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("%s provider: base URL must have no user info or query; put credentials in api_key or headers", o.Flavor)
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
	p.o = o
	p.base = strings.TrimRight(o.BaseURL, "/")
	p.secrets = append(p.secrets, o.APIKey)
	for _, v := range o.Headers {
		p.secrets = append(p.secrets, v)
	}
	return p, nil
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return p.name }

func (p *Provider) url(model, op string) string {
	if p.o.Flavor == FlavorAzure {
		dep := model
		if d, ok := p.o.Deployments[model]; ok {
			dep = d
		}
		return p.base + "/openai/deployments/" + url.PathEscape(dep) + "/" + op + "?api-version=" + url.QueryEscape(p.o.APIVersion)
	}
	return p.base + "/" + op
}

func (p *Provider) newRequest(ctx context.Context, model, op string, body []byte, extra http.Header, stream bool) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url(model, op), bytes.NewReader(body))
	if err != nil {
		return nil, providers.Classify(p.name, err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	if stream {
		h.Set("Accept", "text/event-stream")
	} else {
		h.Set("Accept", "application/json")
	}
	if p.o.APIKey != "" {
		if p.o.Flavor == FlavorAzure {
			h.Set("api-key", p.o.APIKey.Reveal())
		} else {
			h.Set("Authorization", "Bearer "+p.o.APIKey.Reveal())
		}
	}
	for k, v := range p.o.Headers {
		h.Set(k, v.Reveal())
	}
	for k, vs := range extra {
		if len(vs) > 0 {
			h.Set(k, vs[0])
		}
	}
	return req, nil
}

// upstreamBody is the caller's request with the upstream model and the
// stream options the gateway needs.
func upstreamBody(req *providers.ChatRequest) ([]byte, error) {
	b := *req.Body
	b.Model = req.Model
	if b.Stream {
		so := api.StreamOptions{}
		if req.Body.StreamOptions != nil {
			so = *req.Body.StreamOptions
		}
		if req.IncludeUsage {
			t := true
			so.IncludeUsage = &t
		}
		b.StreamOptions = &so
	}
	return json.Marshal(&b)
}

// errorBody is OpenAI's error envelope as upstreams send it (code may be a
// string or a number).
type errorBody struct {
	Error struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
	} `json:"error"`
}

func (p *Provider) statusError(resp *http.Response) *providers.Error {
	b, _ := providers.ReadBody(resp.Body, 64<<10)
	var eb errorBody
	msg, typ, code := "", "", ""
	if json.Unmarshal(b, &eb) == nil && eb.Error.Message != "" {
		msg, typ = eb.Error.Message, eb.Error.Type
		var s string
		if json.Unmarshal(eb.Error.Code, &s) == nil {
			code = s
		}
	} else {
		msg = strings.TrimSpace(string(b))
		if len(msg) > 512 {
			msg = msg[:512]
		}
	}
	return providers.StatusError(p.name, resp.StatusCode, resp.Header, p.o.Now(), providers.Scrub(msg, p.secrets...), typ, code)
}

func (p *Provider) do(ctx context.Context, req *http.Request, t *providers.UpstreamTimer) (*http.Response, error) {
	start := time.Now()
	resp, err := p.o.Client.Do(req)
	t.Since(start)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", err, cause)
		}
		return nil, providers.Classify(p.name, scrubErr(err, p.secrets))
	}
	return resp, nil
}

func scrubErr(err error, secrets []providers.Secret) error {
	err = providers.RedactError(err)
	msg := err.Error()
	if s := providers.Scrub(msg, secrets...); s != msg {
		return &scrubbed{msg: s, err: err}
	}
	return err
}

// scrubbed keeps the chain (for errors.Is) but prints the scrubbed text.
type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// errTimeout is the cause recorded when the provider's timeout fires.
type errTimeout struct{ d time.Duration }

func (e errTimeout) Error() string { return fmt.Sprintf("upstream timeout (%s) reached", e.d) }

// Is makes the cause match context.DeadlineExceeded so it classifies as a
// timeout.
func (e errTimeout) Is(target error) bool { return target == context.DeadlineExceeded }

// Chat implements providers.Provider.
func (p *Provider) Chat(ctx context.Context, req *providers.ChatRequest) (*providers.ChatResponse, error) {
	body, err := upstreamBody(req)
	if err != nil {
		return nil, providers.Classify(p.name, err)
	}
	raw, err := p.postJSON(ctx, req.Model, "chat/completions", body, req.Header, req.Timer, "chat completion")
	if err != nil {
		return nil, err
	}
	// Decoding for the span happens off the request path.
	return &providers.ChatResponse{Raw: raw}, nil
}

// ChatStream implements providers.Provider.
func (p *Provider) ChatStream(ctx context.Context, req *providers.ChatRequest) (providers.ChatStream, error) {
	body, err := upstreamBody(req)
	if err != nil {
		return nil, providers.Classify(p.name, err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	idle := time.AfterFunc(p.o.Timeout, func() { cancel(errTimeout{p.o.Timeout}) })
	hreq, err := p.newRequest(ctx, req.Model, "chat/completions", body, req.Header, true)
	if err != nil {
		idle.Stop()
		cancel(nil)
		return nil, err
	}
	resp, err := p.do(ctx, hreq, req.Timer)
	if err != nil {
		idle.Stop()
		cancel(nil)
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		idle.Stop()
		e := p.statusError(resp)
		providers.Drain(resp)
		cancel(nil)
		return nil, e
	}
	idle.Reset(p.o.StreamIdleTimeout)
	return &stream{p: p, ctx: ctx, cancel: cancel, idle: idle, resp: resp, r: sse.NewReader(resp.Body, 0), timer: req.Timer}, nil
}

type stream struct {
	p      *Provider
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   *time.Timer
	resp   *http.Response
	r      *sse.Reader
	timer  *providers.UpstreamTimer
	closed bool
}

func (s *stream) Next() (*api.ChatChunk, error) {
	for {
		start := time.Now()
		ev, err := s.r.Next()
		s.timer.Since(start)
		if err != nil {
			if errors.Is(err, io.EOF) {
				// A stream that ends without [DONE] is still a complete
				// stream for most compatible servers.
				return nil, io.EOF
			}
			if cause := context.Cause(s.ctx); cause != nil && s.ctx.Err() != nil {
				err = fmt.Errorf("%w: %w", err, cause)
			}
			return nil, providers.Classify(s.p.name, scrubErr(err, s.p.secrets))
		}
		s.idle.Reset(s.p.o.StreamIdleTimeout)
		data := bytes.TrimSpace(ev.Data)
		if string(data) == "[DONE]" {
			return nil, io.EOF
		}
		if len(data) == 0 {
			continue
		}
		if ev.Name == "error" || bytes.HasPrefix(data, []byte(`{"error"`)) {
			var eb errorBody
			_ = json.Unmarshal(data, &eb)
			return nil, &providers.Error{Provider: s.p.name, Status: http.StatusBadGateway, Class: providers.Retryable, Reason: "server_error",
				Message: providers.Scrub(eb.Error.Message, s.p.secrets...), Type: eb.Error.Type}
		}
		c := new(api.ChatChunk)
		if err := json.Unmarshal(data, c); err != nil {
			return nil, &providers.Error{Provider: s.p.name, Class: providers.Retryable, Reason: "bad_response", Message: "upstream sent an invalid stream chunk", Err: err}
		}
		return c, nil
	}
}

func (s *stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.idle.Stop()
	s.cancel(nil)
	providers.Drain(s.resp)
	return nil
}

// postJSON sends a non-streaming request and returns the upstream's JSON
// object, with the upstream time on timer; what names the expected answer
// in the error for a response that is not one.
func (p *Provider) postJSON(ctx context.Context, model, path string, body []byte, header http.Header, timer *providers.UpstreamTimer, what string) ([]byte, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, p.o.Timeout, errTimeout{p.o.Timeout})
	defer cancel()
	hreq, err := p.newRequest(ctx, model, path, body, header, false)
	if err != nil {
		return nil, err
	}
	resp, err := p.do(ctx, hreq, timer)
	if err != nil {
		return nil, err
	}
	defer providers.Drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, p.statusError(resp)
	}
	start := time.Now()
	raw, err := providers.ReadBody(resp.Body, providers.MaxResponseBytes)
	timer.Since(start)
	if err != nil {
		return nil, providers.Classify(p.name, scrubErr(err, p.secrets))
	}
	if !validObject(raw) {
		return nil, &providers.Error{Provider: p.name, Status: resp.StatusCode, Class: providers.Retryable, Reason: "bad_response", Message: "upstream returned an invalid " + what}
	}
	return raw, nil
}

// Embeddings implements providers.Provider.
func (p *Provider) Embeddings(ctx context.Context, req *providers.EmbeddingsRequest) (*providers.EmbeddingsResponse, error) {
	b := *req.Body
	b.Model = req.Model
	body, err := json.Marshal(&b)
	if err != nil {
		return nil, providers.Classify(p.name, err)
	}
	raw, err := p.postJSON(ctx, req.Model, "embeddings", body, req.Header, req.Timer, "embeddings response")
	if err != nil {
		return nil, err
	}
	return &providers.EmbeddingsResponse{Raw: raw}, nil
}

// validObject reports whether b is one JSON object.
func validObject(b []byte) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 1 && t[0] == '{' && json.Valid(t)
}
