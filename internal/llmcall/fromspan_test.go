package llmcall

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func newSpan() (pcommon.Resource, ptrace.Span) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	s.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	return rs.Resource(), s
}

func TestFromSpanLLMCall(t *testing.T) {
	res, s := newSpan()
	start := time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(1500 * time.Millisecond)))
	s.SetParentSpanID(pcommon.SpanID{9, 9, 9, 9, 9, 9, 9, 9})
	s.SetName("chat gpt-4o")
	s.SetKind(ptrace.SpanKindClient)
	s.Status().SetCode(ptrace.StatusCodeError)
	s.Status().SetMessage("rate limited")
	res.Attributes().PutStr(AttrOrgID, "org_1")
	res.Attributes().PutStr(AttrProjectID, "prj_1")
	res.Attributes().PutStr(AttrServiceName, "support-bot")
	res.Attributes().PutStr(AttrEnvironment, "prod")
	res.Attributes().PutStr("host.name", "web-1")
	a := s.Attributes()
	a.PutStr(AttrOperation, "chat")
	a.PutStr(AttrProvider, "openai")
	a.PutStr(AttrRequestModel, "gpt-4o")
	a.PutStr(AttrResponseModel, "gpt-4o-2024-08-06")
	a.PutStr(AttrConversationID, "conv-1")
	a.PutStr(AttrUserID, "u-7")
	a.PutInt(AttrInputTokens, 100)
	a.PutInt(AttrOutputTokens, 20)
	a.PutInt(AttrCacheReadTokens, 40)
	a.PutDouble(AttrTimeToFirstChunk, 0.25)
	a.PutDouble(AttrCostInput, 0.001)
	a.PutDouble(AttrCostOutput, 0.002)
	a.PutStr(AttrCostSource, CostSourcePriceTable)
	a.PutStr(AttrErrorType, "rate_limit_exceeded")
	a.PutInt(AttrHTTPStatus, 429)
	fr := a.PutEmptySlice(AttrFinishReasons)
	fr.AppendEmpty().SetStr("stop")
	a.PutStr(AttrInputMessages, `[{"role":"user","parts":[{"type":"text","content":"hi"}]}]`)
	out := a.PutEmptySlice(AttrOutputMessages)
	m := out.AppendEmpty().SetEmptyMap()
	m.PutStr("role", "assistant")
	a.PutStr("custom.key", "kept")
	ev := s.Events().AppendEmpty()
	ev.SetName("exception")
	ev.Attributes().PutStr("exception.type", "RateLimitError")

	c, err := FromSpan(res, s)
	require.NoError(t, err)
	require.Equal(t, "org_1", c.OrgID)
	require.Equal(t, "prj_1", c.ProjectID)
	require.Equal(t, "support-bot", c.Endpoint, "endpoint falls back to service.name")
	require.Equal(t, "prod", c.Environment)
	require.Equal(t, "0102030405060708090a0b0c0d0e0f10", c.TraceID)
	require.Equal(t, "0102030405060708", c.SpanID)
	require.Equal(t, "0909090909090909", c.ParentSpanID)
	require.Equal(t, "client", c.Kind)
	require.Equal(t, start.Truncate(time.Microsecond), c.StartTime)
	require.InDelta(t, 1500, c.LatencyMS, 1e-9)
	require.InDelta(t, 250, c.TTFTMS, 1e-9)
	require.True(t, c.IsLLM)
	require.EqualValues(t, 120, c.TotalTokens)
	require.EqualValues(t, 40, c.CacheReadTokens)
	require.InDelta(t, 0.003, c.CostTotalUSD, 1e-12)
	require.Equal(t, StatusError, c.Status)
	require.Equal(t, "rate limited", c.StatusMessage)
	require.Equal(t, 429, c.HTTPStatus)
	require.Equal(t, []string{"stop"}, c.FinishReasons)
	require.JSONEq(t, `[{"role":"user","parts":[{"type":"text","content":"hi"}]}]`, string(c.InputMessages))
	require.JSONEq(t, `[{"role":"assistant"}]`, string(c.OutputMessages), "structured content is encoded")
	var rest map[string]any
	require.NoError(t, json.Unmarshal(c.Attributes, &rest))
	require.Equal(t, map[string]any{"custom.key": "kept"}, rest["span"])
	require.Equal(t, map[string]any{"service.name": "support-bot", "host.name": "web-1"}, rest["resource"])
	require.Len(t, rest["events"], 1)
}

