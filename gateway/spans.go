package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

// Attributes the gateway adds besides the GenAI conventions.
const (
	AttrRequestIDHeader  = "http.request.header.x-request-id"
	AttrGatewayProvider  = "observatory.gateway.provider"
	AttrGatewayAttempts  = "observatory.gateway.attempts"
	AttrGatewayFallback  = "observatory.gateway.fallback"
	AttrGatewayKeyID     = "observatory.gateway.api_key.id"
	AttrGatewayStream    = "observatory.gateway.stream"
	AttrClientGone       = "observatory.gateway.client_disconnected"
	AttrContentOmitted   = "observatory.gateway.content_omitted"
	AttrResponseID       = "gen_ai.response.id"
	AttrRequestMaxTokens = "gen_ai.request.max_tokens"
	AttrRequestTemp      = "gen_ai.request.temperature"
	AttrRequestTopP      = "gen_ai.request.top_p"
	AttrRequestSeed      = "gen_ai.request.seed"
	AttrRequestChoices   = "gen_ai.request.choice.count"
	AttrRequestStop      = "gen_ai.request.stop_sequences"
	AttrEmbeddingDims    = "gen_ai.embeddings.dimension.count"
	AttrEncodingFormats  = "gen_ai.request.encoding_formats"
	AttrToolDefinitions  = "gen_ai.tool.definitions"
	AttrMetadataPrefix   = "observatory.metadata."
	AttrIngestRecordID   = "observatory.ingest.record_id"
	operationChat        = "chat"
	operationEmbeddings  = "embeddings"
	errorClientGone      = "client_disconnected"
)

// callRecord is everything a gateway call's span is built from. The
// request path fills it and hands it to the span builder goroutine, so
// building attributes, serialising content and the SDK's work are off the
// request path.
type callRecord struct {
	tenant    Tenant
	key       storage.APIKey
	keyID     string
	op        string
	parent    trace.SpanContext
	traceID   trace.TraceID
	spanID    trace.SpanID
	start     time.Time
	end       time.Time
	requestID string
	endpoint  string
	sessionID string
	userID    string

	model          string // as requested
	providerName   string // gen_ai.provider.name
	providerConfig string
	upstreamModel  string
	attempts       int
	fallback       bool
	stream         bool

	chat    *api.ChatRequest
	resp    *api.ChatResponse
	raw     []byte // undecoded pass-through response (chat or embeddings)
	emb     *api.EmbeddingsRequest
	embResp *api.EmbeddingsResponse
	usage   *api.Usage
	ttft    time.Duration

	status     int
	errType    string
	errMsg     string
	clientGone bool
}

// otelMessage and otelPart are the OTel GenAI message schema
// (gen_ai.input.messages / gen_ai.output.messages).
type otelMessage struct {
	Role         string     `json:"role"`
	Parts        []otelPart `json:"parts"`
	Name         string     `json:"name,omitempty"`
	FinishReason string     `json:"finish_reason,omitempty"`
}

