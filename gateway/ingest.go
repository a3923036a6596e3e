package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/llmcall"
)

// Bounds of an ingest record.
const (
	maxIngestStringLen   = 256
	maxMetadataKeys      = 64
	maxMetadataValueLen  = 4096
	maxIngestLatency     = 24 * time.Hour
	maxIngestTokens      = 1 << 31
	ingestFutureSkew     = 5 * time.Minute
	ingestMaxAge         = 30 * 24 * time.Hour
	ingestRetryAfterSecs = 5
)

// IngestBatch is the body of POST /v1/ingest.
type IngestBatch struct {
	Records []json.RawMessage `json:"records"`
}

// IngestRecord is one external LLM call. See README.md for the schema.
type IngestRecord struct {
	// ID, when set, makes retries idempotent: the span's trace and span
	// ids are derived from it (and the project), unless given explicitly.
	ID           string `json:"id,omitempty"`
	TraceID      string `json:"trace_id,omitempty"`
	SpanID       string `json:"span_id,omitempty"`
	ParentSpanID string `json:"parent_span_id,omitempty"`

	Model         string `json:"model"`
	ResponseModel string `json:"response_model,omitempty"`
	Provider      string `json:"provider,omitempty"`
	Operation     string `json:"operation,omitempty"`

	// Messages is the input: OpenAI-style [{role, content}] (content a
	// string or parts) or OTel-style [{role, parts}].
	Messages json.RawMessage `json:"messages,omitempty"`
	// Output is a string, one message or an array of messages (as above).
	Output json.RawMessage `json:"output,omitempty"`

	Tokens        *IngestTokens `json:"tokens,omitempty"`
	LatencyMS     *float64      `json:"latency_ms,omitempty"`
	TTFTMS        *float64      `json:"ttft_ms,omitempty"`
	StartTime     string        `json:"start_time,omitempty"`
	EndTime       string        `json:"end_time,omitempty"`
	Status        string        `json:"status,omitempty"`
	Error         *IngestError  `json:"error,omitempty"`
	HTTPStatus    int           `json:"http_status,omitempty"`
	FinishReasons []string      `json:"finish_reasons,omitempty"`
	CostUSD       *float64      `json:"cost_usd,omitempty"`

	Endpoint    string         `json:"endpoint,omitempty"`
	Environment string         `json:"environment,omitempty"`
	SessionID   string         `json:"session_id,omitempty"`
	UserID      string         `json:"user_id,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

// IngestTokens is token usage.
type IngestTokens struct {
	Input      int64 `json:"input"`
	Output     int64 `json:"output"`
	Total      int64 `json:"total,omitempty"`
	CacheRead  int64 `json:"cache_read,omitempty"`
	CacheWrite int64 `json:"cache_write,omitempty"`
	Reasoning  int64 `json:"reasoning,omitempty"`
}

// IngestError describes a failed call.
type IngestError struct {
	Type    string `json:"type"`
	Message string `json:"message,omitempty"`
}

// FieldError is one reason a record was rejected.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// IngestResult reports one record of a batch.
type IngestResult struct {
	Index   int          `json:"index"`
	Status  string       `json:"status"` // accepted | rejected
	TraceID string       `json:"trace_id,omitempty"`
	SpanID  string       `json:"span_id,omitempty"`
	Errors  []FieldError `json:"errors,omitempty"`
}

// IngestResponse is the body of a /v1/ingest answer: 200 when every
// record was accepted, 207 when some were, 400 when none was.
type IngestResponse struct {
	Accepted int            `json:"accepted"`
	Rejected int            `json:"rejected"`
	Results  []IngestResult `json:"results"`
}

// ingestCall is a validated record, ready to become a span.
type ingestCall struct {
	r            IngestRecord
	start, end   time.Time
	input        json.RawMessage
	output       json.RawMessage
	traceID      trace.TraceID
	spanID       trace.SpanID
	parentSpanID trace.SpanID
	failed       bool
}

// validMetadataKey: 1-128 characters of letters, digits, '_', '.', '-'.
func validMetadataKey(k string) bool {
	if len(k) == 0 || len(k) > 128 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// ParseIngestRecord decodes and validates one record. now anchors
// records that give only a latency, and the future/age bounds.
func ParseIngestRecord(raw []byte, now time.Time) (*ingestCall, []FieldError) {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	c := &ingestCall{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c.r); err != nil {
		msg := err.Error()
		field := ""
		if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			field = strings.Trim(name, `"`)
			msg = "unknown field"
		} else {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				field = te.Field
				msg = fmt.Sprintf("expected %s, got %s", te.Type.String(), te.Value)
			} else {
				msg = "not a valid JSON object: " + msg
			}
		}
		return nil, []FieldError{{Field: clipField(field), Message: msg}}
	}
	r := &c.r
	if strings.TrimSpace(r.Model) == "" {
		bad("model", "required")
	}
	for field, v := range map[string]string{"id": r.ID, "model": r.Model, "response_model": r.ResponseModel, "provider": r.Provider,
		"endpoint": r.Endpoint, "environment": r.Environment, "session_id": r.SessionID, "user_id": r.UserID} {
		if len(v) > maxIngestStringLen {
			bad(field, "longer than %d bytes", maxIngestStringLen)
		}
	}
	switch r.Operation {
	case "":
		r.Operation = operationChat
	case "chat", "text_completion", "embeddings", "generate_content", "execute_tool", "invoke_agent", "create_agent", "retrieval":
	default:
		bad("operation", "unknown operation %q", clipField(r.Operation))
	}
	switch r.Status {
	case "":
		r.Status = "ok"
		if r.Error != nil || r.HTTPStatus >= 400 {
			r.Status = "error"
		}
	case "ok", "error":
	default:
		bad("status", "must be \"ok\" or \"error\"")
	}
	c.failed = r.Status == "error"
	if r.Error != nil && r.Error.Type == "" {
		bad("error.type", "required when error is set")
	}
	if r.Error != nil && (len(r.Error.Type) > maxIngestStringLen || len(r.Error.Message) > maxMetadataValueLen) {
		bad("error", "type or message too long")
	}
	if r.HTTPStatus != 0 && (r.HTTPStatus < 100 || r.HTTPStatus > 599) {
		bad("http_status", "must be an HTTP status code")
	}
	if t := r.Tokens; t != nil {
		for field, v := range map[string]int64{"tokens.input": t.Input, "tokens.output": t.Output, "tokens.total": t.Total,
			"tokens.cache_read": t.CacheRead, "tokens.cache_write": t.CacheWrite, "tokens.reasoning": t.Reasoning} {
			if v < 0 || v > maxIngestTokens {
				bad(field, "must be between 0 and %d", int64(maxIngestTokens))
			}
		}
	}
	if r.CostUSD != nil && (*r.CostUSD < 0 || math.IsInf(*r.CostUSD, 0) || math.IsNaN(*r.CostUSD)) {
		bad("cost_usd", "must not be negative")
	}
	if r.TTFTMS != nil && (*r.TTFTMS < 0 || *r.TTFTMS > float64(maxIngestLatency/time.Millisecond)) {
		bad("ttft_ms", "must be between 0 and %d", int64(maxIngestLatency/time.Millisecond))
	}
	if len(r.FinishReasons) > 128 {
		bad("finish_reasons", "at most 128")
	}
	c.parseTimes(now, bad)
	c.parseIDs(bad)
	if len(r.Metadata) > maxMetadataKeys {
		bad("metadata", "at most %d keys", maxMetadataKeys)
	}
	for k, v := range r.Metadata {
		if !validMetadataKey(k) {
			bad("metadata", "key %q must be 1-128 characters of letters, digits, '_', '.', '-'", clipField(k))
			continue
		}
		switch v := v.(type) {
		case string:
			if len(v) > maxMetadataValueLen {
				bad("metadata."+k, "longer than %d bytes", maxMetadataValueLen)
			}
		case float64, bool:
		default:
			bad("metadata."+k, "values must be strings, numbers or booleans")
		}
	}
	var err error
	if c.input, err = convertMessages(r.Messages, "", ""); err != nil {
		bad("messages", "%v", err)
	}
	finish := "stop"
	if c.failed {
		finish = "error"
	}
	if len(r.FinishReasons) > 0 {
		finish = otelFinishReason(r.FinishReasons[0])
	}
	if c.output, err = convertMessages(r.Output, "assistant", finish); err != nil {
		bad("output", "%v", err)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

func clipField(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func (c *ingestCall) parseTimes(now time.Time, bad func(string, string, ...any)) {
	r := &c.r
	parse := func(field, v string) (time.Time, bool) {
		if v == "" {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			bad(field, "must be an RFC 3339 timestamp (2006-01-02T15:04:05.999Z)")
			return time.Time{}, false
		}
		return t, true
	}
	start, hasStart := parse("start_time", r.StartTime)
	end, hasEnd := parse("end_time", r.EndTime)
	var lat time.Duration
	if r.LatencyMS != nil {
		if *r.LatencyMS < 0 || *r.LatencyMS > float64(maxIngestLatency/time.Millisecond) || math.IsNaN(*r.LatencyMS) {
			bad("latency_ms", "must be between 0 and %d", int64(maxIngestLatency/time.Millisecond))
			return
		}
		lat = time.Duration(*r.LatencyMS * float64(time.Millisecond))
	}
	switch {
	case hasStart && hasEnd:
	case hasStart && r.LatencyMS != nil:
		end = start.Add(lat)
	case hasEnd && r.LatencyMS != nil:
		start = end.Add(-lat)
	case r.LatencyMS != nil && r.StartTime == "" && r.EndTime == "":
		end = now
		start = end.Add(-lat)
	case hasStart:
		end = start
	case hasEnd:
		start = end
	case r.StartTime == "" && r.EndTime == "":
		bad("start_time", "one of start_time, end_time or latency_ms is required")
		return
	default:
		return // a timestamp failed to parse
	}
	if end.Before(start) {
		bad("end_time", "is before start_time")
		return
	}
	if end.Sub(start) > maxIngestLatency {
		bad("end_time", "the call lasted more than %s", maxIngestLatency)
	}
	if end.After(now.Add(ingestFutureSkew)) {
		bad("end_time", "is in the future")
	}
	if start.Before(now.Add(-ingestMaxAge)) {
		bad("start_time", "is older than %d days", int(ingestMaxAge/(24*time.Hour)))
	}
	c.start, c.end = start, end
}

func (c *ingestCall) parseIDs(bad func(string, string, ...any)) {
	r := &c.r
	if r.TraceID != "" {
		t, err := trace.TraceIDFromHex(r.TraceID)
		if err != nil {
			bad("trace_id", "must be 32 lower-case hex digits, not all zero")
		}
		c.traceID = t
	}
	if r.SpanID != "" {
		s, err := trace.SpanIDFromHex(r.SpanID)
		if err != nil {
			bad("span_id", "must be 16 lower-case hex digits, not all zero")
		}
		c.spanID = s
	}
	if r.ParentSpanID != "" {
		p, err := trace.SpanIDFromHex(r.ParentSpanID)
		if err != nil {
			bad("parent_span_id", "must be 16 lower-case hex digits, not all zero")
		}
		c.parentSpanID = p
		if r.TraceID == "" {
			bad("parent_span_id", "needs trace_id")
		}
	}
}

// ingestMessage is an OpenAI-style or OTel-style message.
type ingestMessage struct {
	Role         string          `json:"role"`
	Content      json.RawMessage `json:"content,omitempty"`
	Parts        json.RawMessage `json:"parts,omitempty"`
	Name         string          `json:"name,omitempty"`
	ToolCalls    []api.ToolCall  `json:"tool_calls,omitempty"`
	ToolCallID   string          `json:"tool_call_id,omitempty"`
	FinishReason string          `json:"finish_reason,omitempty"`
}

// convertMessages turns messages (or a bare string) into the OTel message
// schema, as JSON. defaultRole and finish apply to output messages.
func convertMessages(raw json.RawMessage, defaultRole, finish string) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var items []json.RawMessage
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("invalid string")
		}
		if defaultRole == "" {
			defaultRole = "user"
		}
		out := []otelMessage{{Role: defaultRole, Parts: []otelPart{textPart(s)}, FinishReason: finish}}
		return json.Marshal(out)
	case '{':
		items = []json.RawMessage{raw}
	case '[':
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, errors.New("must be an array of message objects")
		}
	default:
		return nil, errors.New("must be a string, a message object or an array of messages")
	}
	if len(items) > 10000 {
		return nil, errors.New("at most 10000 messages")
	}
	type outMessage struct {
		Role         string          `json:"role"`
		Parts        json.RawMessage `json:"parts"`
		Name         string          `json:"name,omitempty"`
		FinishReason string          `json:"finish_reason,omitempty"`
	}
	out := make([]outMessage, 0, len(items))
	for i, it := range items {
		var m ingestMessage
		dec := json.NewDecoder(bytes.NewReader(it))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("[%d]: %s", i, strings.TrimPrefix(err.Error(), "json: "))
		}
		if m.Role == "" {
			m.Role = defaultRole
		}
		if m.Role == "" || len(m.Role) > 64 {
			return nil, fmt.Errorf("[%d].role: required", i)
		}
		om := outMessage{Role: m.Role, Name: m.Name, FinishReason: m.FinishReason}
		if defaultRole != "" && om.FinishReason == "" {
			om.FinishReason = finish
		}
		if len(m.Parts) > 0 {
			if len(m.Content) > 0 {
				return nil, fmt.Errorf("[%d]: set content or parts, not both", i)
			}
			var parts []map[string]any
			if err := json.Unmarshal(m.Parts, &parts); err != nil {
				return nil, fmt.Errorf("[%d].parts: must be an array of objects", i)
			}
			for j, p := range parts {
				if t, _ := p["type"].(string); t == "" {
					return nil, fmt.Errorf("[%d].parts[%d].type: required", i, j)
				}
			}
			om.Parts = m.Parts
		} else {
			am := api.Message{Role: m.Role, Content: m.Content, ToolCalls: m.ToolCalls, ToolCallID: m.ToolCallID, Name: m.Name}
			if c := bytes.TrimSpace(m.Content); len(c) > 0 && c[0] != '"' && c[0] != '[' && !bytes.Equal(c, []byte("null")) {
				return nil, fmt.Errorf("[%d].content: must be a string or an array of parts", i)
			}
			if _, err := am.Parts(); err != nil {
				return nil, fmt.Errorf("[%d].content: %v", i, err)
			}
			conv := inputMessages(&api.ChatRequest{Messages: []api.Message{am}})
			b, err := json.Marshal(conv[0].Parts)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %v", i, err)
			}
			om.Parts = b
			if conv[0].Role == "tool" {
				om.Role = "tool"
			}
		}
		out = append(out, om)
	}
	return json.Marshal(out)
}

