package genaiprocessor

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

// genaiProcessor holds what the traces and logs processing functions share.
// It is safe for concurrent use: everything but the telemetry and the join
// buffer (which locks) is read-only after construction.
type genaiProcessor struct {
	cfg     *Config
	logger  *zap.Logger
	mapping *compiledMapping
	prices  Table
	tel     *telemetry
	// now is the clock of the future-skew check; tests replace it.
	now func() time.Time
	// join is the content join buffer shared with the other signal's
	// instance of the same component ID; nil when built without the
	// factory. side is set on a traces instance.
	join *joiner
	side *tracesSide
}

func newGenAIProcessor(set processor.Settings, cfg *Config) (*genaiProcessor, error) {
	mapping, err := loadMapping(cfg.Normalize.MappingFile)
	if err != nil {
		return nil, fmt.Errorf("genai processor: %w", err)
	}
	prices, err := loadPrices(cfg.Cost.PriceTableFile)
	if err != nil {
		return nil, fmt.Errorf("genai processor: %w", err)
	}
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("genai processor: telemetry: %w", err)
	}
	return &genaiProcessor{
		cfg:     cfg,
		logger:  set.Logger,
		mapping: mapping,
		prices:  prices,
		tel:     tel,
		now:     time.Now,
	}, nil
}

func (p *genaiProcessor) start(context.Context, component.Host) error {
	p.logger.Info("GenAI processor started",
		zap.String("mapping_version", p.mapping.version),
		zap.Strings("price_table_versions", p.prices.Versions()),
		zap.Int("priced_models", p.prices.Len()),
		zap.Bool("trust_resource_attributes", p.cfg.Tenant.TrustResourceAttributes),
	)
	return nil
}

func (p *genaiProcessor) shutdown(context.Context) error {
	if p.tel != nil {
		p.tel.shutdown()
	}
	return nil
}

// processTraces validates the request (a bad span rejects it with a
// permanent error, which the OTLP receiver answers with HTTP 400 / gRPC
// InvalidArgument), stamps the tenant on every resource and normalises every
// GenAI span. LLM spans that may still get content from log records are
// held by the join buffer and removed from the request (they are forwarded
// later by the buffer).
func (p *genaiProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	if rej := validateTraces(td, p.now(), p.cfg.Validation.MaxFutureSkew); rej != nil {
		n := td.SpanCount()
		p.tel.recordRejectedSpans(ctx, rej.reason, n)
		p.logger.Debug("Rejected trace request", zap.String("reason", rej.reason), zap.Int("spans", n), zap.Error(rej.err))
		return td, consumererror.NewPermanent(invalidArgument{rej.err})
	}
	t := tenantFromContext(ctx)
	var stats batchStats
	w := p.newWork(&stats)
	joining := p.side != nil && p.join.active()
	var cands []joinCandidate
	var pos [][3]int
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := rs.Resource()
		p.stampTenant(res, t)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				if !p.normalizeSpan(res, span, w) {
					stats.plain++
					continue
				}
				stats.llm++
				if !joining {
					continue
				}
				if needIn, needOut, ok := p.joinNeeds(span); ok {
					cands = append(cands, joinCandidate{
						key: spanKey(res, span), res: res, scope: sss.At(j).Scope(), span: span,
						needIn: needIn, needOut: needOut,
					})
					pos = append(pos, [3]int{i, j, k})
				}
			}
		}
	}
	p.tel.recordBatch(ctx, &stats)
	if len(cands) == 0 {
		return td, nil
	}
	return p.joinTraces(ctx, td, cands, pos)
}

// joinTraces hands the request's join candidates to the join buffer, joins
// content that was already waiting and removes the spans now held.
func (p *genaiProcessor) joinTraces(ctx context.Context, td ptrace.Traces, cands []joinCandidate, pos [][3]int) (ptrace.Traces, error) {
	req := &requestInfo{info: client.FromContext(ctx)}
	joined, overflow := p.join.claim(p.side, req, cands)
	remove := map[[3]int]struct{}{}
	records := 0
	for ci, c := range cands {
		switch c.action {
		case actionJoin:
			p.applyJoined(ctx, c.res, c.span, c.events)
			records += len(c.events)
		case actionHold, actionDrop:
			remove[pos[ci]] = struct{}{}
		}
	}
	p.tel.recordJoinSpans(ctx, outcomeJoined, joined)
	p.tel.recordJoinSpans(ctx, outcomeOverflow, overflow)
	p.tel.recordJoinRecords(ctx, recordJoined, records)
	if len(remove) == 0 {
		return td, nil
	}
	removeSpans(td, remove)
	if td.SpanCount() == 0 {
		// Everything is held: nothing goes on now.
		return td, processorhelper.ErrSkipProcessingData
	}
	return td, nil
}