func TestFromSpanPlainAndInvalid(t *testing.T) {
	res, s := newSpan()
	s.SetName("SELECT orders")
	s.SetStartTimestamp(1_000_000_000)
	s.SetEndTimestamp(2_000_000_000)
	c, err := FromSpan(res, s)
	require.NoError(t, err)
	require.False(t, c.IsLLM)
	require.Equal(t, StatusUnset, c.Status)
	require.Nil(t, c.Attributes)

	s.SetEndTimestamp(1)
	_, err = FromSpan(res, s)
	require.ErrorIs(t, err, ErrInvalidSpan)

	_, s2 := newSpan()
	s2.SetSpanID(pcommon.SpanID{})
	_, err = FromSpan(res, s2)
	require.ErrorIs(t, err, ErrInvalidSpan)
}

func TestFromSpanBadValues(t *testing.T) {
	res, s := newSpan()
	a := s.Attributes()
	a.PutStr(AttrRequestModel, "m")
	a.PutInt(AttrInputTokens, -5)
	a.PutDouble(AttrOutputTokens, math.NaN())
	a.PutStr(AttrTotalTokens, "lots")
	a.PutDouble(AttrCostTotal, math.Inf(1))
	a.PutStr(AttrInputMessages, "not json \xff")
	a.PutDouble("weird", math.NaN())
	c, err := FromSpan(res, s)
	require.NoError(t, err)
	require.Zero(t, c.InputTokens)
	require.Zero(t, c.OutputTokens)
	require.Zero(t, c.TotalTokens)
	require.Zero(t, c.CostTotalUSD)
	require.True(t, json.Valid(c.InputMessages), "non-JSON content is kept as a JSON string")
	require.True(t, json.Valid(c.Attributes))
}

// FuzzFromSpan: any attribute keys and values convert without panicking,
// and what comes out is valid UTF-8 JSON where JSON is promised.
func FuzzFromSpan(f *testing.F) {
	f.Add("gen_ai.request.model", "gpt-4o", int64(10), 1.5, []byte(`[{"role":"user"}]`), uint64(1), uint64(2))
	f.Add(AttrInputMessages, "{", int64(-1), math.Inf(1), []byte{0xff}, uint64(5), uint64(1))
	f.Fuzz(func(t *testing.T, key, sval string, ival int64, dval float64, raw []byte, start, end uint64) {
		res, s := newSpan()
		s.SetStartTimestamp(pcommon.Timestamp(start))
		s.SetEndTimestamp(pcommon.Timestamp(end))
		s.SetName(sval)
		a := s.Attributes()
		a.PutStr(key, sval)
		a.PutInt(key+".i", ival)
		a.PutDouble(AttrInputTokens, dval)
		a.PutStr(AttrOutputMessages, string(raw))
		a.PutEmptyBytes(AttrSystemInstructions).FromRaw(raw)
		a.PutInt(AttrHTTPStatus, ival)
		res.Attributes().PutStr(key, string(raw))
		c, err := FromSpan(res, s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidSpan)
			return
		}
		for _, b := range [][]byte{c.InputMessages, c.OutputMessages, c.SystemInstructions, c.Attributes} {
			if b != nil {
				require.True(t, json.Valid(b), string(b))
			}
		}
		require.GreaterOrEqual(t, c.InputTokens, int64(0))
		_, err = json.Marshal(c)
		require.NoError(t, err)
	})
}

func TestAgentAndToolSpansAreNotModelCalls(t *testing.T) {
	for op, llm := range map[string]bool{"chat": true, "embeddings": true, "text_completion": true, "generate_content": true,
		"invoke_agent": false, "create_agent": false, "execute_tool": false} {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetTraceID(pcommon.TraceID{1})
		span.SetSpanID(pcommon.SpanID{2})
		span.Attributes().PutStr(AttrOperation, op)
		span.Attributes().PutStr(AttrProvider, "openai")
		c, err := FromSpan(rs.Resource(), span)
		require.NoError(t, err)
		require.Equal(t, llm, c.IsLLM, op)
		require.Equal(t, op, c.Operation, "agent and tool spans keep their fields for the trace view")
	}
}
