// Package storeutil is what the SQLite and PostgreSQL stores share so that
// they behave identically: record normalisation, canonical JSON, query
// validation, cursors and the SQL of the list and overview reads (with a
// small dialect for the differences).
package storeutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

// minYear and maxYear bound the times a record may carry: four-digit years,
// which both databases (and the YYYYMMDD partition names) represent.
const (
	minYear = 1
	maxYear = 9999
)

type recordKey struct {
	start                int64
	project, trace, span string
}

// NormalizeCalls returns the storable form of the valid records of calls
// (see NormalizeCall), without repeated keys (the first occurrence of a
// (start time, project, trace, span) key wins, as when it is written again
// in a later batch) and, when some records are invalid, an error wrapping
// storage.ErrInvalidRecord that counts them and describes the first. The
// input is not modified.
func NormalizeCalls(calls []llmcall.Call) ([]llmcall.Call, error) {
	out := make([]llmcall.Call, 0, len(calls))
	seen := make(map[recordKey]struct{}, len(calls))
	var (
		bad   int
		first error
	)
	for i := range calls {
		c, err := NormalizeCall(calls[i])
		if err != nil {
			bad++
			if first == nil {
				first = fmt.Errorf("record %d (project %q, trace %q, span %q): %w",
					i, calls[i].ProjectID, calls[i].TraceID, calls[i].SpanID, err)
			}
			continue
		}
		k := recordKey{c.StartTime.UnixMicro(), c.ProjectID, c.TraceID, c.SpanID}
		if _, dup := seen[k]; dup {
			continue // the first occurrence in a batch wins, as across batches
		}
		seen[k] = struct{}{}
		out = append(out, c)
	}
	if bad > 0 {
		return out, fmt.Errorf("%w: %d of %d records rejected (the others were written); first: %w",
			storage.ErrInvalidRecord, bad, len(calls), first)
	}
	return out, nil
}