// deriveIDs gives a record with an id deterministic trace and span ids
// within its project, so a retried batch is deduplicated downstream.
func deriveIDs(project, id string) (trace.TraceID, trace.SpanID) {
	h := sha256.Sum256([]byte("observatory-ingest\x00" + project + "\x00" + id))
	var t trace.TraceID
	var s trace.SpanID
	copy(t[:], h[:16])
	copy(s[:], h[16:24])
	if !t.IsValid() {
		t[0] = 1
	}
	if !s.IsValid() {
		s[0] = 1
	}
	return t, s
}

func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request, st *reqState) int {
	key, code := s.authenticate(w, r, apikey.ScopeIngest)
	if code != 0 {
		return code
	}
	body, aerr := s.readBody(w, r)
	if aerr != nil {
		return s.writeError(w, aerr)
	}
	var batch IngestBatch
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&batch); err != nil {
		return s.writeError(w, api.BadRequest("", "", "The body must be {\"records\": [ … ]}: %s", strings.TrimPrefix(err.Error(), "json: ")))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return s.writeError(w, api.BadRequest("", "", "Unexpected data after the JSON body."))
	}
	if len(batch.Records) == 0 {
		return s.writeError(w, api.BadRequest("records", "empty_array", "'records' must hold at least one record."))
	}
	if n := len(batch.Records); n > s.cfg.Server.MaxIngestRecords {
		return s.writeError(w, api.BadRequest("records", "too_many_records", "A batch holds at most %d records; this one has %d.", s.cfg.Server.MaxIngestRecords, n))
	}
	now := s.now()
	tenant := Tenant{OrgID: key.OrgID, ProjectID: key.ProjectID}
	resp := IngestResponse{Results: make([]IngestResult, len(batch.Records))}
	calls := make([]*ingestCall, len(batch.Records))
	for i, raw := range batch.Records {
		c, errs := ParseIngestRecord(raw, now)
		resp.Results[i].Index = i
		if errs != nil {
			resp.Results[i].Status, resp.Results[i].Errors = "rejected", errs
			resp.Rejected++
			continue
		}
		calls[i] = c
		resp.Accepted++
	}
	if resp.Accepted > 0 && !s.q.reserve(resp.Accepted) {
		w.Header().Set("Retry-After", strconv.Itoa(ingestRetryAfterSecs))
		s.m.ingestRecords.WithLabelValues("refused_busy").Add(float64(resp.Accepted))
		return s.writeError(w, api.NewError(http.StatusServiceUnavailable, api.TypeServer, "queue_full", "",
			"The export queue is full; nothing was accepted. Retry the batch in %ds.", ingestRetryAfterSecs))
	}
	tracer := s.tracers.tracer(tenant, true)
	for i, c := range calls {
		if c == nil {
			continue
		}
		tid, sid := s.ingestSpan(tracer, tenant, c)
		resp.Results[i].Status, resp.Results[i].TraceID, resp.Results[i].SpanID = "accepted", tid.String(), sid.String()
	}
	s.m.ingestRecords.WithLabelValues("accepted").Add(float64(resp.Accepted))
	s.m.ingestRecords.WithLabelValues("rejected").Add(float64(resp.Rejected))
	status := http.StatusOK
	switch {
	case resp.Accepted == 0:
		status = http.StatusBadRequest
	case resp.Rejected > 0:
		status = http.StatusMultiStatus
	}
	b, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return status
}

