package llmcall

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// ErrInvalidSpan classifies spans that cannot become a call record.
var ErrInvalidSpan = errors.New("invalid span")

// mapped lists the span attribute keys that become Call fields, so they are
// not repeated in Attributes.
var mapped = map[string]struct{}{
	AttrEndpoint: {}, AttrOperation: {}, AttrProvider: {}, AttrRequestModel: {}, AttrResponseModel: {},
	AttrConversationID: {}, AttrSessionID: {}, AttrUserID: {}, AttrEndUserID: {},
	AttrInputTokens: {}, AttrOutputTokens: {}, AttrTotalTokens: {}, AttrCacheReadTokens: {},
	AttrCacheWriteTokens: {}, AttrReasoningTokens: {}, AttrFinishReasons: {}, AttrTimeToFirstChunk: {},
	AttrInputMessages: {}, AttrOutputMessages: {}, AttrSystemInstructions: {}, AttrErrorType: {},
	AttrHTTPStatus: {}, AttrCostInput: {}, AttrCostOutput: {}, AttrCostTotal: {}, AttrCostSource: {},
	AttrUnpriced: {}, AttrSourceConvention: {},
}

// mappedResource lists the resource attribute keys that become Call fields.
var mappedResource = map[string]struct{}{
	AttrOrgID: {}, AttrProjectID: {}, AttrEndpoint: {}, AttrEnvironment: {}, AttrEnvironmentOld: {},
}

// notModelCalls are GenAI operations that are not a model call. Their spans
// keep every field and stay in the trace view, but are not LLM calls: an
// agent span wraps its model calls (counting it would skew latency and
// error rates, and the usage it may carry repeats its children's), and a
// tool run is not a model call at all.
var notModelCalls = map[string]bool{"invoke_agent": true, "create_agent": true, "execute_tool": true}

// FromSpan turns one normalised span into a call record. It never panics on
// any input; a span without trace or span id, or with an end before its
// start, is an ErrInvalidSpan. Tenant fields come from the resource
// attributes the collector stamped from the API key.
func FromSpan(res pcommon.Resource, span ptrace.Span) (Call, error) {
	var c Call
	if span.TraceID().IsEmpty() {
		return c, fmt.Errorf("%w: empty trace id", ErrInvalidSpan)
	}
	if span.SpanID().IsEmpty() {
		return c, fmt.Errorf("%w: empty span id", ErrInvalidSpan)
	}
	ra, sa := res.Attributes(), span.Attributes()

	c.OrgID = str(ra, AttrOrgID)
	c.ProjectID = str(ra, AttrProjectID)
	c.ServiceName = str(ra, AttrServiceName)
	c.Endpoint = firstNonEmpty(str(sa, AttrEndpoint), str(ra, AttrEndpoint), c.ServiceName)
	c.Environment = firstNonEmpty(str(ra, AttrEnvironment), str(ra, AttrEnvironmentOld))

	c.TraceID = span.TraceID().String()
	c.SpanID = span.SpanID().String()
	if !span.ParentSpanID().IsEmpty() {
		c.ParentSpanID = span.ParentSpanID().String()
	}
	c.Name = validUTF8(span.Name())
	c.Kind = strings.ToLower(span.Kind().String())
	c.SessionID = firstNonEmpty(str(sa, AttrConversationID), str(sa, AttrSessionID))
	c.UserID = firstNonEmpty(str(sa, AttrUserID), str(sa, AttrEndUserID))

	c.StartTime = span.StartTimestamp().AsTime().UTC().Truncate(time.Microsecond)
	c.EndTime = span.EndTimestamp().AsTime().UTC().Truncate(time.Microsecond)
	if span.EndTimestamp() < span.StartTimestamp() {
		return c, fmt.Errorf("%w: span %s ends before it starts", ErrInvalidSpan, c.SpanID)
	}
	c.LatencyMS = float64(span.EndTimestamp()-span.StartTimestamp()) / 1e6
	c.TTFTMS = nonNegative(float(sa, AttrTimeToFirstChunk) * 1000)

	c.Operation = str(sa, AttrOperation)
	c.Provider = str(sa, AttrProvider)
	c.RequestModel = str(sa, AttrRequestModel)
	c.ResponseModel = str(sa, AttrResponseModel)
	c.SourceConvention = str(sa, AttrSourceConvention)
	c.IsLLM = !notModelCalls[c.Operation] &&
		(c.Operation != "" || c.Provider != "" || c.RequestModel != "" || c.ResponseModel != "")

	c.InputTokens = count(sa, AttrInputTokens)
	c.OutputTokens = count(sa, AttrOutputTokens)
	c.TotalTokens = count(sa, AttrTotalTokens)
	if c.TotalTokens == 0 {
		c.TotalTokens = c.InputTokens + c.OutputTokens
	}
	c.CacheReadTokens = count(sa, AttrCacheReadTokens)
	c.CacheWriteTokens = count(sa, AttrCacheWriteTokens)
	c.ReasoningTokens = count(sa, AttrReasoningTokens)

	c.CostInputUSD = nonNegative(float(sa, AttrCostInput))
	c.CostOutputUSD = nonNegative(float(sa, AttrCostOutput))
	c.CostTotalUSD = nonNegative(float(sa, AttrCostTotal))
	if c.CostTotalUSD == 0 {
		c.CostTotalUSD = c.CostInputUSD + c.CostOutputUSD
	}
	c.CostSource = str(sa, AttrCostSource)
	if v, ok := sa.Get(AttrUnpriced); ok && v.Type() == pcommon.ValueTypeBool {
		c.Unpriced = v.Bool()
	}

	switch span.Status().Code() {
	case ptrace.StatusCodeOk:
		c.Status = StatusOK
	case ptrace.StatusCodeError:
		c.Status = StatusError
	default:
		c.Status = StatusUnset
	}
	c.StatusMessage = validUTF8(span.Status().Message())
	c.ErrorType = str(sa, AttrErrorType)
	if c.ErrorType != "" && c.Status == StatusUnset {
		c.Status = StatusError
	}
	if v := count(sa, AttrHTTPStatus); v > 0 && v < 1000 {
		c.HTTPStatus = int(v)
	}
	c.FinishReasons = strSlice(sa, AttrFinishReasons)

	c.InputMessages = content(sa, AttrInputMessages)
	c.OutputMessages = content(sa, AttrOutputMessages)
	c.SystemInstructions = content(sa, AttrSystemInstructions)

	c.Attributes = restJSON(res, span)
	return c, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func str(m pcommon.Map, key string) string {
	v, ok := m.Get(key)
	if !ok {
		return ""
	}
	if v.Type() == pcommon.ValueTypeStr {
		return validUTF8(v.Str())
	}
	if v.Type() == pcommon.ValueTypeEmpty {
		return ""
	}
	return validUTF8(v.AsString())
}

// count reads a token-like count; anything that is not a finite,
// non-negative number reads as 0 (the genai processor records why).
func count(m pcommon.Map, key string) int64 {
	v, ok := m.Get(key)
	if !ok {
		return 0
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		if v.Int() < 0 {
			return 0
		}
		return v.Int()
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || f < 0 || f > math.MaxInt64/2 {
			return 0
		}
		return int64(f)
	}
	return 0
}

func float(m pcommon.Map, key string) float64 {
	v, ok := m.Get(key)
	if !ok {
		return 0
	}
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		return v.Double()
	case pcommon.ValueTypeInt:
		return float64(v.Int())
	}
	return 0
}