type otelPart struct {
	Type      string          `json:"type"`
	Content   *string         `json:"content,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Response  *string         `json:"response,omitempty"`
	Modality  string          `json:"modality,omitempty"`
	URI       string          `json:"uri,omitempty"`
	MimeType  string          `json:"mime_type,omitempty"`
}

func textPart(s string) otelPart { return otelPart{Type: "text", Content: &s} }

// toolArguments keeps valid JSON arguments structured, else a JSON string.
func toolArguments(args string) json.RawMessage {
	if a := strings.TrimSpace(args); a != "" && json.Valid([]byte(a)) {
		return json.RawMessage(a)
	}
	b, _ := json.Marshal(args)
	return b
}

func inputMessages(req *api.ChatRequest) []otelMessage {
	out := make([]otelMessage, 0, len(req.Messages))
	for i := range req.Messages {
		m := &req.Messages[i]
		om := otelMessage{Role: m.Role, Name: m.Name}
		switch m.Role {
		case "tool", "function":
			om.Role = "tool"
			resp := m.Text()
			om.Parts = []otelPart{{Type: "tool_call_response", ID: m.ToolCallID, Response: &resp}}
			out = append(out, om)
			continue
		}
		parts, _ := m.Parts()
		for _, p := range parts {
			switch p.Type {
			case "text":
				om.Parts = append(om.Parts, textPart(p.Text))
			case "refusal":
				om.Parts = append(om.Parts, textPart(p.Refusal))
			case "image_url":
				if p.ImageURL == nil {
					continue
				}
				if mt, ok := strings.CutPrefix(p.ImageURL.URL, "data:"); ok {
					mt, _, _ = strings.Cut(mt, ";")
					om.Parts = append(om.Parts, otelPart{Type: "blob", Modality: "image", MimeType: mt})
				} else {
					om.Parts = append(om.Parts, otelPart{Type: "uri", Modality: "image", URI: p.ImageURL.URL})
				}
			default:
				om.Parts = append(om.Parts, otelPart{Type: p.Type})
			}
		}
		for _, tc := range m.ToolCalls {
			om.Parts = append(om.Parts, otelPart{Type: "tool_call", ID: tc.ID, Name: tc.Function.Name, Arguments: toolArguments(tc.Function.Arguments)})
		}
		if om.Parts == nil {
			om.Parts = []otelPart{}
		}
		out = append(out, om)
	}
	return out
}

// otelFinishReason maps OpenAI's finish_reason to the OTel schema's.
func otelFinishReason(f string) string {
	switch f {
	case "tool_calls", "function_call":
		return "tool_call"
	case "":
		return "error"
	}
	return f
}

func outputMessages(resp *api.ChatResponse) []otelMessage {
	out := make([]otelMessage, 0, len(resp.Choices))
	for _, c := range resp.Choices {
		om := otelMessage{Role: "assistant", FinishReason: otelFinishReason(c.FinishReason), Parts: []otelPart{}}
		if c.Message.Content != nil && (*c.Message.Content != "" || len(c.Message.ToolCalls) == 0) {
			om.Parts = append(om.Parts, textPart(*c.Message.Content))
		}
		if c.Message.Refusal != nil && *c.Message.Refusal != "" {
			om.Parts = append(om.Parts, otelPart{Type: "refusal", Content: c.Message.Refusal})
		}
		for _, tc := range c.Message.ToolCalls {
			om.Parts = append(om.Parts, otelPart{Type: "tool_call", ID: tc.ID, Name: tc.Function.Name, Arguments: toolArguments(tc.Function.Arguments)})
		}
		out = append(out, om)
	}
	return out
}

func usageAttrs(attrs []attribute.KeyValue, u *api.Usage) []attribute.KeyValue {
	if u == nil {
		return attrs
	}
	attrs = append(attrs,
		attribute.Int(llmcall.AttrInputTokens, u.PromptTokens),
		attribute.Int(llmcall.AttrOutputTokens, u.CompletionTokens),
	)
	if d := u.PromptTokensDetails; d != nil {
		if d.CachedTokens > 0 {
			attrs = append(attrs, attribute.Int(llmcall.AttrCacheReadTokens, d.CachedTokens))
		}
		if d.CacheWriteTokens > 0 {
			attrs = append(attrs, attribute.Int(llmcall.AttrCacheWriteTokens, d.CacheWriteTokens))
		}
	}
	if d := u.CompletionTokensDetails; d != nil && d.ReasoningTokens > 0 {
		attrs = append(attrs, attribute.Int(llmcall.AttrReasoningTokens, d.ReasoningTokens))
	}
	return attrs
}

// contentAttr marshals v for a content attribute, or reports it omitted
// when larger than limit.
func contentAttr(attrs []attribute.KeyValue, key string, v any, limit int) ([]attribute.KeyValue, bool) {
	b, err := json.Marshal(v)
	if err != nil || (limit > 0 && len(b) > limit) {
		return attrs, false
	}
	return append(attrs, attribute.String(key, string(b))), true
}

// bytesAttr adds JSON content, or reports it omitted when larger than
// limit.
func bytesAttr(attrs []attribute.KeyValue, key string, b []byte, limit int) ([]attribute.KeyValue, bool) {
	if limit > 0 && len(b) > limit {
		return attrs, false
	}
	return append(attrs, attribute.String(key, string(b))), true
}

// buildSpan turns a record into a span through the tenant's tracer. It
// runs only in the span worker goroutine (it uses s.scratch).
func (s *Server) buildSpan(rec *callRecord) {
	attrs := make([]attribute.KeyValue, 0, 32)
	attrs = append(attrs,
		attribute.String(llmcall.AttrOperation, rec.op),
		attribute.String(llmcall.AttrRequestModel, rec.model),
		attribute.String(AttrRequestIDHeader, rec.requestID),
		attribute.String(AttrGatewayKeyID, rec.keyID),
		attribute.Int(llmcall.AttrHTTPStatus, rec.status),
	)
	if rec.providerName != "" {
		attrs = append(attrs,
			attribute.String(llmcall.AttrProvider, rec.providerName),
			attribute.String(AttrGatewayProvider, rec.providerConfig),
			attribute.Int(AttrGatewayAttempts, rec.attempts),
		)
		if rec.fallback {
			attrs = append(attrs, attribute.Bool(AttrGatewayFallback, true))
		}
	}
	if rec.endpoint != "" {
		attrs = append(attrs, attribute.String(llmcall.AttrEndpoint, rec.endpoint))
	}
	if rec.sessionID != "" {
		attrs = append(attrs, attribute.String(llmcall.AttrConversationID, rec.sessionID), attribute.String(llmcall.AttrSessionID, rec.sessionID))
	}
	if rec.userID != "" {
		attrs = append(attrs, attribute.String(llmcall.AttrUserID, rec.userID))
	}
	if rec.stream {
		attrs = append(attrs, attribute.Bool(AttrGatewayStream, true))
		if rec.ttft > 0 {
			attrs = append(attrs, attribute.Float64(llmcall.AttrTimeToFirstChunk, rec.ttft.Seconds()))
		}
	}
	capture := *s.cfg.Telemetry.CaptureContent
	limit := s.cfg.Telemetry.MaxContentBytes
	omitted := false
	if r := rec.chat; r != nil {
		if r.MaxCompletionTokens != nil {
			attrs = append(attrs, attribute.Int(AttrRequestMaxTokens, *r.MaxCompletionTokens))
		} else if r.MaxTokens != nil {
			attrs = append(attrs, attribute.Int(AttrRequestMaxTokens, *r.MaxTokens))
		}
		if r.Temperature != nil {
			attrs = append(attrs, attribute.Float64(AttrRequestTemp, *r.Temperature))
		}
		if r.TopP != nil {
			attrs = append(attrs, attribute.Float64(AttrRequestTopP, *r.TopP))
		}
		if r.Seed != nil {
			attrs = append(attrs, attribute.Int64(AttrRequestSeed, *r.Seed))
		}
		if r.N != nil && *r.N != 1 {
			attrs = append(attrs, attribute.Int(AttrRequestChoices, *r.N))
		}
		if capture {
			var ok bool
			s.scratch = appendInputMessages(s.scratch[:0], r)
			if attrs, ok = bytesAttr(attrs, llmcall.AttrInputMessages, s.scratch, limit); !ok {
				omitted = true
			}
			if len(r.Tools) > 0 {
				if attrs, ok = contentAttr(attrs, AttrToolDefinitions, r.Tools, limit); !ok {
					omitted = true
				}
			}
		}
	}
	if resp := rec.resp; resp != nil {
		if resp.ID != "" {
			attrs = append(attrs, attribute.String(AttrResponseID, resp.ID))
		}
		if resp.Model != "" {
			attrs = append(attrs, attribute.String(llmcall.AttrResponseModel, resp.Model))
		}
		reasons := make([]string, 0, len(resp.Choices))
		for _, c := range resp.Choices {
			if c.FinishReason != "" {
				reasons = append(reasons, c.FinishReason)
			}
		}
		if len(reasons) > 0 {
			attrs = append(attrs, attribute.StringSlice(llmcall.AttrFinishReasons, reasons))
		}
		if capture && len(resp.Choices) > 0 {
			var ok bool
			s.scratch = appendOutputMessages(s.scratch[:0], resp)
			if attrs, ok = bytesAttr(attrs, llmcall.AttrOutputMessages, s.scratch, limit); !ok {
				omitted = true
			}
		}
	}
	if r := rec.emb; r != nil {
		if r.Dimensions != nil {
			attrs = append(attrs, attribute.Int(AttrEmbeddingDims, *r.Dimensions))
		}
		format := r.EncodingFormat
		if format == "" {
			format = "float"
		}
		attrs = append(attrs, attribute.StringSlice(AttrEncodingFormats, []string{format}))
	}
	if r := rec.embResp; r != nil && r.Model != "" {
		attrs = append(attrs, attribute.String(llmcall.AttrResponseModel, r.Model))
	}
	attrs = usageAttrs(attrs, rec.usage)
	if omitted {
		attrs = append(attrs, attribute.String(AttrContentOmitted, "too_large"))
	}
	if rec.clientGone {
		attrs = append(attrs, attribute.Bool(AttrClientGone, true))
	}
	if rec.errType != "" {
		attrs = append(attrs, attribute.String(llmcall.AttrErrorType, rec.errType))
	}

	ctx := withIDs(context.Background(), rec.traceID, rec.spanID)
	if rec.parent.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, rec.parent)
	}
	name := rec.op
	if rec.model != "" {
		name += " " + rec.model
	}
	_, span := s.tracers.tracer(rec.tenant, false).Start(ctx, name,
		trace.WithTimestamp(rec.start), trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	if rec.errType != "" {
		span.SetStatus(codes.Error, rec.errMsg)
	}
	span.End(trace.WithTimestamp(rec.end))
}

// maxPendingRecords bounds records waiting for the span worker; beyond
// it calls are served without a span (counted).
const maxPendingRecords = 8192

// workerPoll is how often a busy span worker collects records. Polling
// (instead of a channel send per call) keeps goroutine wake-ups, and the
// futex calls they cost, off the request path under load; an idle worker
// is woken by the first record.
const workerPoll = 2 * time.Millisecond

// spanWorker builds spans from records until Shutdown, then drains.
func (s *Server) spanWorker() {
	defer close(s.recordsDone)
	var batch []*callRecord
	t := time.NewTimer(workerPoll)
	defer t.Stop()
	for {
		s.recMu.Lock()
		batch, s.recBuf = s.recBuf, batch[:0]
		closed := s.recClosed
		s.recIdle = len(batch) == 0 && !closed
		s.recMu.Unlock()
		for i, rec := range batch {
			s.decodeRaw(rec)
			s.account(rec)
			s.buildSpan(rec)
			s.pending.Add(-1)
			batch[i] = nil
		}
		switch {
		case closed && len(batch) == 0:
			return
		case len(batch) > 0 || closed:
			t.Reset(workerPoll)
			<-t.C
		default:
			<-s.recKick
		}
	}
}

// decodeRaw decodes a pass-through response for the span, off the
// request path.
func (s *Server) decodeRaw(rec *callRecord) {
	if rec.raw == nil {
		return
	}
	switch rec.op {
	case operationChat:
		if rec.resp == nil {
			r := new(api.ChatResponse)
			if err := json.Unmarshal(rec.raw, r); err == nil {
				rec.resp, rec.usage = r, r.Usage
			}
		}
	case operationEmbeddings:
		if rec.embResp == nil {
			var r struct {
				Model string     `json:"model"`
				Usage *api.Usage `json:"usage"`
			}
			if err := json.Unmarshal(rec.raw, &r); err == nil {
				rec.embResp, rec.usage = &api.EmbeddingsResponse{Model: r.Model}, r.Usage
			}
		}
	}
	rec.raw = nil
}

// account charges the key's token limit and the token metrics. It runs
// in the span worker, a moment after the call: limits are enforced a few
// milliseconds late at most.
func (s *Server) account(rec *callRecord) {
	u := rec.usage
	if u == nil {
		return
	}
	s.limiter.charge(rec.key, u.TotalTokens, s.now())
	if _, ok := s.routes[rec.model]; ok { // bounded label values only
		s.m.tokens.WithLabelValues(rec.model, "input").Add(float64(u.PromptTokens))
		s.m.tokens.WithLabelValues(rec.model, "output").Add(float64(u.CompletionTokens))
	}
}

// emit hands a record to the span builder without blocking the request.
func (s *Server) emit(rec *callRecord) {
	s.recMu.Lock()
	if s.recClosed || len(s.recBuf) >= maxPendingRecords {
		s.recMu.Unlock()
		s.m.recordsDropped.Inc()
		return
	}
	s.recBuf = append(s.recBuf, rec)
	s.pending.Add(1)
	wake := s.recIdle
	s.recIdle = false
	s.recMu.Unlock()
	if wake {
		select {
		case s.recKick <- struct{}{}:
		default:
		}
	}
}
