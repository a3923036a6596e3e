package genaiprocessor

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
)

// The content join: OTel GenAI instrumentations up to semconv 1.36 (and the
// opt-in gen_ai.client.inference.operation.details event of later ones)
// send message content as log records correlated with their span only by
// trace id and span id. The traces and logs instances of the processor
// with the same component ID share one joiner (see factory.go): an LLM span
// that arrives without content is held until its content has arrived or
// content_join.wait has passed; content that arrives first waits for its
// span as long. Everything is bounded; nothing waits without a deadline.

// Outcomes of a span that went through the join
// (observatory.genai.content_join.spans{outcome}).
const (
	outcomeJoined   = "joined"   // content was joined onto it
	outcomeTimeout  = "timeout"  // forwarded at the deadline without (all) content
	outcomeOverflow = "overflow" // no room to hold it: forwarded at once
	outcomeShutdown = "shutdown" // forwarded without content at shutdown
)

// Outcomes of a content log record
// (observatory.genai.content_join.log_records{outcome}).
const (
	recordJoined    = "joined"    // joined onto its span
	recordUnmatched = "unmatched" // waited content_join.wait; its span did not come
	recordOverflow  = "overflow"  // no room to keep it for joining
)

// joinKey names a span within a tenant: content of one tenant is never
// joined onto another tenant's span.
type joinKey struct {
	org, project string
	trace        pcommon.TraceID
	span         pcommon.SpanID
}

// tracesSide is one traces-pipeline instance of the processor: where its
// held spans go.
type tracesSide struct {
	p    *genaiProcessor
	next consumer.Traces
}

// requestInfo is the client info of one trace request, shared by the spans
// it had held so that they are forwarded together with it.
type requestInfo struct {
	info client.Info
}

type heldSpan struct {
	key      joinKey
	side     *tracesSide
	req      *requestInfo
	td       ptrace.Traces // one resource, scope and span
	deadline time.Time
	needIn   bool
	needOut  bool
	events   []contentEvent
	done     bool
}

type pendingContent struct {
	key      joinKey
	tel      *telemetry
	events   []contentEvent
	deadline time.Time
	done     bool
}

type forwardedEntry struct {
	key   joinKey
	until time.Time
}

// joiner is the join buffer of one component ID.
type joiner struct {
	cfg    ContentJoinConfig
	now    func() time.Time
	tick   time.Duration // sweep period; 0: no background sweep (tests)
	logger *zap.Logger

	mu          sync.Mutex
	refs        int // components created and not shut down
	tracesSides map[*tracesSide]struct{}
	running     int // traces sides started
	logsRunning int // logs sides started
	stop        chan struct{}
	stopped     chan struct{}

	held           map[joinKey]*heldSpan
	heldQ          []*heldSpan // by deadline
	pending        map[joinKey]*pendingContent
	pendingQ       []*pendingContent // by deadline
	pendingRecords int
	forwarded      map[joinKey]time.Time
	forwardedQ     []forwardedEntry
}

func newJoiner(cfg ContentJoinConfig, now func() time.Time, tick bool, logger *zap.Logger) *joiner {
	j := &joiner{
		cfg:         cfg,
		now:         now,
		logger:      logger,
		tracesSides: map[*tracesSide]struct{}{},
		held:        map[joinKey]*heldSpan{},
		pending:     map[joinKey]*pendingContent{},
		forwarded:   map[joinKey]time.Time{},
	}
	if tick {
		j.tick = min(max(cfg.Wait/8, 10*time.Millisecond), 250*time.Millisecond)
	}
	return j
}

// active reports whether spans may be held: the join is on and both a
// traces and a logs instance are running.
func (j *joiner) active() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.activeLocked()
}

func (j *joiner) activeLocked() bool {
	return j.cfg.Enabled && j.running > 0 && j.logsRunning > 0
}

// lateWindow is how long a forwarded span's key is remembered so that
// content arriving after it is counted as late.
func (j *joiner) lateWindow() time.Duration {
	return max(10*j.cfg.Wait, 30*time.Second)
}

func (j *joiner) startTraces(side *tracesSide) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.tracesSides[side] = struct{}{}
	j.running++
	if j.running == 1 && j.tick > 0 {
		j.stop, j.stopped = make(chan struct{}), make(chan struct{})
		go j.run(j.stop, j.stopped, j.tick)
	}
}

// shutdownTraces forwards what side still holds and stops the sweep when
// it was the last traces instance.
func (j *joiner) shutdownTraces(ctx context.Context, side *tracesSide) {
	j.mu.Lock()
	if _, ok := j.tracesSides[side]; !ok {
		j.mu.Unlock()
		return
	}
	delete(j.tracesSides, side)
	j.running--
	var stop, stopped chan struct{}
	if j.running == 0 && j.stop != nil {
		stop, stopped = j.stop, j.stopped
		j.stop, j.stopped = nil, nil
	}
	var flush []*heldSpan
	for _, h := range j.heldQ {
		if !h.done && h.side == side {
			h.done = true
			delete(j.held, h.key)
			flush = append(flush, h)
		}
	}
	j.mu.Unlock()
	if stop != nil {
		close(stop)
		<-stopped
	}
	j.release(ctx, flush, outcomeShutdown)
}

