package queryapi

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

// TraceSpan is one span of a trace in tree order with its depth and the
// cost and tokens of the model calls in its subtree.
type TraceSpan struct {
	llmcall.Call
	Depth              int     `json:"depth"`
	SubtreeCostUSD     float64 `json:"subtree_cost_usd"`
	SubtreeTokens      int64   `json:"subtree_tokens"`
	SubtreeLLMCalls    int     `json:"subtree_llm_calls"`
	SubtreeHasUnpriced bool    `json:"subtree_has_unpriced"`
}

// Trace is a whole trace: spans depth-first (children by start time),
// with totals rolled up over every span (tokens and cost over its model
// calls).
type Trace struct {
	TraceID    string      `json:"trace_id"`
	Start      time.Time   `json:"start"`
	End        time.Time   `json:"end"`
	DurationMS float64     `json:"duration_ms"`
	Spans      []TraceSpan `json:"spans"`
	LLMCalls   int         `json:"llm_calls"`
	Errors     int         `json:"errors"`
	Tokens     int64       `json:"total_tokens"`
	CostUSD    float64     `json:"cost_usd"`
	Unpriced   bool        `json:"has_unpriced"`
}

func (s *Server) getTrace(w http.ResponseWriter, r *http.Request, projectID string) (int, error) {
	id := strings.ToLower(r.PathValue("trace_id"))
	if !isHex(id, 32) {
		return 0, badRequest("trace id must be 32 hex characters")
	}
	spans, err := s.o.Store.GetTrace(r.Context(), projectID, id)
	if err != nil {
		return 0, fmt.Errorf("trace %s: %w", id, err)
	}
	return writeJSON(w, http.StatusOK, buildTrace(id, spans)), nil
}

// buildTrace orders spans depth-first from the roots. A span whose parent
// is not in the trace (not yet arrived, or sampled out) is shown as a root
// so nothing is hidden.
func buildTrace(id string, spans []llmcall.Call) Trace {
	t := Trace{TraceID: id}
	byID := make(map[string]bool, len(spans))
	for _, c := range spans {
		byID[c.SpanID] = true
	}
	children := map[string][]int{}
	var roots []int
	for i, c := range spans {
		if c.ParentSpanID == "" || !byID[c.ParentSpanID] || c.ParentSpanID == c.SpanID {
			roots = append(roots, i)
		} else {
			children[c.ParentSpanID] = append(children[c.ParentSpanID], i)
		}
	}
	byStart := func(a, b int) int {
		return cmp.Or(spans[a].StartTime.Compare(spans[b].StartTime), strings.Compare(spans[a].SpanID, spans[b].SpanID))
	}
	slices.SortFunc(roots, byStart)
	for _, k := range children {
		slices.SortFunc(k, byStart)
	}
	visited := make([]bool, len(spans))
	var walk func(i, depth int) int
	walk = func(i, depth int) int {
		visited[i] = true
		pos := len(t.Spans)
		t.Spans = append(t.Spans, TraceSpan{Call: spans[i], Depth: depth})
		ts := &t.Spans[pos]
		if spans[i].IsLLM {
			ts.SubtreeCostUSD, ts.SubtreeTokens = spans[i].CostTotalUSD, spans[i].TotalTokens
			ts.SubtreeHasUnpriced = spans[i].Unpriced
			ts.SubtreeLLMCalls = 1
		}
		for _, ch := range children[spans[i].SpanID] {
			if visited[ch] {
				continue
			}
			cp := walk(ch, depth+1)
			ts = &t.Spans[pos] // walk may have grown the slice
			c := t.Spans[cp]
			ts.SubtreeCostUSD += c.SubtreeCostUSD
			ts.SubtreeTokens += c.SubtreeTokens
			ts.SubtreeLLMCalls += c.SubtreeLLMCalls
			ts.SubtreeHasUnpriced = ts.SubtreeHasUnpriced || c.SubtreeHasUnpriced
		}
		return pos
	}
	for _, i := range roots {
		walk(i, 0)
	}
	for i := range spans { // parent cycles: show what is left as roots
		if !visited[i] {
			walk(i, 0)
		}
	}
	for i, c := range spans {
		if i == 0 || c.StartTime.Before(t.Start) {
			t.Start = c.StartTime
		}
		if c.EndTime.After(t.End) {
			t.End = c.EndTime
		}
		if c.Status == llmcall.StatusError {
			t.Errors++
		}
		// Usage and cost are the model calls': an agent span's usage, when
		// its instrumentation sets any, repeats its children's.
		if c.IsLLM {
			t.LLMCalls++
			t.Tokens += c.TotalTokens
			t.CostUSD += c.CostTotalUSD
			t.Unpriced = t.Unpriced || c.Unpriced
		}
	}
	t.DurationMS = float64(t.End.Sub(t.Start).Microseconds()) / 1000
	return t
}

type overviewResponse struct {
	From    time.Time        `json:"from"`
	To      time.Time        `json:"to"`
	StepS   float64          `json:"step_seconds"`
	Total   storage.Bucket   `json:"total"`
	Buckets []storage.Bucket `json:"buckets"`
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, projectID string) (int, error) {
	from, to, err := s.timeRange(r)
	if err != nil {
		return 0, err
	}
	step := autoStep(to.Sub(from))
	if v := r.URL.Query().Get("step"); v != "" {
		step, err = time.ParseDuration(v)
		if err != nil || step < time.Second {
			return 0, badRequest("step must be a duration of at least 1s, like 1m or 1h")
		}
		if to.Sub(from)/step > 2000 {
			return 0, badRequest("step %s over %s gives more than 2000 buckets; use a larger step", step, to.Sub(from))
		}
	}
	ov, err := s.o.Store.Overview(r.Context(), storage.OverviewQuery{
		ProjectID: projectID, From: from, To: to, Step: step,
		Endpoint: r.URL.Query().Get("endpoint"), Model: r.URL.Query().Get("model"),
	})
	if err != nil {
		return 0, err
	}
	if ov.Buckets == nil {
		ov.Buckets = []storage.Bucket{}
	}
	return writeJSON(w, http.StatusOK, overviewResponse{From: from, To: to, StepS: step.Seconds(), Total: ov.Total, Buckets: ov.Buckets}), nil
}

// autoStep picks a bucket width giving at most ~120 buckets.
func autoStep(d time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour} {
		if d/s <= 120 {
			return s
		}
	}
	return 24 * time.Hour
}