// ingestSpan emits the span of a validated record.
func (s *Server) ingestSpan(tracer trace.Tracer, t Tenant, c *ingestCall) (trace.TraceID, trace.SpanID) {
	r := &c.r
	tid, sid := c.traceID, c.spanID
	if r.ID != "" {
		dt, ds := deriveIDs(t.ProjectID, r.ID)
		if !tid.IsValid() {
			tid = dt
		}
		if !sid.IsValid() {
			sid = ds
		}
	}
	if !tid.IsValid() {
		tid = newTraceID()
	}
	if !sid.IsValid() {
		sid = newSpanID()
	}
	ctx := withIDs(context.Background(), tid, sid)
	if c.parentSpanID.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: tid, SpanID: c.parentSpanID, TraceFlags: trace.FlagsSampled, Remote: true}))
	}
	attrs := []attribute.KeyValue{
		attribute.String(llmcall.AttrOperation, r.Operation),
		attribute.String(llmcall.AttrRequestModel, r.Model),
	}
	str := func(k, v string) {
		if v != "" {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	str(llmcall.AttrResponseModel, r.ResponseModel)
	str(llmcall.AttrProvider, r.Provider)
	str(llmcall.AttrEndpoint, r.Endpoint)
	str(llmcall.AttrEnvironment, r.Environment)
	str(llmcall.AttrUserID, r.UserID)
	str(AttrIngestRecordID, r.ID)
	if r.SessionID != "" {
		attrs = append(attrs, attribute.String(llmcall.AttrConversationID, r.SessionID), attribute.String(llmcall.AttrSessionID, r.SessionID))
	}
	if tk := r.Tokens; tk != nil {
		attrs = append(attrs, attribute.Int64(llmcall.AttrInputTokens, tk.Input), attribute.Int64(llmcall.AttrOutputTokens, tk.Output))
		if tk.Total > 0 {
			attrs = append(attrs, attribute.Int64(llmcall.AttrTotalTokens, tk.Total))
		}
		if tk.CacheRead > 0 {
			attrs = append(attrs, attribute.Int64(llmcall.AttrCacheReadTokens, tk.CacheRead))
		}
		if tk.CacheWrite > 0 {
			attrs = append(attrs, attribute.Int64(llmcall.AttrCacheWriteTokens, tk.CacheWrite))
		}
		if tk.Reasoning > 0 {
			attrs = append(attrs, attribute.Int64(llmcall.AttrReasoningTokens, tk.Reasoning))
		}
	}
	if r.TTFTMS != nil {
		attrs = append(attrs, attribute.Float64(llmcall.AttrTimeToFirstChunk, *r.TTFTMS/1000))
	}
	if r.HTTPStatus != 0 {
		attrs = append(attrs, attribute.Int(llmcall.AttrHTTPStatus, r.HTTPStatus))
	}
	if len(r.FinishReasons) > 0 {
		attrs = append(attrs, attribute.StringSlice(llmcall.AttrFinishReasons, r.FinishReasons))
	}
	if r.CostUSD != nil {
		attrs = append(attrs, attribute.Float64(llmcall.AttrCostTotal, *r.CostUSD), attribute.String(llmcall.AttrCostSource, llmcall.CostSourceClient))
	}
	if *s.cfg.Telemetry.CaptureContent {
		limit := s.cfg.Telemetry.MaxContentBytes
		for _, kv := range []struct {
			key string
			v   json.RawMessage
		}{{llmcall.AttrInputMessages, c.input}, {llmcall.AttrOutputMessages, c.output}} {
			if len(kv.v) == 0 {
				continue
			}
			if limit > 0 && len(kv.v) > limit {
				attrs = append(attrs, attribute.String(AttrContentOmitted, "too_large"))
				continue
			}
			attrs = append(attrs, attribute.String(kv.key, string(kv.v)))
		}
	}
	for _, k := range sortedKeys(r.Metadata) {
		switch v := r.Metadata[k].(type) {
		case string:
			attrs = append(attrs, attribute.String(AttrMetadataPrefix+k, v))
		case float64:
			attrs = append(attrs, attribute.Float64(AttrMetadataPrefix+k, v))
		case bool:
			attrs = append(attrs, attribute.Bool(AttrMetadataPrefix+k, v))
		}
	}
	errType := ""
	if r.Error != nil {
		errType = r.Error.Type
	} else if c.failed {
		errType = "error"
		if r.HTTPStatus != 0 {
			errType = strconv.Itoa(r.HTTPStatus)
		}
	}
	if errType != "" {
		attrs = append(attrs, attribute.String(llmcall.AttrErrorType, errType))
	}
	_, span := tracer.Start(ctx, r.Operation+" "+r.Model, trace.WithTimestamp(c.start), trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	if c.failed {
		msg := errType
		if r.Error != nil && r.Error.Message != "" {
			msg = r.Error.Message
		}
		span.SetStatus(codes.Error, msg)
	} else {
		span.SetStatus(codes.Ok, "")
	}
	span.End(trace.WithTimestamp(c.end))
	return tid, sid
}