func (j *joiner) startLogs() {
	j.mu.Lock()
	j.logsRunning++
	j.mu.Unlock()
}

func (j *joiner) shutdownLogs() {
	j.mu.Lock()
	if j.logsRunning > 0 {
		j.logsRunning--
	}
	j.mu.Unlock()
}

func (j *joiner) run(stop <-chan struct{}, stopped chan<- struct{}, tick time.Duration) {
	defer close(stopped)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			j.sweep(context.Background())
		}
	}
}

// sweep forwards held spans whose deadline passed and forgets content and
// forwarded keys that expired.
func (j *joiner) sweep(ctx context.Context) {
	now := j.now()
	j.mu.Lock()
	var expired []*heldSpan
	for len(j.heldQ) > 0 {
		h := j.heldQ[0]
		if !h.done && h.deadline.After(now) {
			break
		}
		j.heldQ[0] = nil
		j.heldQ = j.heldQ[1:]
		if h.done {
			continue
		}
		h.done = true
		delete(j.held, h.key)
		j.markForwardedLocked(h.key, now)
		expired = append(expired, h)
	}
	type unmatched struct {
		tel *telemetry
		n   int
	}
	var lost []unmatched
	for len(j.pendingQ) > 0 {
		pc := j.pendingQ[0]
		if !pc.done && pc.deadline.After(now) {
			break
		}
		j.pendingQ[0] = nil
		j.pendingQ = j.pendingQ[1:]
		if pc.done {
			continue
		}
		pc.done = true
		delete(j.pending, pc.key)
		j.pendingRecords -= len(pc.events)
		lost = append(lost, unmatched{pc.tel, len(pc.events)})
	}
	for len(j.forwardedQ) > 0 && !j.forwardedQ[0].until.After(now) {
		e := j.forwardedQ[0]
		j.forwardedQ = j.forwardedQ[1:]
		if until, ok := j.forwarded[e.key]; ok && !until.After(now) {
			delete(j.forwarded, e.key)
		}
	}
	j.mu.Unlock()
	for _, u := range lost {
		u.tel.recordJoinRecords(ctx, recordUnmatched, u.n)
	}
	j.release(ctx, expired, outcomeTimeout)
}

// markForwardedLocked remembers that the span of key went on, so that
// content arriving later is counted as late. The set is bounded by
// max_pending_spans (the oldest entries go first).
func (j *joiner) markForwardedLocked(key joinKey, now time.Time) {
	until := now.Add(j.lateWindow())
	j.forwarded[key] = until
	j.forwardedQ = append(j.forwardedQ, forwardedEntry{key, until})
	for len(j.forwarded) > j.cfg.MaxPendingSpans && len(j.forwardedQ) > 0 {
		e := j.forwardedQ[0]
		j.forwardedQ = j.forwardedQ[1:]
		if j.forwarded[e.key] == e.until {
			delete(j.forwarded, e.key)
		}
	}
}

// satisfied reports whether events give what a held span still needs.
func satisfied(needIn, needOut bool, evs []contentEvent) bool {
	hasIn, hasOut := false, false
	for _, ev := range evs {
		hasIn = hasIn || ev.givesIn
		hasOut = hasOut || ev.givesOut
	}
	return (!needIn || hasIn) && (!needOut || hasOut)
}

// joinCandidate is an LLM span of a trace request that may get content.
type joinCandidate struct {
	key     joinKey
	res     pcommon.Resource
	scope   pcommon.InstrumentationScope
	span    ptrace.Span
	needIn  bool
	needOut bool

	// decision
	action int
	events []contentEvent
}

const (
	actionPass = iota // forward now, nothing to join (overflow)
	actionJoin        // forward now with the content that was waiting
	actionHold        // held: removed from the request
	actionDrop        // a duplicate of a span already held: removed
)

// claim decides, under one lock, what happens to the candidates of one
// request: content that waited is taken; spans are held or forwarded.
func (j *joiner) claim(side *tracesSide, req *requestInfo, cands []joinCandidate) (joined, overflow int) {
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range cands {
		c := &cands[i]
		if _, dup := j.held[c.key]; dup {
			c.action = actionDrop
			continue
		}
		var evs []contentEvent
		if pc, ok := j.pending[c.key]; ok && !pc.done {
			pc.done = true
			delete(j.pending, c.key)
			j.pendingRecords -= len(pc.events)
			evs = pc.events
		}
		switch {
		case len(evs) > 0 && satisfied(c.needIn, c.needOut, evs):
			c.action, c.events = actionJoin, evs
			j.markForwardedLocked(c.key, now)
			joined++
		case len(j.held) >= j.cfg.MaxPendingSpans:
			c.action, c.events = actionPass, evs
			if len(evs) > 0 {
				c.action = actionJoin
			}
			j.markForwardedLocked(c.key, now)
			overflow++
		default:
			c.action = actionHold
			td := ptrace.NewTraces()
			rs := td.ResourceSpans().AppendEmpty()
			c.res.CopyTo(rs.Resource())
			ss := rs.ScopeSpans().AppendEmpty()
			c.scope.CopyTo(ss.Scope())
			c.span.CopyTo(ss.Spans().AppendEmpty())
			h := &heldSpan{
				key: c.key, side: side, req: req, td: td,
				deadline: now.Add(j.cfg.Wait), needIn: c.needIn, needOut: c.needOut, events: evs,
			}
			j.held[c.key] = h
			j.heldQ = append(j.heldQ, h)
		}
	}
	return joined, overflow
}