func nonNegative(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return f
}

func strSlice(m pcommon.Map, key string) []string {
	v, ok := m.Get(key)
	if !ok {
		return nil
	}
	switch v.Type() {
	case pcommon.ValueTypeSlice:
		out := make([]string, 0, v.Slice().Len())
		for i := 0; i < v.Slice().Len(); i++ {
			out = append(out, validUTF8(v.Slice().At(i).AsString()))
		}
		return out
	case pcommon.ValueTypeStr:
		if v.Str() == "" {
			return nil
		}
		return []string{validUTF8(v.Str())}
	}
	return nil
}

// content returns message JSON: a JSON string attribute is used as is when
// it is valid JSON, a structured value is encoded, anything else is wrapped
// as a JSON string so no content is lost.
func content(m pcommon.Map, key string) json.RawMessage {
	v, ok := m.Get(key)
	if !ok {
		return nil
	}
	if v.Type() == pcommon.ValueTypeStr {
		s := v.Str()
		if s == "" {
			return nil
		}
		if json.Valid([]byte(s)) {
			return json.RawMessage(s)
		}
		b, _ := json.Marshal(validUTF8(s))
		return b
	}
	b, err := json.Marshal(valueToAny(v))
	if err != nil {
		return nil
	}
	return b
}

func valueToAny(v pcommon.Value) any {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return validUTF8(v.Str())
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return f
	case pcommon.ValueTypeBool:
		return v.Bool()
	case pcommon.ValueTypeBytes:
		return v.Bytes().AsRaw()
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		out := make([]any, s.Len())
		for i := range out {
			out[i] = valueToAny(s.At(i))
		}
		return out
	case pcommon.ValueTypeMap:
		out := make(map[string]any, v.Map().Len())
		for k, vv := range v.Map().All() {
			out[validUTF8(k)] = valueToAny(vv)
		}
		return out
	}
	return nil
}

func mapToAny(m pcommon.Map, skip map[string]struct{}) map[string]any {
	out := make(map[string]any, m.Len())
	for k, v := range m.All() {
		if _, ok := skip[k]; ok {
			continue
		}
		out[validUTF8(k)] = valueToAny(v)
	}
	return out
}

// restJSON keeps everything not mapped: span attributes, resource
// attributes and span events (exceptions live there).
func restJSON(res pcommon.Resource, span ptrace.Span) json.RawMessage {
	rest := map[string]any{}
	if a := mapToAny(span.Attributes(), mapped); len(a) > 0 {
		rest["span"] = a
	}
	if a := mapToAny(res.Attributes(), mappedResource); len(a) > 0 {
		rest["resource"] = a
	}
	if span.Events().Len() > 0 {
		evs := make([]map[string]any, 0, span.Events().Len())
		for i := 0; i < span.Events().Len(); i++ {
			e := span.Events().At(i)
			evs = append(evs, map[string]any{
				"name":       validUTF8(e.Name()),
				"time":       e.Timestamp().AsTime().UTC().Format(time.RFC3339Nano),
				"attributes": mapToAny(e.Attributes(), nil),
			})
		}
		rest["events"] = evs
	}
	if len(rest) == 0 {
		return nil
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return nil
	}
	return b
}