// NormalizeCall validates c and returns the form both stores write, which
// is also exactly what reads return:
//
//   - ProjectID, TraceID, SpanID are required, StartTime must be set; both
//     times must have a year in 1..9999 and HTTPStatus must fit 32 bits.
//   - Times are UTC, truncated to the microsecond.
//   - Strings are valid UTF-8 without NUL bytes: invalid sequences become
//     U+FFFD and NUL bytes are removed (PostgreSQL text cannot hold either).
//   - Non-finite floats (NaN, ±Inf) become 0.
//   - An empty FinishReasons is nil.
//   - JSON fields must be valid JSON; empty, whitespace-only or the JSON
//     literal null become nil (SQL NULL). JSON containing \u escapes or
//     invalid UTF-8 is rewritten in canonical form (see CanonicalJSON) so
//     that PostgreSQL accepts it.
func NormalizeCall(c llmcall.Call) (llmcall.Call, error) {
	switch {
	case c.ProjectID == "":
		return c, errors.New("missing project id")
	case c.TraceID == "":
		return c, errors.New("missing trace id")
	case c.SpanID == "":
		return c, errors.New("missing span id")
	case c.StartTime.IsZero():
		return c, errors.New("missing start time")
	}
	c.StartTime = NormalizeTime(c.StartTime)
	c.EndTime = NormalizeTime(c.EndTime)
	for _, t := range []time.Time{c.StartTime, c.EndTime} {
		if y := t.Year(); y < minYear || y > maxYear {
			return c, fmt.Errorf("time %s out of range (years %d..%d)", t.Format(time.RFC3339Nano), minYear, maxYear)
		}
	}
	if c.HTTPStatus < math.MinInt32 || c.HTTPStatus > math.MaxInt32 {
		return c, fmt.Errorf("http status %d out of range", c.HTTPStatus)
	}

	for _, p := range []*string{
		&c.OrgID, &c.ProjectID, &c.Endpoint, &c.Environment, &c.ServiceName,
		&c.TraceID, &c.SpanID, &c.ParentSpanID, &c.Name, &c.Kind, &c.SessionID, &c.UserID,
		&c.Provider, &c.Operation, &c.RequestModel, &c.ResponseModel, &c.SourceConvention,
		&c.CostSource, &c.Status, &c.StatusMessage, &c.ErrorType,
	} {
		*p = CleanString(*p)
	}
	for _, p := range []*float64{&c.LatencyMS, &c.TTFTMS, &c.CostInputUSD, &c.CostOutputUSD, &c.CostTotalUSD} {
		if math.IsNaN(*p) || math.IsInf(*p, 0) {
			*p = 0
		}
	}
	if len(c.FinishReasons) == 0 {
		c.FinishReasons = nil
	} else {
		fr := make([]string, len(c.FinishReasons))
		for i, s := range c.FinishReasons {
			fr[i] = CleanString(s)
		}
		c.FinishReasons = fr
	}
	for _, f := range []struct {
		name string
		p    *json.RawMessage
	}{
		{"input_messages", &c.InputMessages},
		{"output_messages", &c.OutputMessages},
		{"system_instructions", &c.SystemInstructions},
		{"attributes", &c.Attributes},
	} {
		v, err := normalizeJSONForWrite(*f.p)
		if err != nil {
			return c, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.p = v
	}
	return c, nil
}

// NormalizeTime returns t in UTC truncated to the microsecond, the form in
// which every stored time is returned.
func NormalizeTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// CleanString returns s as valid UTF-8 without NUL bytes.
func CleanString(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// IsNullJSON reports whether raw stands for "no value": empty, whitespace
// or the literal null.
func IsNullJSON(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

func normalizeJSONForWrite(raw json.RawMessage) (json.RawMessage, error) {
	if IsNullJSON(raw) {
		return nil, nil
	}
	if !json.Valid(raw) {
		return nil, errors.New("invalid JSON")
	}
	if bytes.Contains(raw, []byte(`\u`)) || !utf8.Valid(raw) {
		return CanonicalJSON(raw)
	}
	return raw, nil
}

// CanonicalJSON rewrites a JSON document in the one form both stores return:
// compact, object keys sorted (as encoding/json sorts map keys; a repeated
// key keeps its last value), strings as valid UTF-8 without NUL characters
// and without HTML escaping, numbers as PostgreSQL's numeric type prints
// them (no exponent, no negative zero, e.g. 1e2 → 100, 1.50e-1 → 0.150),
// so that jsonb storage and text storage read back byte for byte the same.
func CanonicalJSON(raw []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid JSON: data after the top-level value")
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(canonicalValue(v)); err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func canonicalValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(x))
		for _, k := range keys {
			out[CleanString(k)] = canonicalValue(x[k])
		}
		return out
	case []any:
		for i := range x {
			x[i] = canonicalValue(x[i])
		}
		return x
	case string:
		return CleanString(x)
	case json.Number:
		return json.Number(CanonicalNumber(string(x)))
	default:
		return v
	}
}

// CanonicalNumber returns the JSON number literal s as PostgreSQL's numeric
// output prints it: plain decimal notation keeping the literal's scale
// (digits after the point, less the exponent, at least 0), no leading
// zeros, no sign on zero. A literal it cannot parse, or with an exponent
// beyond ±100000, is returned unchanged.
func CanonicalNumber(s string) string {
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	intDigits := s[i:j]
	var frac string
	if j < len(s) && s[j] == '.' {
		k := j + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		frac = s[j+1 : k]
		j = k
	}
	exp := 0
	hasExp := false
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		e, err := strconv.Atoi(strings.TrimPrefix(s[j+1:], "+"))
		if err != nil || e > 100000 || e < -100000 {
			return s
		}
		exp, hasExp = e, true
		j = len(s)
	}
	if j != len(s) || intDigits == "" {
		return s
	}
	if !hasExp && !neg {
		return s // already canonical (JSON forbids leading zeros)
	}
	digits := intDigits + frac
	point := len(intDigits) + exp
	scale := len(frac) - exp
	if scale < 0 {
		scale = 0
	}
	var ip, fp string
	switch {
	case point <= 0:
		fp = strings.Repeat("0", -point) + digits
	case point >= len(digits):
		ip = digits + strings.Repeat("0", point-len(digits))
	default:
		ip, fp = digits[:point], digits[point:]
	}
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	if len(fp) > scale {
		fp = fp[:scale]
	}
	if len(fp) < scale {
		fp += strings.Repeat("0", scale-len(fp))
	}
	var b strings.Builder
	if neg && strings.Trim(ip+fp, "0") != "" {
		b.WriteByte('-')
	}
	b.WriteString(ip)
	if fp != "" {
		b.WriteByte('.')
		b.WriteString(fp)
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