// offer hands content log records, grouped by span, to the join. It
// returns the held spans whose content is now complete.
func (j *joiner) offer(ctx context.Context, tel *telemetry, groups map[joinKey][]contentEvent) {
	now := j.now()
	var done []*heldSpan
	var joined, late, overflow int
	j.mu.Lock()
	for key, evs := range groups {
		if h, ok := j.held[key]; ok && !h.done {
			h.events = append(h.events, evs...)
			joined += len(evs)
			if satisfied(h.needIn, h.needOut, h.events) {
				h.done = true
				delete(j.held, key)
				j.markForwardedLocked(key, now)
				done = append(done, h)
			}
			continue
		}
		if _, ok := j.forwarded[key]; ok {
			late += len(evs)
			continue
		}
		if j.pendingRecords+len(evs) > j.cfg.MaxPendingLogRecords {
			overflow += len(evs)
			continue
		}
		pc, ok := j.pending[key]
		if !ok {
			pc = &pendingContent{key: key, tel: tel, deadline: now.Add(j.cfg.Wait)}
			j.pending[key] = pc
			j.pendingQ = append(j.pendingQ, pc)
		}
		pc.events = append(pc.events, evs...)
		j.pendingRecords += len(evs)
	}
	j.mu.Unlock()
	tel.recordJoinRecords(ctx, recordJoined, joined)
	tel.recordJoinRecords(ctx, recordOverflow, overflow)
	tel.recordContentLate(ctx, late)
	j.release(ctx, done, outcomeJoined)
}

// release joins the content of held spans onto them and forwards them to
// their pipeline, the spans of one request together, with the request's
// client info.
func (j *joiner) release(ctx context.Context, hs []*heldSpan, outcome string) {
	if len(hs) == 0 {
		return
	}
	type group struct {
		side *tracesSide
		req  *requestInfo
	}
	var order []group
	batches := map[group]ptrace.Traces{}
	for _, h := range hs {
		if len(h.events) > 0 {
			rs := h.td.ResourceSpans().At(0)
			h.side.p.applyJoined(ctx, rs.Resource(), rs.ScopeSpans().At(0).Spans().At(0), h.events)
		}
		g := group{h.side, h.req}
		td, ok := batches[g]
		if !ok {
			td = ptrace.NewTraces()
			batches[g] = td
			order = append(order, g)
		}
		h.td.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
		o := outcome
		if outcome != outcomeJoined && len(h.events) > 0 && satisfied(h.needIn, h.needOut, h.events) {
			o = outcomeJoined
		}
		h.side.p.tel.recordJoinSpans(ctx, o, 1)
	}
	for _, g := range order {
		td := batches[g]
		rctx := client.NewContext(context.Background(), g.req.info)
		if err := g.side.next.ConsumeTraces(rctx, td); err != nil {
			j.logger.Warn("Forwarding spans held for content failed",
				zap.Int("spans", td.SpanCount()), zap.String("outcome", outcome), zap.Error(err))
		}
	}
}

// joinRegistry holds the joiners of a factory, by component ID. It lives in
// the factory (no package-level state): the traces and logs instances a
// collector creates from one factory for one ID share a joiner.
type joinRegistry struct {
	mu     sync.Mutex
	joins  map[component.ID]*joiner
	now    func() time.Time
	noTick bool // tests sweep by hand
}

func newJoinRegistry() *joinRegistry {
	return &joinRegistry{joins: map[component.ID]*joiner{}, now: time.Now}
}

// acquire returns the joiner of id, creating it, and counts a reference.
func (r *joinRegistry) acquire(id component.ID, cfg *Config, logger *zap.Logger) *joiner {
	r.mu.Lock()
	defer r.mu.Unlock()
	j, ok := r.joins[id]
	if !ok {
		j = newJoiner(cfg.ContentJoin, r.now, !r.noTick, logger)
		r.joins[id] = j
	}
	j.mu.Lock()
	j.refs++
	j.mu.Unlock()
	return j
}

// releaseRef drops a reference; the joiner of id is forgotten with the
// last one, so a collector reload starts afresh.
func (r *joinRegistry) releaseRef(id component.ID, j *joiner) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j.mu.Lock()
	j.refs--
	last := j.refs <= 0
	j.mu.Unlock()
	if last && r.joins[id] == j {
		delete(r.joins, id)
	}
}

// get returns the joiner of id (tests).
func (r *joinRegistry) get(id component.ID) *joiner {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.joins[id]
}
