package genaiprocessor

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Errors wrapped by the permanent errors the processor returns when it
// rejects a request; match them with errors.Is.
var (
	ErrAbsurdTimestamp = errors.New("absurd timestamp")
	ErrInvalidUTF8     = errors.New("invalid UTF-8")
)

// minStartTime: spans starting before 2000-01-01 are rejected (a zero or
// seconds-instead-of-nanoseconds timestamp).
var minStartTime = pcommon.NewTimestampFromTime(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))

// maxNameInError bounds how much of a span name an error message repeats.
const maxNameInError = 100

// rejection is why a request is refused.
type rejection struct {
	reason string // metric attribute
	err    error
}

// validateTraces checks every span of the request; the first problem
// rejects the whole request. now is the processor's clock.
func validateTraces(td ptrace.Traces, now time.Time, maxFutureSkew time.Duration) *rejection {
	maxStart := pcommon.NewTimestampFromTime(now.Add(maxFutureSkew))
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		if where, ok := validMap(rs.Resource().Attributes()); !ok {
			return utf8Rejection(fmt.Sprintf("resource attribute %s", where))
		}
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			if where, ok := validScope(ss.Scope()); !ok {
				return utf8Rejection(where)
			}
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				if r := validateSpan(spans.At(k), maxStart); r != nil {
					return r
				}
			}
		}
	}
	return nil
}

func validateSpan(span ptrace.Span, maxStart pcommon.Timestamp) *rejection {
	start, end := span.StartTimestamp(), span.EndTimestamp()
	switch {
	case start < minStartTime:
		return &rejection{reasonAbsurdTimestamp, fmt.Errorf("%s: start time %s is before %s: %w",
			describeSpan(span), formatTS(start), formatTS(minStartTime), ErrAbsurdTimestamp)}
	case start > maxStart:
		return &rejection{reasonAbsurdTimestamp, fmt.Errorf("%s: start time %s is more than the allowed skew in the future (latest accepted %s): %w",
			describeSpan(span), formatTS(start), formatTS(maxStart), ErrAbsurdTimestamp)}
	case end < start:
		return &rejection{reasonAbsurdTimestamp, fmt.Errorf("%s: end time %s is before start time %s: %w",
			describeSpan(span), formatTS(end), formatTS(start), ErrAbsurdTimestamp)}
	}
	if !utf8.ValidString(span.Name()) {
		return &rejection{reasonInvalidUTF8, fmt.Errorf("%s: span name: %w", describeSpan(span), ErrInvalidUTF8)}
	}
	if where, ok := validMap(span.Attributes()); !ok {
		return &rejection{reasonInvalidUTF8, fmt.Errorf("%s: attribute %s: %w", describeSpan(span), where, ErrInvalidUTF8)}
	}
	if !utf8.ValidString(span.Status().Message()) {
		return &rejection{reasonInvalidUTF8, fmt.Errorf("%s: status message: %w", describeSpan(span), ErrInvalidUTF8)}
	}
	if !utf8.ValidString(span.TraceState().AsRaw()) {
		return &rejection{reasonInvalidUTF8, fmt.Errorf("%s: trace state: %w", describeSpan(span), ErrInvalidUTF8)}
	}
	events := span.Events()
	for i := 0; i < events.Len(); i++ {
		e := events.At(i)
		if !utf8.ValidString(e.Name()) {
			return &rejection{reasonInvalidUTF8, fmt.Errorf("%s: event %d name: %w", describeSpan(span), i, ErrInvalidUTF8)}
		}
		if where, ok := validMap(e.Attributes()); !ok {
			return &rejection{reasonInvalidUTF8, fmt.Errorf("%s: event %q attribute %s: %w", describeSpan(span), e.Name(), where, ErrInvalidUTF8)}
		}
	}
	links := span.Links()
	for i := 0; i < links.Len(); i++ {
		l := links.At(i)
		if where, ok := validMap(l.Attributes()); !ok {
			return &rejection{reasonInvalidUTF8, fmt.Errorf("%s: link %d attribute %s: %w", describeSpan(span), i, where, ErrInvalidUTF8)}
		}
		if !utf8.ValidString(l.TraceState().AsRaw()) {
			return &rejection{reasonInvalidUTF8, fmt.Errorf("%s: link %d trace state: %w", describeSpan(span), i, ErrInvalidUTF8)}
		}
	}
	return nil
}

// validateLogs checks the strings of every log record of the request.
func validateLogs(ld plog.Logs) *rejection {
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		if where, ok := validMap(rl.Resource().Attributes()); !ok {
			return utf8Rejection(fmt.Sprintf("resource attribute %s", where))
		}
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			if where, ok := validScope(sl.Scope()); !ok {
				return utf8Rejection(where)
			}
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				var problem string
				if !utf8.ValidString(lr.EventName()) {
					problem = "event name"
				} else if !utf8.ValidString(lr.SeverityText()) {
					problem = "severity text"
				} else if where, ok := validValue(lr.Body()); !ok {
					problem = "body" + where
				} else if where, ok := validMap(lr.Attributes()); !ok {
					problem = "attribute " + where
				}
				if problem != "" {
					return &rejection{reasonInvalidUTF8, fmt.Errorf("%s: %s: %w", describeLogRecord(lr, k), problem, ErrInvalidUTF8)}
				}
			}
		}
	}
	return nil
}

func utf8Rejection(where string) *rejection {
	return &rejection{reasonInvalidUTF8, fmt.Errorf("%s: %w", where, ErrInvalidUTF8)}
}

func validScope(s pcommon.InstrumentationScope) (string, bool) {
	if !utf8.ValidString(s.Name()) || !utf8.ValidString(s.Version()) {
		return "instrumentation scope name or version", false
	}
	if where, ok := validMap(s.Attributes()); !ok {
		return "instrumentation scope attribute " + where, false
	}
	return "", true
}

// validMap reports whether all keys and string values (recursively) are
// valid UTF-8; if not, it returns where the first bad string is.
func validMap(m pcommon.Map) (string, bool) {
	for k, v := range m.All() {
		if !utf8.ValidString(k) {
			return fmt.Sprintf("key %q", truncate(k)), false
		}
		if where, ok := validValue(v); !ok {
			return fmt.Sprintf("%q%s", truncate(k), where), false
		}
	}
	return "", true
}

func validValue(v pcommon.Value) (string, bool) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if !utf8.ValidString(v.Str()) {
			return " (string value)", false
		}
	case pcommon.ValueTypeMap:
		if where, ok := validMap(v.Map()); !ok {
			return " > " + where, false
		}
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			if where, ok := validValue(s.At(i)); !ok {
				return fmt.Sprintf("[%d]%s", i, where), false
			}
		}
	}
	return "", true
}

// describeSpan names a span in an error message. The name is quoted with
// %q, so invalid UTF-8 shows as escapes.
func describeSpan(span ptrace.Span) string {
	return fmt.Sprintf("span %q (trace_id %s, span_id %s)", truncate(span.Name()), span.TraceID(), span.SpanID())
}

func describeLogRecord(lr plog.LogRecord, index int) string {
	s := fmt.Sprintf("log record %d", index)
	if !lr.TraceID().IsEmpty() {
		s += fmt.Sprintf(" (trace_id %s, span_id %s)", lr.TraceID(), lr.SpanID())
	}
	return s
}

func truncate(s string) string {
	if len(s) <= maxNameInError {
		return s
	}
	return s[:maxNameInError] + "..."
}

func formatTS(ts pcommon.Timestamp) string {
	return ts.AsTime().UTC().Format(time.RFC3339Nano)
}
