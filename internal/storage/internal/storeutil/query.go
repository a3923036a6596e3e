package storeutil

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

// Query bounds.
const (
	MaxLimit   = 1000
	MaxBuckets = 2000
)

// SpanColumns lists the columns of spans in the order both stores insert
// and select them (see SpanValues and SpanTargets).
const SpanColumns = "start_time, end_time, org_id, project_id, trace_id, span_id, parent_span_id, " +
	"name, kind, endpoint, environment, service_name, session_id, user_id, latency_ms, ttft_ms, " +
	"is_llm, provider, operation, request_model, response_model, source_convention, " +
	"input_tokens, output_tokens, total_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, " +
	"cost_input_usd, cost_output_usd, cost_total_usd, cost_source, unpriced, " +
	"status, status_message, error_type, http_status, finish_reasons, " +
	"input_messages, output_messages, system_instructions, attributes"

// SpanColumnNames returns SpanColumns as a slice.
func SpanColumnNames() []string {
	return strings.Split(strings.ReplaceAll(SpanColumns, " ", ""), ",")
}

// Stored holds the values of the columns whose stored type differs between
// the backends (times, booleans, finish reasons, JSON), already converted
// to the backend's type by the caller.
type Stored struct {
	Start, End, IsLLM, Unpriced, FinishReasons any
	Input, Output, System, Attributes          any
}

// SpanValues returns the insert values of c in SpanColumns order, taking
// the backend-typed columns from s.
func SpanValues(c *llmcall.Call, s Stored) []any {
	return []any{
		s.Start, s.End, c.OrgID, c.ProjectID, c.TraceID, c.SpanID, c.ParentSpanID,
		c.Name, c.Kind, c.Endpoint, c.Environment, c.ServiceName, c.SessionID, c.UserID, c.LatencyMS, c.TTFTMS,
		s.IsLLM, c.Provider, c.Operation, c.RequestModel, c.ResponseModel, c.SourceConvention,
		c.InputTokens, c.OutputTokens, c.TotalTokens, c.CacheReadTokens, c.CacheWriteTokens, c.ReasoningTokens,
		c.CostInputUSD, c.CostOutputUSD, c.CostTotalUSD, c.CostSource, s.Unpriced,
		c.Status, c.StatusMessage, c.ErrorType, c.HTTPStatus, s.FinishReasons,
		s.Input, s.Output, s.System, s.Attributes,
	}
}

// SpanTargets returns scan destinations in SpanColumns order: pointers into
// c, and the pointers in s (which the caller converts afterwards) for the
// backend-typed columns.
func SpanTargets(c *llmcall.Call, s Stored) []any {
	return []any{
		s.Start, s.End, &c.OrgID, &c.ProjectID, &c.TraceID, &c.SpanID, &c.ParentSpanID,
		&c.Name, &c.Kind, &c.Endpoint, &c.Environment, &c.ServiceName, &c.SessionID, &c.UserID, &c.LatencyMS, &c.TTFTMS,
		s.IsLLM, &c.Provider, &c.Operation, &c.RequestModel, &c.ResponseModel, &c.SourceConvention,
		&c.InputTokens, &c.OutputTokens, &c.TotalTokens, &c.CacheReadTokens, &c.CacheWriteTokens, &c.ReasoningTokens,
		&c.CostInputUSD, &c.CostOutputUSD, &c.CostTotalUSD, &c.CostSource, s.Unpriced,
		&c.Status, &c.StatusMessage, &c.ErrorType, &c.HTTPStatus, s.FinishReasons,
		s.Input, s.Output, s.System, s.Attributes,
	}
}

// SetJSON sets the JSON fields of c from stored bytes (nil for NULL),
// in canonical form (CanonicalJSON).
func SetJSON(c *llmcall.Call, input, output, system, attrs []byte) error {
	for _, f := range []struct {
		name string
		src  []byte
		dst  *json.RawMessage
	}{
		{"input_messages", input, &c.InputMessages},
		{"output_messages", output, &c.OutputMessages},
		{"system_instructions", system, &c.SystemInstructions},
		{"attributes", attrs, &c.Attributes},
	} {
		if IsNullJSON(f.src) {
			*f.dst = nil
			continue
		}
		v, err := CanonicalJSON(f.src)
		if err != nil {
			return fmt.Errorf("stored %s of span %s: %w", f.name, c.SpanID, err)
		}
		*f.dst = v
	}
	return nil
}