// removeSpans removes the spans at the given (resource, scope, span)
// positions, and the resources and scopes left empty.
func removeSpans(td ptrace.Traces, remove map[[3]int]struct{}) {
	i := -1
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		i++
		j := -1
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			j++
			k := -1
			ss.Spans().RemoveIf(func(ptrace.Span) bool {
				k++
				_, ok := remove[[3]int{i, j, k}]
				return ok
			})
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
}

// spanKey is the join key of a span whose resource carries its tenant.
func spanKey(res pcommon.Resource, span ptrace.Span) joinKey {
	ra := res.Attributes()
	return joinKey{
		org: stringAttr(ra, llmcall.AttrOrgID), project: stringAttr(ra, llmcall.AttrProjectID),
		trace: span.TraceID(), span: span.SpanID(),
	}
}

func stringAttr(m pcommon.Map, key string) string {
	if v, ok := m.Get(key); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}

// joinNeeds reports whether a normalised LLM span may still get content
// from log records, and what it lacks: a span of a join operation without
// input messages, or without output messages (unless it failed).
func (p *genaiProcessor) joinNeeds(span ptrace.Span) (needIn, needOut, ok bool) {
	if span.TraceID().IsEmpty() || span.SpanID().IsEmpty() {
		return false, false, false
	}
	attrs := span.Attributes()
	op, found := attrs.Get(llmcall.AttrOperation)
	if !found || op.Type() != pcommon.ValueTypeStr {
		return false, false, false
	}
	if _, join := p.mapping.joinOps[op.Str()]; !join {
		return false, false, false
	}
	needIn = !hasContentValue(attrs, llmcall.AttrInputMessages)
	needOut = !hasContentValue(attrs, llmcall.AttrOutputMessages) && span.Status().Code() != ptrace.StatusCodeError
	return needIn, needOut, needIn || needOut
}

// applyJoined writes content from log records (or events) onto a span that
// lacks it and normalises the span again (content cap, finish reasons).
func (p *genaiProcessor) applyJoined(ctx context.Context, res pcommon.Resource, span ptrace.Span, evs []contentEvent) {
	var stats batchStats
	w := p.newWork(&stats)
	conv := &contentConv{m: p.mapping, issue: w.issue}
	ec := conv.fromEvents(evs)
	attrs := span.Attributes()
	wrote := false
	put := func(key string, b []byte) {
		if b != nil && !hasContentValue(attrs, key) {
			attrs.PutStr(key, string(b))
			wrote = true
		}
	}
	if ec.detailsIn != nil {
		put(llmcall.AttrInputMessages, ec.detailsIn)
	} else if ec.hasIn {
		put(llmcall.AttrInputMessages, appendMessages(nil, ec.in, false))
	}
	put(llmcall.AttrSystemInstructions, ec.detailsSys)
	var finish []string
	if !hasContentValue(attrs, llmcall.AttrOutputMessages) {
		if ec.detailsOut != nil {
			put(llmcall.AttrOutputMessages, ec.detailsOut)
			finish = finishOfJSON(conv, ec.detailsOut)
		} else if ec.hasOut {
			fillFinishReasons(ec.out, p.peekFinishReasons(attrs))
			put(llmcall.AttrOutputMessages, appendMessages(nil, ec.out, true))
			for _, m := range ec.out {
				if m.finish != "" {
					finish = append(finish, m.finish)
				}
			}
		}
	}
	if !wrote {
		return
	}
	if _, ok := attrs.Get(llmcall.AttrFinishReasons); !ok && len(finish) > 0 {
		s := attrs.PutEmptySlice(llmcall.AttrFinishReasons)
		for _, f := range finish {
			s.AppendEmpty().SetStr(f)
		}
	}
	attrs.PutStr(attrContentSource, contentSourceLogRecords)
	if ec.convention != "" {
		if v, ok := attrs.Get(llmcall.AttrSourceConvention); ok && v.Type() == pcommon.ValueTypeStr &&
			slices.Contains(p.mapping.joinedReplaces, v.Str()) {
			attrs.PutStr(llmcall.AttrSourceConvention, ec.convention)
		}
	}
	p.normalizeSpan(res, span, w)
	p.tel.recordIssues(ctx, &stats)
}

