package genaiprocessor

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"go.opentelemetry.io/collector/component"

	"github.com/llm-observatory/observatory/processors/genaiprocessor/internal/metadata"
)

// issueReason is why a span attribute was not usable as sent. The set is
// closed, so the metric attribute stays low-cardinality.
type issueReason int

const (
	issueWrongType               issueReason = iota // not convertible to the field's type
	issueNegativeValue                              // a token count below 0
	issueAbsurdValue                                // a token count above normalize.max_token_count
	issueOutOfRange                                 // outside the field's min/max
	issueNonFinite                                  // NaN or ±Inf
	issueInvalidJSON                                // content that is not valid JSON
	issueConflictingAlias                           // an alias disagrees with the value used
	issueInputExcludedCache                         // input tokens did not include cached tokens; they were added
	issueOutputExcludedReasoning                    // output tokens did not include reasoning tokens; they were added
	issueInconsistentTotal                          // total tokens below input + output (kept as sent)
	issueTruncated                                  // content longer than normalize.max_content_bytes was cut
	numIssueReasons
)

var issueReasonNames = [numIssueReasons]string{
	issueWrongType:               "wrong_type",
	issueNegativeValue:           "negative_value",
	issueAbsurdValue:             "absurd_value",
	issueOutOfRange:              "out_of_range",
	issueNonFinite:               "non_finite",
	issueInvalidJSON:             "invalid_json",
	issueConflictingAlias:        "conflicting_alias",
	issueInputExcludedCache:      "input_excluded_cache",
	issueOutputExcludedReasoning: "output_excluded_reasoning",
	issueInconsistentTotal:       "inconsistent_total",
	issueTruncated:               "truncated",
}

func (r issueReason) String() string { return issueReasonNames[r] }

// Rejection reasons (observatory.ingest.rejected{reason}).
const (
	reasonAbsurdTimestamp = "absurd_timestamp"
	reasonInvalidUTF8     = "invalid_utf8"
)

// batchStats are counted while a batch is processed and recorded once.
type batchStats struct {
	llm, plain, unpriced int64
	issues               [numIssueReasons]int64
}

// telemetry records the component's own metrics through the
// MeterProvider of its TelemetrySettings. Attribute sets are built once.
type telemetry struct {
	tb               *metadata.TelemetryBuilder
	kindLLM          metric.AddOption
	kindPlain        metric.AddOption
	rejectTimestamp  metric.AddOption
	rejectUTF8       metric.AddOption
	issueAttrs       [numIssueReasons]metric.AddOption
	noAttrs          metric.AddOption
	rejectionReasons map[string]metric.AddOption
	outcomes         map[string]metric.AddOption
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	t := &telemetry{
		tb:              tb,
		kindLLM:         metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", "llm"))),
		kindPlain:       metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", "plain"))),
		rejectTimestamp: metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reasonAbsurdTimestamp))),
		rejectUTF8:      metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reasonInvalidUTF8))),
		noAttrs:         metric.WithAttributeSet(attribute.NewSet()),
	}
	t.rejectionReasons = map[string]metric.AddOption{
		reasonAbsurdTimestamp: t.rejectTimestamp,
		reasonInvalidUTF8:     t.rejectUTF8,
	}
	t.outcomes = map[string]metric.AddOption{}
	for _, o := range []string{outcomeJoined, outcomeTimeout, outcomeOverflow, outcomeShutdown, recordUnmatched} {
		t.outcomes[o] = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", o)))
	}
	for i := range t.issueAttrs {
		t.issueAttrs[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", issueReasonNames[i])))
	}
	return t, nil
}

func (t *telemetry) recordBatch(ctx context.Context, s *batchStats) {
	if s.llm > 0 {
		t.tb.ObservatoryGenaiSpans.Add(ctx, s.llm, t.kindLLM)
	}
	if s.plain > 0 {
		t.tb.ObservatoryGenaiSpans.Add(ctx, s.plain, t.kindPlain)
	}
	if s.unpriced > 0 {
		t.tb.ObservatoryGenaiUnpriced.Add(ctx, s.unpriced, t.noAttrs)
	}
	for i, n := range s.issues {
		if n > 0 {
			t.tb.ObservatoryGenaiNormalizeIssues.Add(ctx, n, t.issueAttrs[i])
		}
	}
}

// recordIssues records only the issues of s (a span normalised again after
// a content join is not counted twice).
func (t *telemetry) recordIssues(ctx context.Context, s *batchStats) {
	for i, n := range s.issues {
		if n > 0 {
			t.tb.ObservatoryGenaiNormalizeIssues.Add(ctx, n, t.issueAttrs[i])
		}
	}
}

func (t *telemetry) recordJoinSpans(ctx context.Context, outcome string, n int) {
	if n > 0 {
		t.tb.ObservatoryGenaiContentJoinSpans.Add(ctx, int64(n), t.outcomes[outcome])
	}
}

func (t *telemetry) recordJoinRecords(ctx context.Context, outcome string, n int) {
	if n > 0 {
		t.tb.ObservatoryGenaiContentJoinLogRecords.Add(ctx, int64(n), t.outcomes[outcome])
	}
}

func (t *telemetry) recordContentLate(ctx context.Context, n int) {
	if n > 0 {
		t.tb.ObservatoryGenaiContentLate.Add(ctx, int64(n), t.noAttrs)
	}
}

func (t *telemetry) recordRejectedSpans(ctx context.Context, reason string, n int) {
	t.tb.ObservatoryIngestRejected.Add(ctx, int64(n), t.rejectionReasons[reason])
}

func (t *telemetry) recordRejectedLogRecords(ctx context.Context, reason string, n int) {
	t.tb.ObservatoryIngestRejectedLogRecords.Add(ctx, int64(n), t.rejectionReasons[reason])
}

func (t *telemetry) shutdown() {
	t.tb.Shutdown()
}