// NilIfEmpty returns nil for an empty slice, else s.
func NilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// Dialect is what differs between the backends in the shared read SQL.
type Dialect struct {
	// Placeholder returns the n-th (1-based) bind parameter: "?" or "$n".
	Placeholder func(n int) string
	// True is the boolean literal matching the partial index predicate.
	True string
	// TimeArg converts unix microseconds to a bind value for start_time.
	TimeArg func(us int64) any
	// StartMicros is an expression of start_time in unix microseconds.
	StartMicros string
}

type args struct {
	d    Dialect
	vals []any
}

func (a *args) add(v any) string {
	a.vals = append(a.vals, v)
	return a.d.Placeholder(len(a.vals))
}

// Cursor is the position after the last row of a page.
type Cursor struct {
	StartMicros int64
	SpanID      string
	TraceID     string
}

type cursorJSON struct {
	V int    `json:"v"`
	T int64  `json:"t"`
	S string `json:"s"`
	R string `json:"r"`
}

// EncodeCursor returns the opaque cursor continuing after c.
func EncodeCursor(c *llmcall.Call) string {
	b, _ := json.Marshal(cursorJSON{V: 1, T: c.StartTime.UnixMicro(), S: c.SpanID, R: c.TraceID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a cursor made by EncodeCursor; anything else is an
// ErrInvalidQuery.
func DecodeCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("%w: malformed cursor", storage.ErrInvalidQuery)
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil || c.V != 1 || c.S == "" {
		return Cursor{}, fmt.Errorf("%w: malformed cursor", storage.ErrInvalidQuery)
	}
	return Cursor{StartMicros: c.T, SpanID: c.S, TraceID: c.R}, nil
}

// CeilMicros returns t in unix microseconds rounded up, so that for a
// stored (whole-microsecond) time s: s >= t ⇔ micros(s) >= CeilMicros(t).
func CeilMicros(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// MicrosTime returns the UTC time of unix microseconds us.
func MicrosTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

func checkRange(projectID string, from, to time.Time) (int64, int64, error) {
	if projectID == "" {
		return 0, 0, fmt.Errorf("%w: project id is required", storage.ErrInvalidQuery)
	}
	if from.IsZero() || to.IsZero() {
		return 0, 0, fmt.Errorf("%w: time range is required (from and to)", storage.ErrInvalidQuery)
	}
	f, t := CeilMicros(from), CeilMicros(to)
	if t <= f {
		return 0, 0, fmt.Errorf("%w: time range is empty: to (%s) must be after from (%s)",
			storage.ErrInvalidQuery, to.UTC().Format(time.RFC3339Nano), from.UTC().Format(time.RFC3339Nano))
	}
	return f, t, nil
}

// ListPlan is a validated CallQuery.
type ListPlan struct {
	ProjectID               string
	FromUS, ToUS            int64
	Endpoint, Model, Status string
	Limit                   int
	After                   *Cursor
}

// PlanList validates q: a project, From and To set with To > From (both
// rounded up to the microsecond), Limit in 1..MaxLimit and a well-formed
// cursor; otherwise an error wrapping storage.ErrInvalidQuery.
func PlanList(q storage.CallQuery) (ListPlan, error) {
	f, t, err := checkRange(q.ProjectID, q.From, q.To)
	if err != nil {
		return ListPlan{}, err
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return ListPlan{}, fmt.Errorf("%w: limit %d out of range 1..%d", storage.ErrInvalidQuery, q.Limit, MaxLimit)
	}
	p := ListPlan{ProjectID: q.ProjectID, FromUS: f, ToUS: t, Endpoint: q.Endpoint, Model: q.Model, Status: q.Status, Limit: q.Limit}
	if q.Cursor != "" {
		c, err := DecodeCursor(q.Cursor)
		if err != nil {
			return ListPlan{}, err
		}
		p.After = &c
	}
	return p, nil
}

// SQL returns the page query: Limit+1 rows so Page knows whether another
// page follows.
func (p ListPlan) SQL(d Dialect) (string, []any) {
	a := &args{d: d}
	var b strings.Builder
	b.WriteString("SELECT " + SpanColumns + " FROM spans WHERE project_id = " + a.add(p.ProjectID) +
		" AND is_llm = " + d.True +
		" AND start_time >= " + a.add(d.TimeArg(p.FromUS)) +
		" AND start_time < " + a.add(d.TimeArg(p.ToUS)))
	if p.Endpoint != "" {
		b.WriteString(" AND endpoint = " + a.add(p.Endpoint))
	}
	if p.Model != "" {
		b.WriteString(" AND (request_model = " + a.add(p.Model) + " OR response_model = " + a.add(p.Model) + ")")
	}
	if p.Status != "" {
		b.WriteString(" AND status = " + a.add(p.Status))
	}
	if p.After != nil {
		b.WriteString(" AND (start_time, span_id, trace_id) < (" + a.add(d.TimeArg(p.After.StartMicros)) +
			", " + a.add(p.After.SpanID) + ", " + a.add(p.After.TraceID) + ")")
	}
	b.WriteString(" ORDER BY start_time DESC, span_id DESC, trace_id DESC LIMIT " + a.add(p.Limit+1))
	return b.String(), a.vals
}

// Page turns the rows of SQL into a page.
func (p ListPlan) Page(rows []llmcall.Call) storage.CallPage {
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		return storage.CallPage{Calls: rows, NextCursor: EncodeCursor(&rows[len(rows)-1])}
	}
	return storage.CallPage{Calls: rows}
}

// OverviewPlan is a validated OverviewQuery.
type OverviewPlan struct {
	ProjectID       string
	FromUS, ToUS    int64
	StepUS          int64
	Endpoint, Model string
}

// PlanOverview validates q: a project, a non-empty range, Step of at least
// a microsecond (rounded down to whole microseconds) and at most
// MaxBuckets buckets; otherwise an error wrapping storage.ErrInvalidQuery.
func PlanOverview(q storage.OverviewQuery) (OverviewPlan, error) {
	f, t, err := checkRange(q.ProjectID, q.From, q.To)
	if err != nil {
		return OverviewPlan{}, err
	}
	step := int64(q.Step / time.Microsecond)
	if step <= 0 {
		return OverviewPlan{}, fmt.Errorf("%w: step %s must be at least 1µs", storage.ErrInvalidQuery, q.Step)
	}
	if n := (t - f + step - 1) / step; n > MaxBuckets {
		return OverviewPlan{}, fmt.Errorf("%w: %d buckets of %s exceed the maximum of %d: use a larger step or a shorter range",
			storage.ErrInvalidQuery, n, q.Step, MaxBuckets)
	}
	return OverviewPlan{ProjectID: q.ProjectID, FromUS: f, ToUS: t, StepUS: step, Endpoint: q.Endpoint, Model: q.Model}, nil
}

// OverviewRow is one row of the overview SQL: the total (Total true) or one
// bucket.
type OverviewRow struct {
	Total                                  bool
	Bucket                                 int64
	Calls, Errors                          int64
	P50, P95, P99                          float64
	InputTokens, OutputTokens, TotalTokens int64
	CostUSD                                float64
	UnpricedCalls                          int64
}

// Targets returns scan destinations for one row of SQL's result; kind is
// scanned into the int64 *kind (0 total, 1 bucket).
func (r *OverviewRow) Targets(kind *int64) []any {
	return []any{kind, &r.Bucket, &r.Calls, &r.Errors, &r.P50, &r.P95, &r.P99,
		&r.InputTokens, &r.OutputTokens, &r.TotalTokens, &r.CostUSD, &r.UnpricedCalls}
}

// SQL returns one statement computing the total and every non-empty bucket
// (one snapshot, so the buckets add up to the total). Percentiles use the
// nearest rank ceil(p*n) computed in integers, (p*n+99)/100, so both
// databases pick the same row.
func (p OverviewPlan) SQL(d Dialect) (string, []any) {
	a := &args{d: d}
	// Placeholders are added in text order ("?" binds by position).
	bucket := "(" + d.StartMicros + " - CAST(" + a.add(p.FromUS) + " AS BIGINT)) / CAST(" + a.add(p.StepUS) + " AS BIGINT)"
	var w strings.Builder
	w.WriteString("project_id = " + a.add(p.ProjectID) + " AND is_llm = " + d.True +
		" AND start_time >= " + a.add(d.TimeArg(p.FromUS)) + " AND start_time < " + a.add(d.TimeArg(p.ToUS)))
	if p.Endpoint != "" {
		w.WriteString(" AND endpoint = " + a.add(p.Endpoint))
	}
	if p.Model != "" {
		w.WriteString(" AND (request_model = " + a.add(p.Model) + " OR response_model = " + a.add(p.Model) + ")")
	}
	agg := func(rn, n string) string {
		pct := func(q int) string {
			return fmt.Sprintf("COALESCE(MAX(CASE WHEN %s = (%d * %s + 99) / 100 THEN latency_ms END), 0)", rn, q, n)
		}
		return "CAST(COUNT(*) AS BIGINT), " +
			"CAST(COALESCE(SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END), 0) AS BIGINT), " +
			pct(50) + ", " + pct(95) + ", " + pct(99) + ", " +
			"CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT), " +
			"CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT), " +
			"CAST(COALESCE(SUM(total_tokens), 0) AS BIGINT), " +
			"COALESCE(SUM(cost_total_usd), 0), " +
			"CAST(COALESCE(SUM(CASE WHEN unpriced = " + d.True + " THEN 1 ELSE 0 END), 0) AS BIGINT)"
	}
	q := "WITH f AS (SELECT " + bucket + " AS bucket, latency_ms, status, input_tokens, output_tokens, total_tokens, cost_total_usd, unpriced" +
		" FROM spans WHERE " + w.String() + ")," +
		" r AS (SELECT f.*," +
		" ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY latency_ms) AS brn," +
		" COUNT(*) OVER (PARTITION BY bucket) AS bn," +
		" ROW_NUMBER() OVER (ORDER BY latency_ms) AS trn," +
		" COUNT(*) OVER () AS tn FROM f)" +
		" SELECT 0 AS kind, CAST(0 AS BIGINT) AS bucket, " + agg("trn", "tn") + " FROM r" +
		" UNION ALL" +
		" SELECT 1, bucket, " + agg("brn", "bn") + " FROM r GROUP BY bucket" +
		" ORDER BY 1, 2"
	return q, a.vals
}

// Build assembles the overview from the rows of SQL.
func (p OverviewPlan) Build(rows []OverviewRow) storage.Overview {
	var o storage.Overview
	o.Total.Start = MicrosTime(p.FromUS)
	for _, r := range rows {
		b := storage.Bucket{
			Start:         MicrosTime(p.FromUS + r.Bucket*p.StepUS),
			Calls:         r.Calls,
			Errors:        r.Errors,
			LatencyP50MS:  r.P50,
			LatencyP95MS:  r.P95,
			LatencyP99MS:  r.P99,
			InputTokens:   r.InputTokens,
			OutputTokens:  r.OutputTokens,
			TotalTokens:   r.TotalTokens,
			CostUSD:       r.CostUSD,
			UnpricedCalls: r.UnpricedCalls,
		}
		if b.Calls > 0 {
			b.ErrorRate = float64(b.Errors) / float64(b.Calls)
		}
		if r.Total {
			b.Start = o.Total.Start
			o.Total = b
			continue
		}
		if b.Calls > 0 {
			o.Buckets = append(o.Buckets, b)
		}
	}
	return o
}