// contentSourceLogRecords is observatory.content.source of a span whose
// content was joined from log records.
const contentSourceLogRecords = "log_records"

// processLogs validates the strings of every log record and stamps the
// tenant on every resource. When the join is active, content log records
// are copied into the join buffer for their spans; the records themselves
// go on down the logs pipeline unchanged.
func (p *genaiProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	if rej := validateLogs(ld); rej != nil {
		n := ld.LogRecordCount()
		p.tel.recordRejectedLogRecords(ctx, rej.reason, n)
		p.logger.Debug("Rejected log request", zap.String("reason", rej.reason), zap.Int("log_records", n), zap.Error(rej.err))
		return ld, consumererror.NewPermanent(invalidArgument{rej.err})
	}
	t := tenantFromContext(ctx)
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		p.stampTenant(rls.At(i).Resource(), t)
	}
	if p.join != nil && p.join.active() {
		if groups := p.logContent(ld); len(groups) > 0 {
			p.join.offer(ctx, p.tel, groups)
		}
	}
	return ld, nil
}

// logContent collects the content log records of a request by span.
func (p *genaiProcessor) logContent(ld plog.Logs) map[joinKey][]contentEvent {
	var groups map[joinKey][]contentEvent
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		ra := rl.Resource().Attributes()
		org, project := stringAttr(ra, llmcall.AttrOrgID), stringAttr(ra, llmcall.AttrProjectID)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				if lr.TraceID().IsEmpty() || lr.SpanID().IsEmpty() {
					continue
				}
				name := lr.EventName()
				if name == "" {
					name = stringAttr(lr.Attributes(), "event.name")
				}
				spec := p.mapping.events[name]
				if spec == nil {
					continue
				}
				ev := logContentEvent(name, spec, lr)
				if groups == nil {
					groups = map[joinKey][]contentEvent{}
				}
				key := joinKey{org: org, project: project, trace: lr.TraceID(), span: lr.SpanID()}
				groups[key] = append(groups[key], ev)
			}
		}
	}
	return groups
}

// logContentEvent copies the content of a log record into Go values.
func logContentEvent(name string, spec *contentEventSpec, lr plog.LogRecord) contentEvent {
	ev := contentEvent{name: name, spec: spec, body: decodeBody(lr.Body())}
	switch spec.kind {
	case eventDetails:
		ev.attrs = lr.Attributes().AsRaw()
		has := func(key string) bool {
			if v, ok := ev.attrs[key]; ok && v != nil && v != "" {
				return true
			}
			b, _ := ev.body.(map[string]any)
			return b[key] != nil
		}
		ev.givesIn = has(llmcall.AttrInputMessages) || has(llmcall.AttrSystemInstructions)
		ev.givesOut = has(llmcall.AttrOutputMessages)
	case eventMessage:
		ev.givesIn = true
	case eventChoice:
		ev.givesOut = true
	}
	if spec.kind != eventDetails {
		if b, ok := ev.body.(map[string]any); ev.body == nil || ok && len(b) == 0 {
			// Some emitters put the body fields in attributes.
			a := lr.Attributes().AsRaw()
			delete(a, "event.name")
			ev.body = a
		}
	}
	return ev
}

// invalidArgument marks a rejection as the client's fault: the OTLP
// receiver reads its gRPC status and answers InvalidArgument / HTTP 400
// (a bare permanent error would be answered as a server error).
type invalidArgument struct{ err error }

func (e invalidArgument) Error() string { return e.err.Error() }
func (e invalidArgument) Unwrap() error { return e.err }
func (e invalidArgument) GRPCStatus() *status.Status {
	return status.New(codes.InvalidArgument, e.err.Error())
}
